#!/usr/bin/env bash
# Alias forwarding end to end, against Postfix relaying the same load, in one run (issue 6, Performance):
#   smtp-source (SESSIONS sessions, MESSAGES messages of ~5 KiB: a text part and an HTML part with a 1x1 tracking
#   pixel and an image from a tracking host) -> Veil (`veil serve --smtp`, an alias domain with an RSA-2048 DKIM
#   key, SRS envelope, trackers stripped, one verified recipient) -> Postfix smtp-sink as Veil's smarthost;
#   then the same smtp-source load -> a throwaway Postfix relaying to the same smtp-sink (no signing, no rewriting),
#   then -> Haraka 3.3.4 (npm, bench/haraka: rcpt_to.in_host_list + queue/smtp_forward to the same sink, nodes=1, no
#   DNS plugins; HARAKA=0 leaves it out). Haraka fsyncs nothing and answers 250 only once the next hop took the copy,
#   so its 250 -> delivery latency is zero or slightly negative by construction (the sink's file predates the 250).
# CPU: each system's processes (the whole process tree: Postfix's master and every daemon it ran, Haraka's master and
# worker, Veil's one process) are sampled from /proc before and after the measured load (bench/lib/cpu.py), and the
# report gives CPU seconds per 1,000 messages beside msg/s. The load generator and the sink are not counted.
# The sink dumps every message to a file (smtp-sink -d): the count says whether anything was lost, the newest
# file's mtime ends the end-to-end time (from the first byte smtp-source sends). Alongside the load, a probe
# (/usr/bin/python3 smtplib, one connection) sends a message with a unique Message-ID every PROBE_MS and records
# when each 250 after DATA arrived; the sink's file for that Message-ID (Veil keeps Message-ID) gives the
# 250 -> delivery latency, whose p50/p99 are reported. msg/s counts every message sent (load and probes) over the
# time from smtp-source's start to the last delivery.
#
# Usage (from the repo root, as root; a build, then ~1-4 min per round):
#   bash bench/alias.sh                       # ROUNDS=3 alternating rounds
#   ROUNDS=1 MESSAGES=2000 bash bench/alias.sh
#   HARAKA=0 bash bench/alias.sh              # Veil and Postfix only
#   WARMUP=0 bash bench/alias.sh              # measure cold starts (default: 20,000 uncounted messages first, both systems)
#   VEIL_ONLY=1 VEIL_ENV="DOTNET_PerfMapEnabled=1" bash bench/alias.sh   # profiling: Veil alone, extra environment
# Needs the Debian package postfix (smtp-source, smtp-sink, postfix); installed by bench/lib/postfix.sh if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib/postfix.sh
ROUNDS=${ROUNDS:-3}
MESSAGES=${MESSAGES:-10000}
SESSIONS=${SESSIONS:-20}
PROBE_MS=${PROBE_MS:-200}
# Messages sent to each system before the measured load (not counted; 0 = measure a cold start). A server runs for
# weeks: the measured load should see it warm (its JIT done), as a Postfix that has been running would be.
WARMUP=${WARMUP:-20000}
PORT_SINK=${PORT_SINK:-25851}
PORT_VEIL=${PORT_VEIL:-25852}
PORT_HTTP=${PORT_HTTP:-25853}
PORT_PF=${PORT_PF:-25854}
PORT_HK=${PORT_HK:-25855}
DOMAIN=alias.bench.test
MAILBOX=me@inbox.bench.test

ensure_postfix
HARAKA=${HARAKA:-1}
if [ "$HARAKA" = 1 ] && [ ! -x bench/haraka/node_modules/.bin/haraka ]; then
  echo "== installing Haraka (npm ci in bench/haraka)"
  (cd bench/haraka && npm ci --no-audit --no-fund >/dev/null)
