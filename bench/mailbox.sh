#!/usr/bin/env bash
# Zero-access inbound, against Postfix delivering the same load to a virtual maildir, in one run (issue 17, Performance):
#   smtp-source (SESSIONS sessions, MESSAGES messages of ~5 KiB: a text part and an HTML part) -> Veil (`veil serve
#   --smtp`, one mailbox address with a Curve25519 key): spool (fdatasync before 250), SPF/DKIM/DMARC against dnsmasq
#   on loopback, the raw message and its summary sealed (OpenPGP, AES-256) to the address key, the row committed;
#   then the same load -> a throwaway Postfix delivering every message to a virtual(8) maildir (static map, one
#   mailbox), which checks and encrypts nothing.
# Rounds alternate Veil and Postfix; medians are reported. Counting: Veil's stored rows (SELECT COUNT(*) FROM
# MailMessages in its SQLite database) and the files in Postfix's maildir new/, against the messages sent.
# "Sealed" for the latency probe = the row committed: Veil logs "Mailbox: message <spool id> recipient #0 sealed"
# right after SaveChanges returns, and the console logger stamps each line when it is logged (UTC, microseconds).
# The probe (/usr/bin/python3 smtplib, one connection, one message every PROBE_MS) records when each 250 after DATA
# arrived and the spool id Veil named in it ("queued as ID"); for Postfix, the delivery time is the maildir file's mtime,
# found by the probe's Message-ID. msg/s counts every message sent (load and probes) from smtp-source's start to the
# last row committed (Veil: the newest "sealed" line) or the last maildir file (Postfix).
#
# Usage (from the repo root, as root; a Release build, then ~2-3 min per round):
#   bash bench/mailbox.sh                       # ROUNDS=3 alternating rounds, MESSAGES=10000, WARMUP=10000
#   ROUNDS=1 MESSAGES=2000 WARMUP=0 bash bench/mailbox.sh
#   VEIL_ONLY=1 VEIL_ENV="DOTNET_PerfMapEnabled=1" bash bench/mailbox.sh   # profiling: Veil alone, extra environment
# Needs the Debian packages postfix (installed by bench/lib/postfix.sh if missing) and dnsmasq-base (test.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib/postfix.sh
ROUNDS=${ROUNDS:-3}
MESSAGES=${MESSAGES:-10000}
SESSIONS=${SESSIONS:-20}
PROBE_MS=${PROBE_MS:-200}
# Messages sent to each system before the measured load (not counted; 0 = measure a cold start).
WARMUP=${WARMUP:-10000}
PORT_SINK=${PORT_SINK:-25861}
PORT_VEIL=${PORT_VEIL:-25862}
PORT_HTTP=${PORT_HTTP:-25863}
PORT_PF=${PORT_PF:-25864}
PORT_DNS=${PORT_DNS:-25865}
DOMAIN=inbox.bench.test
ADDRESS=me@$DOMAIN
SENDER=sender@shop.bench.test
PASSWORD="bench password for mailbox run"

ensure_postfix
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(postconf -d mail_version 2>/dev/null), data on $(df --output=source,fstype /tmp | tail -1), load $(cut -d' ' -f1-3 /proc/loadavg)"
dotnet build -c Release src/Veil.Cli -p:VeilSkipWeb=true -nologo -v q >/dev/null
VEIL="dotnet src/Veil.Cli/bin/Release/net10.0/veil.dll"
WORK=$(mktemp -d /tmp/veil-mailboxbench.XXXXXX)
chmod 755 "$WORK"
PIDS=()
PF_DIRS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for d in "${PF_DIRS[@]}"; do postfix -c "$d/etc" stop >/dev/null 2>&1 || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

# DNS for Veil's inbound checks: the sender's domain passes SPF for loopback and publishes DMARC (p=none), so every
# message costs Veil the two TXT lookups (and the DMARC evaluation) a real message costs, answered at once.
cat > "$WORK/dnsmasq.conf" <<DNS
port=$PORT_DNS
listen-address=127.0.0.1
bind-interfaces
no-resolv
no-hosts
local=/bench.test/
txt-record=shop.bench.test,"v=spf1 ip4:127.0.0.0/8 -all"
txt-record=_dmarc.shop.bench.test,"v=DMARC1; p=none"
DNS
/usr/sbin/dnsmasq --keep-in-foreground --conf-file="$WORK/dnsmasq.conf" --pid-file= --user=root & PIDS+=("$!")

