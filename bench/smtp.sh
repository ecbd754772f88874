#!/usr/bin/env bash
# SMTP accept rate of Veil's engine with the durable FileSpool, against Postfix's smtp-sink (no durability)
# and a throwaway Postfix instance accepting into its own durable queue, all driven by the same
# `smtp-source -s 20 -m 10000 -l 5120` on loopback, in one run; then DKIM signing cost with
# `openssl speed rsa2048` as the reference.
#
# Usage (from the repo root, as root; ~3 min per round plus a build):
#   bash bench/smtp.sh                 # ROUNDS=3 alternating rounds by default
#   ROUNDS=1 MESSAGES=2000 bash bench/smtp.sh
#
# Needs the Debian package `postfix` (smtp-source, smtp-sink, postfix itself). It installs it if missing
# (noninteractive, "No configuration", so the system's own Postfix is never configured or started).
# The test suite does not need Postfix; only this benchmark does.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
MESSAGES=${MESSAGES:-10000}
SESSIONS=${SESSIONS:-20}
SIZE=5120
DKIM_CPU=0
PORT_SINK=${PORT_SINK:-25841}
PORT_VEIL=${PORT_VEIL:-25842}
PORT_PF=${PORT_PF:-25843}

if ! command -v smtp-source >/dev/null || ! command -v postfix >/dev/null; then
  echo "== installing postfix (No configuration)"
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q postfix >/dev/null
fi

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(postconf -d mail_version 2>/dev/null), $(openssl version), spool on $(df --output=source,fstype /tmp | tail -1)"
dotnet build -c Release bench/Veil.MailBench -nologo -v q >/dev/null
BENCH="dotnet bench/Veil.MailBench/bin/Release/net10.0/Veil.MailBench.dll"
WORK=$(mktemp -d /tmp/veil-smtpbench.XXXXXX)
chmod 755 "$WORK"
PIDS=()
PF_DIRS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for d in "${PF_DIRS[@]}"; do postfix -c "$d/etc" stop >/dev/null 2>&1 || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

wait_port() { for _ in $(seq 1 200); do ss -ltn | grep -q "127.0.0.1:$1 " && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; return 1; }

# Runs smtp-source against a port; prints elapsed seconds. Any smtp-source complaint fails the run.
drive() {
  local port=$1 t0 t1 err
  t0=$(date +%s.%N)
  err=$(smtp-source -s "$SESSIONS" -m "$MESSAGES" -l "$SIZE" -t to@example.org -f from@example.org "127.0.0.1:$port" 2>&1) || true
  t1=$(date +%s.%N)
  if [ -n "$err" ]; then echo "smtp-source: $err" >&2; fi
  echo "$t0 $t1" | awk '{printf "%.3f", $2-$1}'
}

run_sink() {
  smtp-sink -u postfix "127.0.0.1:$PORT_SINK" 256 & local pid=$!; PIDS+=("$pid")
  wait_port "$PORT_SINK"
  local s; s=$(drive "$PORT_SINK")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  echo "$s"
}

run_veil() {
  local dir="$WORK/veil-$1"; mkdir -p "$dir"
  $BENCH serve "$dir" "$PORT_VEIL" > "$dir/log" 2>&1 & local pid=$!; PIDS+=("$pid")
  wait_port "$PORT_VEIL"
  local s; s=$(drive "$PORT_VEIL")
  kill -TERM "$pid"; wait "$pid" || true
  local n; n=$($BENCH count "$dir")
  rm -rf "$dir"
  echo "$s $n"
}