fi
cpu() { /usr/bin/python3 bench/lib/cpu.py "$1"; }

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(postconf -d mail_version 2>/dev/null), spool on $(df --output=source,fstype /tmp | tail -1)"
dotnet build -c Release src/Veil.Cli -p:VeilSkipWeb=true -nologo -v q >/dev/null
VEIL="dotnet src/Veil.Cli/bin/Release/net10.0/veil.dll"
WORK=$(mktemp -d /tmp/veil-aliasbench.XXXXXX)
chmod 755 "$WORK"
PIDS=()
PF_DIRS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for d in "${PF_DIRS[@]}"; do postfix -c "$d/etc" stop >/dev/null 2>&1 || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT


# The message smtp-source sends (-F; LF line ends, smtp-source writes CRLF): ~5 KiB, text + HTML with trackers.
MSG="$WORK/message.eml"
/usr/bin/python3 - "$MSG" <<'PY'
import sys
filler = "Veil forwards this newsletter with its trackers removed and a fresh DKIM signature. "
text = "\n".join(filler for _ in range(22))
html_rows = "\n".join(f"<p>{filler}</p>" for _ in range(22))
msg = f"""From: Example News <news@shop.bench.test>
Reply-To: Help Desk <help@shop.bench.test>
To: {'{'}alias{'}'}
Subject: Weekly digest
Date: Sun, 22 Nov 2026 10:00:00 +0000
Message-ID: <digest@shop.bench.test>
List-Unsubscribe: <https://shop.bench.test/unsub?u=42>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 7bit

{text}

--b1
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: 7bit

<html><body>
{html_rows}
<img src="https://shop.bench.test/hero.jpg" width="600" height="200" alt="">
<img src="https://t.shop.bench.test/open.gif?u=42" width="1" height="1" alt="">
<img src="https://shop.list-manage.com/track/open.php?u=42" alt="">
</body></html>

--b1--
"""
open(sys.argv[1], "w").write(msg)
PY
echo "== message: $(wc -c < "$MSG") bytes (text part + HTML part with a 1x1 pixel and a tracking-host image)"

# The probe: one message every PROBE_MS on its own connection until told to stop; prints "id t250" lines.
PROBE="$WORK/probe.py"
cat > "$PROBE" <<'PY'
import smtplib, sys, time, os
port, rcpt, stop, out, interval = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]) / 1000
n = 0
with open(out, "w") as log, smtplib.SMTP("127.0.0.1", port, timeout=120) as s:
    while not os.path.exists(stop):
        n += 1
        mid = f"probe-{n}-{os.getpid()}@bench.test"
        body = (f"From: Probe <probe@shop.bench.test>\r\nTo: {rcpt}\r\nSubject: probe {n}\r\nMessage-ID: <{mid}>\r\n"
                f"MIME-Version: 1.0\r\nContent-Type: text/html\r\n\r\n<p>probe</p><img src=\"https://t.shop.bench.test/p.gif\" width=\"1\" height=\"1\">\r\n")
        s.sendmail("probe@shop.bench.test", [rcpt], body.encode())
        log.write(f"{mid} {time.time():.6f}\n"); log.flush()
        time.sleep(interval)
PY

# Starts smtp-sink dumping each message into $1 (one file per message).
start_sink() {
  mkdir -p "$1"; chown postfix "$1"
  smtp-sink -u postfix -d "$1/%H%M%S." "127.0.0.1:$PORT_SINK" 256 & SINK_PID=$!; PIDS+=("$SINK_PID")
  wait_port "$PORT_SINK"
}
stop_sink() { kill "$SINK_PID" 2>/dev/null || true; wait "$SINK_PID" 2>/dev/null || true; }

# Waits until the sink holds $2 files (or 120 s without progress); prints the count.
wait_delivered() {
  local dir=$1 want=$2 last=-1 same=0 n
  while :; do
    n=$(find "$dir" -type f | wc -l)
    [ "$n" -ge "$want" ] && break
    if [ "$n" -eq "$last" ]; then same=$((same + 1)); [ "$same" -ge 600 ] && break; else same=0; last=$n; fi
    sleep 0.2
  done
  echo "$n"
}