# The message smtp-source sends (-F; LF line ends, smtp-source writes CRLF): ~5 KiB, text + HTML.
MSG="$WORK/message.eml"
/usr/bin/python3 - "$MSG" "$SENDER" "$ADDRESS" <<'PY'
import sys
filler = "Veil seals this newsletter to the address key before it stores a single byte of it. "
text = "\n".join(filler for _ in range(22))
html_rows = "\n".join(f"<p>{filler}</p>" for _ in range(22))
msg = f"""From: Example News <{sys.argv[2]}>
To: {sys.argv[3]}
Subject: Weekly digest
Date: Sun, 22 Nov 2026 10:00:00 +0000
Message-ID: <digest@shop.bench.test>
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
</body></html>

--b1--
"""
open(sys.argv[1], "w").write(msg)
PY
echo "== message: $(wc -c < "$MSG") bytes (text part + HTML part)"

# The probe: one message every PROBE_MS on its own connection until told to stop; prints "message-id t250 spool-id".
PROBE="$WORK/probe.py"
cat > "$PROBE" <<'PY'
import smtplib, sys, time, os
port, sender, rcpt, stop, out, interval = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]) / 1000
n = 0
with open(out, "w") as log, smtplib.SMTP("127.0.0.1", port, timeout=120) as s:
    s.ehlo("probe.bench.test")
    while not os.path.exists(stop):
        n += 1
        mid = f"probe-{n}-{os.getpid()}@bench.test"
        body = (f"From: Probe <{sender}>\r\nTo: {rcpt}\r\nSubject: probe {n}\r\nMessage-ID: <{mid}>\r\n"
                f"MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nprobe\r\n")
        s.mail(sender); s.rcpt(rcpt)
        code, reply = s.data(body.encode())
        t = time.time()
        if code != 250: sys.exit(f"probe: DATA answered {code} {reply!r}")
        queued = reply.decode().rsplit(" ", 1)[-1]
        log.write(f"{mid} {t:.6f} {queued}\n"); log.flush()
        time.sleep(interval)
PY

start_sink() {
  mkdir -p "$1"; chown postfix "$1"
  smtp-sink -u postfix -d "$1/%H%M%S." "127.0.0.1:$PORT_SINK" 256 & SINK_PID=$!; PIDS+=("$SINK_PID")
  wait_port "$PORT_SINK"
}
stop_sink() { kill "$SINK_PID" 2>/dev/null || true; wait "$SINK_PID" 2>/dev/null || true; }

# Stored so far: rows in Veil's database ($1 = data dir) or files in the maildir ($1 = maildir).
count_stored() {
  if [ -f "$1/veil.db" ]; then
    /usr/bin/python3 -c 'import sqlite3,sys; c=sqlite3.connect(f"file:{sys.argv[1]}/veil.db?mode=ro", uri=True, timeout=30); print(c.execute("select count(*) from MailMessages").fetchone()[0])' "$1"
  else
    find "$1/new" -type f 2>/dev/null | wc -l
  fi
}

# Waits until $1 holds $2 stored messages (or 120 s without progress); prints the count.
wait_stored() {
  local where=$1 want=$2 last=-1 same=0 n
  while :; do
    n=$(count_stored "$where")
    [ "$n" -ge "$want" ] && break
    if [ "$n" -eq "$last" ]; then same=$((same + 1)); [ "$same" -ge 600 ] && break; else same=0; last=$n; fi
    sleep 0.2
  done
  echo "$n"
}