# A throwaway Postfix instance: its own config and queue under $WORK, smtpd on a loopback port, every
# message put on HOLD at RCPT (check_client_access static:HOLD), so it stays in the durable queue and
# nothing is delivered anywhere (and default_transport = discard besides).
run_postfix() {
  local pf="$WORK/postfix-$1"; mkdir -p "$pf/etc" "$pf/queue" "$pf/data"; chown postfix:postfix "$pf/data"
  cat > "$pf/etc/main.cf" <<MAIN
compatibility_level = 3.6
queue_directory = $pf/queue
data_directory = $pf/data
mail_owner = postfix
setgid_group = postdrop
myhostname = bench.veil.test
mydomain = veil.test
myorigin = veil.test
mydestination =
relay_domains = example.org
mynetworks = 127.0.0.0/8
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
smtpd_peername_lookup = no
smtpd_recipient_restrictions = check_client_access static:HOLD, permit_mynetworks, reject
default_transport = discard
relay_transport = discard
maillog_file = $pf/maillog
maillog_file_prefixes = $pf
biff = no
alias_maps =
alias_database =
local_recipient_maps =
MAIN
  cat > "$pf/etc/master.cf" <<MASTER
127.0.0.1:$PORT_PF inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
postlog   unix-dgram n - n - 1 postlogd
MASTER
  PF_DIRS+=("$pf")
  postfix -c "$pf/etc" start >/dev/null 2>&1 || { echo "postfix failed to start:" >&2; tail -5 "$pf/maillog" >&2; return 1; }
  wait_port "$PORT_PF"
  local s; s=$(drive "$PORT_PF")
  sleep 1 # let cleanup finish moving the last files; they were acknowledged already
  local held other
  held=$(find "$pf/queue/hold" -type f | wc -l)
  other=$(find "$pf/queue/incoming" "$pf/queue/active" "$pf/queue/deferred" -type f | wc -l)
  postfix -c "$pf/etc" stop >/dev/null 2>&1 || true
  echo "$s $held $other"
}

RESULTS="$WORK/results"
: > "$RESULTS"
for r in $(seq 1 "$ROUNDS"); do
  echo "== round $r/$ROUNDS: $SESSIONS sessions x $MESSAGES messages of $SIZE bytes"
  s=$(run_sink); echo "  smtp-sink (no durability):  ${s}s  $(awk -v m="$MESSAGES" -v s="$s" 'BEGIN{printf "%.0f", m/s}') msg/s"
  read -r v vn <<<"$(run_veil "$r")"; echo "  Veil engine + FileSpool:    ${v}s  $(awk -v m="$MESSAGES" -v s="$v" 'BEGIN{printf "%.0f", m/s}') msg/s  spooled $vn/$MESSAGES"
  read -r p ph po <<<"$(run_postfix "$r")"; echo "  Postfix durable queue:      ${p}s  $(awk -v m="$MESSAGES" -v s="$p" 'BEGIN{printf "%.0f", m/s}') msg/s  queued $ph/$MESSAGES (+$po elsewhere)"
  echo "$r $s $v $vn $p $ph" >> "$RESULTS"
done

/usr/bin/python3 - "$RESULTS" "$MESSAGES" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
m = int(sys.argv[2])
sink = [m / float(r[1]) for r in rows]; veil = [m / float(r[2]) for r in rows]; pf = [m / float(r[4]) for r in rows]
lost = [m - int(r[3]) for r in rows]; pflost = [m - int(r[5]) for r in rows]
print()
print(f"median of {len(rows)} round(s), msg/s: smtp-sink {statistics.median(sink):.0f}, Veil {statistics.median(veil):.0f}, Postfix durable {statistics.median(pf):.0f}")
print("per-round ratios Veil/smtp-sink: " + ", ".join(f"{v/s:.2f}x" for v, s in zip(veil, sink)))
print("per-round ratios Veil/Postfix durable: " + ", ".join(f"{v/p:.2f}x" for v, p in zip(veil, pf)))
print(f"median ratio Veil/smtp-sink {statistics.median(v/s for v, s in zip(veil, sink)):.2f}x, Veil/Postfix durable {statistics.median(v/p for v, p in zip(veil, pf)):.2f}x (target >= 3x)")
print(f"Veil messages lost per round: {lost}; Postfix: {pflost}")
PY

echo
echo "== DKIM signing of a 5 KiB message (taskset -c $DKIM_CPU), reference: openssl speed rsa2048"
taskset -c "$DKIM_CPU" openssl speed -seconds 3 rsa2048 2>/dev/null | tail -1 | awk '{print "  openssl RSA-2048 raw sign: " $6 " sign/s"}'
taskset -c "$DKIM_CPU" $BENCH dkim 7 | sed 's/^/  /'
taskset -c "$DKIM_CPU" openssl speed -seconds 3 rsa2048 2>/dev/null | tail -1 | awk '{print "  openssl RSA-2048 raw sign (again): " $6 " sign/s"}'