# One load: smtp-source + probe against port $1, recipient $2; sink dir $3. Prints "t0 seconds delivered expected p50 p99 probes".
drive() {
  local port=$1 rcpt=$2 sink=$3 t0 err probes
  rm -f "$WORK/stop" "$WORK/probes"
  sed "s/{alias}/$rcpt/" "$MSG" > "$WORK/msg-$port.eml"
  t0=$(date +%s.%N)
  /usr/bin/python3 "$PROBE" "$port" "$rcpt" "$WORK/stop" "$WORK/probes" "$PROBE_MS" & local probe=$!
  err=$(smtp-source -s "$SESSIONS" -m "$MESSAGES" -F "$WORK/msg-$port.eml" -f sender@shop.bench.test -t "$rcpt" "127.0.0.1:$port" 2>&1) || true
  touch "$WORK/stop"; wait "$probe" || echo "probe failed" >&2
  [ -n "$err" ] && echo "smtp-source: $err" >&2
  probes=$(wc -l < "$WORK/probes")
  local got; got=$(wait_delivered "$sink" $((MESSAGES + probes)))
  /usr/bin/python3 - "$sink" "$WORK/probes" "$t0" "$got" $((MESSAGES + probes)) <<'PY'
import os, sys, statistics
sink, probes, t0, got, want = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
sent = dict(l.split() for l in open(probes) if l.strip())
last, delivered = 0.0, {}
for name in os.listdir(sink):
    path = os.path.join(sink, name)
    mtime = os.stat(path).st_mtime_ns / 1e9
    last = max(last, mtime)
    with open(path, "rb") as f:
        head = f.read(4096)
    at = head.find(b"<probe-")
    if at >= 0:
        mid = head[at + 1:head.index(b">", at)].decode()
        delivered.setdefault(mid, mtime)
lat = sorted(delivered[m] - float(t) for m, t in sent.items() if m in delivered)
p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] if lat else float("nan")
print(f"{t0:.3f} {last - t0:.3f} {got} {want} {p(0.50):.3f} {p(0.99):.3f} {len(lat)}/{len(sent)}")
PY
}

# The warm-up: WARMUP messages from smtp-source to port $1, recipient $2, into sink dir $3; prints
# "seconds delivered" (the cold rate, reported beside the measured one).
warm_up() {
  local port=$1 rcpt=$2 sink=$3 t0 got
  [ "$WARMUP" -gt 0 ] || { echo "0 0"; return; }
  start_sink "$sink"
  sed "s/{alias}/$rcpt/" "$MSG" > "$WORK/warm-$port.eml"
  t0=$(date +%s.%N)
  smtp-source -s "$SESSIONS" -m "$WARMUP" -F "$WORK/warm-$port.eml" -f sender@shop.bench.test -t "$rcpt" "127.0.0.1:$port" >&2 || true
  got=$(wait_delivered "$sink" "$WARMUP")
  /usr/bin/python3 -c 'import os,sys; d=sys.argv[1]; print(f"{max(os.stat(os.path.join(d,n)).st_mtime for n in os.listdir(d)) - float(sys.argv[2]):.3f} {sys.argv[3]}")' "$sink" "$t0" "$got"
  stop_sink
  # The warm-up's files stay until the round ends: deleting 20,000 files right before the measured load makes every
  # file created in the next minutes (one per message at the sink) pay ext4's scan past recently deleted inodes.
}