# Prints "seconds p50 p99 matched/probes" for a load that started at $1. $2 = Veil's log (or empty), $3 = the maildir
# (Postfix), $4 = the probes' log.
times() {
  /usr/bin/python3 - "$@" <<'PY'
import os, sys, datetime
t0, log, maildir, probes = float(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
sent = [l.split() for l in open(probes) if l.strip()]
done, last = {}, 0.0
if log:
    day = datetime.datetime.fromtimestamp(t0, datetime.timezone.utc).date()
    for line in open(log, errors="replace"):
        # "HH:MM:SS.ffffff info: ...[3700] Mailbox: message <spool id> recipient #0 sealed as ..."
        if "] Mailbox: message " not in line or " sealed as " not in line: continue
        clock = datetime.datetime.strptime(line[:15], "%H:%M:%S.%f").time()
        at = datetime.datetime.combine(day, clock, datetime.timezone.utc).timestamp()
        if at < t0 - 43200: at += 86400  # past midnight
        if at < t0: continue  # the warm-up's
        last = max(last, at)
        done.setdefault(line.split("] Mailbox: message ", 1)[1].split(" ", 1)[0], at)
    lat = sorted(done[q] - float(t) for _, t, q in sent if q in done)
else:
    for name in os.listdir(os.path.join(maildir, "new")):
        path = os.path.join(maildir, "new", name)
        mtime = os.stat(path).st_mtime_ns / 1e9
        if mtime < t0: continue
        last = max(last, mtime)
        with open(path, "rb") as f: head = f.read(4096)
        at = head.find(b"<probe-")
        if at >= 0: done.setdefault(head[at + 1:head.index(b">", at)].decode(), mtime)
    lat = sorted(done[m] - float(t) for m, t, _ in sent if m in done)
p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] if lat else float("nan")
print(f"{last - t0:.3f} {p(0.50):.3f} {p(0.99):.3f} {len(lat)}/{len(sent)}")
PY
}

# One load against port $1; $2 = where stored messages are counted, $3 = Veil's log or "", $4 = maildir or "", $5 =
# stored before the load. Prints "seconds stored expected p50 p99 probes".
drive() {
  local port=$1 where=$2 log=$3 maildir=$4 before=$5 t0 err probes got
  rm -f "$WORK/stop" "$WORK/probes"
  t0=$(date +%s.%N)
  /usr/bin/python3 "$PROBE" "$port" "$SENDER" "$ADDRESS" "$WORK/stop" "$WORK/probes" "$PROBE_MS" & local probe=$!
  err=$(smtp-source -s "$SESSIONS" -m "$MESSAGES" -F "$MSG" -f "$SENDER" -t "$ADDRESS" "127.0.0.1:$port" 2>&1) || true
  touch "$WORK/stop"; wait "$probe" || echo "probe failed" >&2
  [ -n "$err" ] && echo "smtp-source: $err" >&2
  probes=$(wc -l < "$WORK/probes")
  got=$(wait_stored "$where" $((before + MESSAGES + probes)))
  local t; t=$(times "$t0" "$log" "$maildir" "$WORK/probes")
  set -- $t
  echo "$1 $((got - before)) $((MESSAGES + probes)) $2 $3 $4"
}

