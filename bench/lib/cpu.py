#!/usr/bin/python3
"""CPU seconds used so far by a process and all its descendants: the sum, over every live process of the tree, of
user + system time and the time of the children it has reaped (/proc/PID/stat fields 14-17). A child that ran and
exited between two samples is in its parent's reaped time at the second one, so the difference of two samples is the
tree's CPU over the interval. Usage: cpu.py PID"""
import os, sys

root = int(sys.argv[1])
ticks = os.sysconf("SC_CLK_TCK")
stats, children = {}, {}
for name in os.listdir("/proc"):
    if not name.isdigit():
        continue
    try:
        raw = open(f"/proc/{name}/stat").read()
    except OSError:
        continue
    fields = raw[raw.rindex(")") + 2:].split()  # after "pid (comm) "
    pid, ppid = int(name), int(fields[1])
    stats[pid] = sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    children.setdefault(ppid, []).append(pid)
total, todo = 0, [root]
while todo:
    pid = todo.pop()
    total += stats.get(pid, 0)
    todo += children.get(pid, [])
print(f"{total / ticks:.2f}")