setup_veil() {
  local dir=$1
  export VEIL_CONFIG_DIR="$dir/config"
  export Veil__Alias__Domains__0=$DOMAIN Veil__Alias__DailyForwardLimit=100000000
  export Veil__Mail__Smarthost=127.0.0.1:$PORT_SINK Veil__Mail__SmarthostTls=None Veil__Mail__HostName=mx.$DOMAIN
  export Veil__Mail__Smtp__MaxConnectionsPerIp=64
  $VEIL admin dkim create $DOMAIN --data "$dir/data" --selector bench >/dev/null
  # VEIL_TRACE=DIR: a CPU sample profile of the server (EventPipe) is written there, for `dotnet-trace report`.
  env ${VEIL_ENV:-} ${VEIL_TRACE:+DOTNET_EnableEventPipe=1 DOTNET_EventPipeOutputPath=$VEIL_TRACE/veil-serve.nettrace DOTNET_EventPipeConfig=Microsoft-DotNETCore-SampleProfiler:0:5,Microsoft-Windows-DotNETRuntime:4c14fccbd:5} \
  $VEIL serve --data "$dir/data" --http "http://127.0.0.1:$PORT_HTTP" --smtp "127.0.0.1:$PORT_VEIL" > "$dir/log" 2>&1 & VEIL_PID=$!; PIDS+=("$VEIL_PID")
  wait_port "$PORT_HTTP"; wait_port "$PORT_VEIL"
  export VEIL_SERVER="http://127.0.0.1:$PORT_HTTP"
  local link
  echo "bench password for alias run" | $VEIL account register --email owner@inbox.bench.test --password-stdin --json >/dev/null
  link=$(find_link "$dir/setup-sink" "/verify-email#"); $VEIL account verify "$link" --json >/dev/null
  echo "bench password for alias run" | $VEIL account login --email owner@inbox.bench.test --password-stdin --json >/dev/null
  $VEIL recipient add $MAILBOX --json >/dev/null
  link=$(find_link "$dir/setup-sink" "/alias/verify/"); $VEIL recipient verify "$link" --json >/dev/null
  $VEIL alias create --prefix bench --json | /usr/bin/python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["alias"]["address"])' > "$dir/alias"
}

# The newest link containing $2 in the mail at the sink under $1 (MIME-decoded).
find_link() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import email, email.policy, os, re, sys, time
folder, marker = sys.argv[1], sys.argv[2]
for _ in range(300):
    links = []
    for name in sorted(os.listdir(folder), key=lambda n: os.stat(os.path.join(folder, n)).st_mtime_ns) if os.path.isdir(folder) else []:
        msg = email.message_from_bytes(open(os.path.join(folder, name), "rb").read(), policy=email.policy.default)
        for part in msg.walk():
            if part.get_content_maintype() == "text":
                text = part.get_payload(decode=True).decode("utf-8", "replace")
                links += [l for l in re.findall(r'https?://[^\s"<>]+', text) if marker in l]
    if links:
        print(links[-1]); sys.exit(0)
    time.sleep(0.2)
sys.exit(f"no link with {marker} arrived at the sink")
PY
}