# The warm-up: WARMUP messages to port $1, counted at $2; prints "seconds stored" (the cold rate, reported beside).
warm_up() {
  local port=$1 where=$2 t0 got
  [ "$WARMUP" -gt 0 ] || { echo "0 0"; return; }
  t0=$(date +%s.%N)
  smtp-source -s "$SESSIONS" -m "$WARMUP" -F "$MSG" -f "$SENDER" -t "$ADDRESS" "127.0.0.1:$port" >&2 || true
  got=$(wait_stored "$where" "$WARMUP")
  echo "$(echo "$t0 $(date +%s.%N)" | awk '{printf "%.3f", $2-$1}') $got"
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

# Veil with one account and one mailbox address ($ADDRESS, its Curve25519 key made by the CLI).
setup_veil() {
  local dir=$1
  export VEIL_CONFIG_DIR="$dir/config"
  export Veil__Mail__Domains__0=$DOMAIN Veil__Dns__Servers=127.0.0.1:$PORT_DNS
  export Veil__Mail__Smarthost=127.0.0.1:$PORT_SINK Veil__Mail__SmarthostTls=None Veil__Mail__HostName=mx.$DOMAIN
  export Veil__Mail__Smtp__MaxConnectionsPerIp=64
  # One line per log entry, stamped when it is logged: the "sealed" lines time the probe.
  export Logging__Console__FormatterName=simple Logging__Console__FormatterOptions__SingleLine=true \
    Logging__Console__FormatterOptions__UseUtcTimestamp=true Logging__Console__FormatterOptions__TimestampFormat="HH:mm:ss.ffffff "
  env ${VEIL_ENV:-} $VEIL serve --data "$dir/data" --http "http://127.0.0.1:$PORT_HTTP" --smtp "127.0.0.1:$PORT_VEIL" > "$dir/log" 2>&1 & VEIL_PID=$!; PIDS+=("$VEIL_PID")
  wait_port "$PORT_HTTP"; wait_port "$PORT_VEIL"
  export VEIL_SERVER="http://127.0.0.1:$PORT_HTTP"
  local link
  echo "$PASSWORD" | $VEIL account register --email owner@elsewhere.bench.test --password-stdin --json >/dev/null
  link=$(find_link "$dir/setup-sink" "/verify-email#"); $VEIL account verify "$link" --json >/dev/null
  echo "$PASSWORD" | $VEIL account login --email owner@elsewhere.bench.test --password-stdin --json >/dev/null
  echo "$PASSWORD" | $VEIL mail address add "$ADDRESS" --password-stdin --json >/dev/null
}

run_veil() {
  local dir="$WORK/veil-$1"; mkdir -p "$dir"
  start_sink "$dir/setup-sink"
  setup_veil "$dir" >&2
  stop_sink
  local w; w=$(warm_up "$PORT_VEIL" "$dir/data")
  local r; r=$(drive "$PORT_VEIL" "$dir/data" "$dir/log" "" "$(count_stored "$dir/data")")
  kill -TERM "$VEIL_PID"; wait "$VEIL_PID" 2>/dev/null || true
  if grep -q "could not be sealed now\|fail:" "$dir/log"; then echo "  Veil logged failures:" >&2; grep "could not be sealed now\|fail:" "$dir/log" | head -5 >&2; fi
  # What the stored rows hold in plaintext (the row's columns; the message is in the blob store, sealed).
  [ "$1" = 1 ] && /usr/bin/python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]+"/veil.db"); r=c.execute("select Size, SealedSize, substr(SealedSummary,1,24) from MailMessages limit 1").fetchone(); print(f"  one row: size {r[0]}, sealed size {r[1]}, summary {r[2]}... (base64 of an OpenPGP message)")' "$dir/data" >&2
  unset VEIL_SERVER VEIL_CONFIG_DIR
  rm -rf "$dir"
  echo "$r $w"
}

# A throwaway Postfix delivering every message for $DOMAIN to one virtual(8) maildir, its own config and queue under $WORK.
run_postfix() {
  local pf="$WORK/postfix-$1"; mkdir -p "$pf/etc" "$pf/queue" "$pf/data" "$pf/vmail"; chown postfix:postfix "$pf/data"; chown nobody:nogroup "$pf/vmail"
  cat > "$pf/etc/main.cf" <<MAIN
compatibility_level = 3.6
queue_directory = $pf/queue
data_directory = $pf/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.bench.test
mydomain = bench.test
myorigin = bench.test
mydestination =
mynetworks = 127.0.0.0/8
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
smtpd_peername_lookup = no
smtpd_recipient_restrictions = permit_mynetworks, reject
virtual_mailbox_domains = $DOMAIN
virtual_mailbox_base = $pf/vmail
virtual_mailbox_maps = static:box/
virtual_uid_maps = static:$(id -u nobody)
virtual_gid_maps = static:$(id -g nobody)
smtp_dns_support_level = disabled
maillog_file = $pf/maillog
maillog_file_prefixes = $pf
biff = no
alias_maps =
alias_database =
local_recipient_maps =
MAIN
  postfix_master_cf "$pf/etc" "$PORT_PF" virtual discard
  PF_DIRS+=("$pf")
  postfix -c "$pf/etc" start >/dev/null 2>&1 || { echo "postfix failed to start:" >&2; tail -5 "$pf/maillog" >&2; return 1; }
  wait_port "$PORT_PF"
  local box="$pf/vmail/box"
  local w; w=$(warm_up "$PORT_PF" "$box")
  local r; r=$(drive "$PORT_PF" "$box" "" "$box" "$(count_stored "$box")")
  postfix -c "$pf/etc" stop >/dev/null 2>&1 || true
  rm -rf "$pf"
  echo "$r $w"
}