run_veil() {
  local dir="$WORK/veil-$1"; mkdir -p "$dir"
  start_sink "$dir/setup-sink"
  setup_veil "$dir" >&2
  local alias; alias=$(cat "$dir/alias")
  stop_sink
  local w; w=$(warm_up "$PORT_VEIL" "$alias" "$dir/warm")
  start_sink "$dir/sink"
  local c0 c1; c0=$(cpu "$VEIL_PID")
  local r; r=$(drive "$PORT_VEIL" "$alias" "$dir/sink")
  c1=$(cpu "$VEIL_PID")
  stop_sink
  kill -TERM "$VEIL_PID"; wait "$VEIL_PID" 2>/dev/null || true
  # One forwarded copy, for the record: the rewritten From, the trackers header, the DKIM-Signature, the SRS sender.
  if [ "$1" = 1 ]; then
    for f in "$dir/sink"/*; do grep -q "digest@shop" "$f" && break; done
    echo "  one forwarded copy (first lines as the sink dumped it):" >&2
    grep -E -A1 "^(X-Mail-Args|From|DKIM-Signature|X-Veil-Trackers-Removed):" "$f" | sed 's/^/    /' >&2 || true
    [ -n "${KEEP:-}" ] && cp "$f" "$KEEP"
  fi
  unset VEIL_SERVER VEIL_CONFIG_DIR
  rm -rf "$dir"
  echo "$r $w $(awk -v a="$c0" -v b="$c1" 'BEGIN{printf "%.2f", b - a}')"
}

# A throwaway Postfix relaying everything from loopback to smtp-sink (relayhost), its own config and queue under $WORK.
run_postfix() {
  local pf="$WORK/postfix-$1"; mkdir -p "$pf/etc" "$pf/queue" "$pf/data"; chown postfix:postfix "$pf/data"
  cat > "$pf/etc/main.cf" <<MAIN
compatibility_level = 3.6
queue_directory = $pf/queue
data_directory = $pf/data
mail_owner = postfix
setgid_group = postdrop
myhostname = relay.bench.test
mydomain = bench.test
myorigin = bench.test
mydestination =
relay_domains = $DOMAIN
mynetworks = 127.0.0.0/8
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
smtpd_peername_lookup = no
smtpd_recipient_restrictions = permit_mynetworks, reject
relayhost = [127.0.0.1]:$PORT_SINK
smtp_dns_support_level = disabled
smtp_tls_security_level = none
maillog_file = $pf/maillog
maillog_file_prefixes = $pf
biff = no
alias_maps =
alias_database =
local_recipient_maps =
MAIN
  postfix_master_cf "$pf/etc" "$PORT_PF" discard smtp relay
  PF_DIRS+=("$pf")
  postfix -c "$pf/etc" start >/dev/null 2>&1 || { echo "postfix failed to start:" >&2; tail -5 "$pf/maillog" >&2; return 1; }
  wait_port "$PORT_PF"
  local w; w=$(warm_up "$PORT_PF" "bench.relay@$DOMAIN" "$pf/warm")
  start_sink "$pf/sink"
  local master c0 c1; master=$(tr -d ' ' < "$pf/queue/pid/master.pid"); c0=$(cpu "$master")
  local r; r=$(drive "$PORT_PF" "bench.relay@$DOMAIN" "$pf/sink")
  c1=$(cpu "$master")
  postfix -c "$pf/etc" stop >/dev/null 2>&1 || true
  stop_sink
  rm -rf "$pf"
  echo "$r $w $(awk -v a="$c0" -v b="$c1" 'BEGIN{printf "%.2f", b - a}')"
}

# Haraka forwarding everything for the alias domain to the same smtp-sink; its configuration from bench/haraka/config.
run_haraka() {
  local hk="$WORK/haraka-$1"; mkdir -p "$hk"
  cp -r bench/haraka/config "$hk/config"
  printf 'listen=127.0.0.1:%s\nnodes=1\n' "$PORT_HK" > "$hk/config/smtp.ini"
  echo "$DOMAIN" > "$hk/config/host_list"
  printf 'host=127.0.0.1\nport=%s\nenable_tls=false\n' "$PORT_SINK" > "$hk/config/smtp_forward.ini"
  bench/haraka/node_modules/.bin/haraka -c "$hk" > "$hk/log" 2>&1 & local pid=$!; PIDS+=("$pid")
  wait_port "$PORT_HK"
  local w; w=$(warm_up "$PORT_HK" "bench.relay@$DOMAIN" "$hk/warm")
  start_sink "$hk/sink"
  local c0 c1; c0=$(cpu "$pid")
  local r; r=$(drive "$PORT_HK" "bench.relay@$DOMAIN" "$hk/sink")
  c1=$(cpu "$pid")
  kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  stop_sink
  rm -rf "$hk"
  echo "$r $w $(awk -v a="$c0" -v b="$c1" 'BEGIN{printf "%.2f", b - a}')"
}

RESULTS="$WORK/results"
: > "$RESULTS"
# One line per system and round: name round t0 seconds delivered expected p50 p99 probes warm-seconds warm-delivered cpu
report() { # name label
  local t0 s got want p50 p99 probes ws wgot cpu
  read -r t0 s got want p50 p99 probes ws wgot cpu < "$WORK/round"
  if [ -z "$cpu" ] || [ "${got:-0}" = 0 ]; then echo "  $2: the round failed (nothing delivered); see the errors above" >&2; exit 1; fi
  [ "$WARMUP" -gt 0 ] && printf '  %-28s %ss  %s msg/s  delivered %s/%s\n' "$2 warm-up (cold start):" "$ws" "$(awk -v m="$wgot" -v s="$ws" 'BEGIN{printf "%.0f", m/s}')" "$wgot" "$WARMUP"
  printf '  %-28s %ss  %s msg/s end to end  delivered %s/%s  250->delivery p50 %ss p99 %ss (probes %s)  CPU %ss = %s s per 1,000 messages\n' \
    "$2:" "$s" "$(awk -v m="$want" -v s="$s" 'BEGIN{printf "%.0f", m/s}')" "$got" "$want" "$p50" "$p99" "$probes" "$cpu" \
    "$(awk -v c="$cpu" -v m="$want" 'BEGIN{printf "%.2f", c * 1000 / m}')"
  echo "$1 $r $t0 $s $got $want $p50 $p99 $probes ${ws:-0} ${wgot:-0} $cpu" >> "$RESULTS"
}
for r in $(seq 1 "$ROUNDS"); do
  echo "== round $r/$ROUNDS: $SESSIONS sessions x $MESSAGES messages, probe every $PROBE_MS ms"
  run_veil "$r" > "$WORK/round"; report veil "Veil (DKIM, SRS, trackers)"
  [ -n "${VEIL_ONLY:-}" ] && continue
  run_postfix "$r" > "$WORK/round"; report postfix "Postfix relay"
  [ "$HARAKA" = 1 ] || continue
  run_haraka "$r" > "$WORK/round"; report haraka "Haraka forward"
done

/usr/bin/python3 - "$RESULTS" "$WARMUP" "${VEIL_ONLY:-}" <<'PY'
import statistics as st, sys
rows = {}
for line in open(sys.argv[1]):
    f = line.split()
    if f:
        rows.setdefault(f[0], []).append(f)
warmup, veil_only = int(sys.argv[2]), bool(sys.argv[3])
rate = lambda f: int(f[5]) / float(f[3])           # everything sent (load + probes), first byte to last delivery
cold = lambda f: int(f[10]) / float(f[9]) if float(f[9]) > 0 else float("nan")
cpu_k = lambda f: float(f[11]) * 1000 / int(f[5])  # CPU seconds per 1,000 messages
names = {"veil": "Veil", "postfix": "Postfix relay", "haraka": "Haraka"}
print()
if veil_only:
    v = rows["veil"]
    print(f"Veil alone (no reference: not a result for PERFORMANCE.md), median of {len(v)} round(s): {st.median(map(rate, v)):.0f} msg/s, "
          f"{st.median(map(cpu_k, v)):.2f} CPU s per 1,000 messages; lost {[int(f[5]) - int(f[4]) for f in v]}")
    sys.exit(0)
v = rows["veil"]
print(f"medians of {len(v)} round(s):")
for key, fs in rows.items():
    print(f"  {names[key]:<14} {st.median(map(rate, fs)):6.0f} msg/s warm, {st.median(map(cold, fs)) if warmup else float('nan'):6.0f} cold; "
          f"250->delivery p50 {st.median(float(f[6]) for f in fs):.3f}s p99 {st.median(float(f[7]) for f in fs):.3f}s; "
          f"CPU {st.median(map(cpu_k, fs)):.2f} s per 1,000 messages; lost {[int(f[5]) - int(f[4]) for f in fs]}"
          + (f"; warm-up lost {[warmup - int(f[10]) for f in fs]}" if warmup else ""))
for key, target, cold_target in (("postfix", 3, 2.5), ("haraka", 4, None)):
    if key not in rows:
        continue
    ratios = [rate(a) / rate(b) for a, b in zip(v, rows[key])]
    line = f"Veil/{names[key]}: per round {', '.join(f'{x:.2f}x' for x in ratios)}; median {st.median(ratios):.2f}x (target >= {target}x)"
    if warmup and cold_target:
        line += f"; cold {st.median(cold(a) / cold(b) for a, b in zip(v, rows[key])):.2f}x (target >= {cold_target}x)"
    line += f"; CPU per message Veil/{names[key]} {st.median(cpu_k(a) / cpu_k(b) for a, b in zip(v, rows[key])):.2f}x"
    print(line)
PY