RESULTS="$WORK/results"
: > "$RESULTS"
for r in $(seq 1 "$ROUNDS"); do
  echo "== round $r/$ROUNDS: $SESSIONS sessions x $MESSAGES messages, probe every $PROBE_MS ms, load $(cut -d' ' -f1-3 /proc/loadavg)"
  run_veil "$r" > "$WORK/round"; read -r vs vgot vwant vp50 vp99 vprobes vws vwgot < "$WORK/round"
  [ "$WARMUP" -gt 0 ] && echo "  Veil warm-up (cold start):  ${vws}s  $(awk -v m="$vwgot" -v s="$vws" 'BEGIN{printf "%.0f", m/s}') msg/s  stored $vwgot/$WARMUP"
  echo "  Veil (checked, sealed):     ${vs}s  $(awk -v m="$vwant" -v s="$vs" 'BEGIN{printf "%.0f", m/s}') msg/s end to end  stored $vgot/$vwant  250->sealed p50 ${vp50}s p99 ${vp99}s (probes $vprobes)"
  if [ -n "${VEIL_ONLY:-}" ]; then echo "$r $vs $vgot $vwant $vp99" >> "$RESULTS"; continue; fi
  run_postfix "$r" > "$WORK/round"; read -r ps pgot pwant pp50 pp99 pprobes pws pwgot < "$WORK/round"
  [ "$WARMUP" -gt 0 ] && echo "  Postfix warm-up:            ${pws}s  $(awk -v m="$pwgot" -v s="$pws" 'BEGIN{printf "%.0f", m/s}') msg/s  stored $pwgot/$WARMUP"
  echo "  Postfix virtual maildir:    ${ps}s  $(awk -v m="$pwant" -v s="$ps" 'BEGIN{printf "%.0f", m/s}') msg/s end to end  stored $pgot/$pwant  250->maildir p50 ${pp50}s p99 ${pp99}s (probes $pprobes)"
  echo "$r $vs $vgot $vwant $vp99 $ps $pgot $pwant $pp99 $vp50 $pp50 ${vws:-0} ${vwgot:-0} ${pws:-0} ${pwgot:-0}" >> "$RESULTS"
done
echo "== load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

if [ -n "${VEIL_ONLY:-}" ]; then
  /usr/bin/python3 -c 'import statistics, sys; rows = [l.split() for l in open(sys.argv[1]) if l.strip()]; v = [int(r[3]) / float(r[1]) for r in rows]
print(f"\nVeil alone (no Postfix reference: not a result for PERFORMANCE.md), median of {len(rows)} round(s): {statistics.median(v):.0f} msg/s; lost {[int(r[3]) - int(r[2]) for r in rows]}")' "$RESULTS"
  exit 0
fi

/usr/bin/python3 - "$RESULTS" "$WARMUP" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
veil = [int(r[3]) / float(r[1]) for r in rows]; pf = [int(r[7]) / float(r[5]) for r in rows]
print()
print(f"median of {len(rows)} round(s), msg/s end to end: Veil {statistics.median(veil):.0f}, Postfix virtual maildir {statistics.median(pf):.0f}")
print("per-round ratios Veil/Postfix: " + ", ".join(f"{v/p:.2f}x" for v, p in zip(veil, pf)))
print(f"median ratio Veil/Postfix {statistics.median(v/p for v, p in zip(veil, pf)):.2f}x (target >= 2x)")
print(f"250->stored p99, median over rounds: Veil (sealed) {statistics.median(float(r[4]) for r in rows):.3f}s, Postfix (maildir) {statistics.median(float(r[8]) for r in rows):.3f}s (target < 1 s); p50: Veil {statistics.median(float(r[9]) for r in rows):.3f}s, Postfix {statistics.median(float(r[10]) for r in rows):.3f}s")
if float(rows[0][11]) > 0:
    vc = [int(r[12]) / float(r[11]) for r in rows]; pc = [int(r[14]) / float(r[13]) for r in rows]
    print(f"warm-up (cold start, not counted above), median msg/s: Veil {statistics.median(vc):.0f}, Postfix {statistics.median(pc):.0f}, "
          f"ratio {statistics.median(v/p for v, p in zip(vc, pc)):.2f}x; warm-up lost: Veil {[int(sys.argv[2]) - int(r[12]) for r in rows]}, Postfix {[int(sys.argv[2]) - int(r[14]) for r in rows]}")
print("lost (expected - stored) per round: Veil " + str([int(r[3]) - int(r[2]) for r in rows]) + ", Postfix " + str([int(r[7]) - int(r[6]) for r in rows]))
PY
