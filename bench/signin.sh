#!/usr/bin/env bash
# Identity sign-in under load, against the machine's bare Argon2id rate, in one run.
# Usage: bash bench/signin.sh [ACCOUNTS] [SECONDS]     (from the repo root; default 40 accounts, 20 s)
#
#  1. Builds the CLI (Release) and starts `veil serve` on loopback with a fresh data directory and
#     SQLite. Identity's per-IP and per-account sign-in limits are raised so that one loopback client
#     measures the hashing path, not the rate limiter; Hashing:MaxConcurrent etc. stay at their defaults.
#  2. Registers ACCOUNTS accounts once (verification links read from <data>/outbox/*.eml).
#  3. Bare Argon2id: `argon2` (the reference CLI, libargon2) at the server's verifier cost
#     (Argon2id, m=19 MiB, t=2, p=1; ClientKeyDerivation.ServerVerifierParameters): median time per
#     hash over 15 runs; bare rate = cores / time per hash.
#  4. (a) sign-ins/s: `nproc` × 2 client threads sign in with the right auth token in a closed loop for
#     SECONDS; rate = successful sign-ins / s; ratio = rate / bare rate.
#  5. (b) flood: 200 concurrent sign-in attempts at once; each must be answered (200, 429 or 503)
#     within 30 s; peak server memory = VmHWM of the server process (/proc/<pid>/status).
# The server is stopped (and its data deleted) on exit, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
ACCOUNTS=${1:-40}
SECONDS_A=${2:-20}
FLOOD=200
PORT=${VEIL_BENCH_PORT:-55480}
DATA=$(mktemp -d /tmp/veil-signin-bench.XXXXXX)
PID=""
cleanup() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill "$PID"; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$DATA"
}
trap cleanup EXIT

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(dotnet --version)"
dotnet build -c Release src/Veil.Cli -nologo -v q >/dev/null

echo "== bare Argon2id (argon2 CLI, -id -t 2 -k 19456 -p 1 -l 32), median of 15 of its own timings"
BARE_MS=$(python3 - <<'PY'
import re, subprocess, statistics
times = []
for i in range(15):
    out = subprocess.run(["argon2", "saltsaltsaltsalt", "-id", "-t", "2", "-k", "19456", "-p", "1", "-l", "32"],
                         input=b"0123456789abcdef0123456789abcdef", check=True, capture_output=True).stdout.decode()
    times.append(float(re.search(r"([0-9.]+) seconds", out).group(1)))
print(f"{statistics.median(times)*1000:.2f}")
PY
)
echo "median time per hash: ${BARE_MS} ms (the CLI's own timing, without process start-up)"

echo "== starting veil serve on 127.0.0.1:$PORT (data $DATA)"
# Policy names contain '-', which bash cannot export, so env(1) passes them.
env Veil__RateLimits__identity-signin__PermitLimit=1000000 \
  Veil__RateLimits__identity-signin-target__PermitLimit=1000000 \
  Veil__RateLimits__identity-prelogin__PermitLimit=1000000 \
  Veil__RateLimits__identity-mail-target__PermitLimit=1000000 \
  Veil__RateLimits__ip__PermitLimit=1000000 \
  Veil__RateLimits__account-requests__PermitLimit=1000000 \
  dotnet src/Veil.Cli/bin/Release/net10.0/veil.dll serve --data "$DATA" --http "http://127.0.0.1:$PORT" >"$DATA.log" 2>&1 &
PID=$!
for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
  kill -0 "$PID" 2>/dev/null || { echo "server exited:"; cat "$DATA.log"; exit 1; }
  sleep 0.5
done

python3 - "$PORT" "$DATA" "$PID" "$ACCOUNTS" "$SECONDS_A" "$FLOOD" "$BARE_MS" "$(nproc)" <<'PY'
import email as email_parser, base64, concurrent.futures as cf, glob, json, os, re, statistics, sys, threading, time, urllib.request, urllib.error
port, data, pid, n, seconds, flood, bare_ms, cores = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7]), int(sys.argv[8])
base = f"http://127.0.0.1:{port}"

def post(path, body, timeout=60):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()

def b64(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
def hwm():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"): return int(line.split()[1])  # KiB

accounts = []
for i in range(n):
    email, token = f"bench-{i}-{os.urandom(4).hex()}@example.org", b64(os.urandom(32))
    s, body = post("/api/v1/accounts", {"email": email, "authToken": token, "protectedUserKey": "v1.bench",
        "kdf": {"kdf": "argon2id", "memoryKiB": 65536, "iterations": 3, "parallelism": 4, "salt": b64(os.urandom(16))}})
    assert s == 202, (s, body)
    accounts.append((email, token))
pattern = re.compile(r"/verify-email#([A-Za-z0-9_-]{43})")
for email, _ in accounts:
    for _ in range(100):
        files = [f for f in glob.glob(os.path.join(data, "outbox", "*.eml")) if email in open(f, errors="replace").read()]
        if files: break
        time.sleep(0.1)
    message = email_parser.message_from_binary_file(open(files[0], "rb"))
    text = "".join(part.get_payload(decode=True).decode(errors="replace") for part in message.walk() if part.get_content_maintype() == "text")
    token = pattern.search(text).group(1)
    s, body = post("/api/v1/accounts/verify-email", {"token": token})
    assert s == 200, (s, body)
print(f"registered and verified {n} accounts; server VmHWM after setup {hwm()/1024:.0f} MiB")

def login(i):
    email, token = accounts[i % n]
    return post("/api/v1/auth/login", {"email": email, "authToken": token, "clientLabel": "bench", "tokenTransport": "body"})[0]

# (a) closed-loop throughput, after a short warm-up
for i in range(4): login(i)
stop, counts, lock = time.perf_counter() + seconds, {}, threading.Lock()
def worker(k):
    i = k
    while time.perf_counter() < stop:
        s = login(i); i += 7
        with lock: counts[s] = counts.get(s, 0) + 1
t0 = time.perf_counter()
with cf.ThreadPoolExecutor(cores * 2) as ex: list(ex.map(worker, range(cores * 2)))
elapsed = time.perf_counter() - t0
ok = counts.get(200, 0)
rate = ok / elapsed
bare_rate = cores / (bare_ms / 1000)
print(f"(a) {ok} sign-ins in {elapsed:.1f} s with {cores*2} client threads: {rate:.1f}/s (statuses {counts})")
print(f"    bare Argon2id: {bare_ms:.1f} ms/hash -> {cores} cores / {bare_ms:.1f} ms = {bare_rate:.1f}/s; ratio {rate/bare_rate:.2f}x")

# (b) flood: 200 attempts released at once
barrier = threading.Barrier(flood)
def attempt(i):
    barrier.wait()
    t = time.perf_counter()
    try: s = login(i)
    except Exception as e: s = repr(e)
    return s, time.perf_counter() - t
before = hwm()
with cf.ThreadPoolExecutor(flood) as ex: results = list(ex.map(attempt, range(flood)))
statuses = {}
for s, _ in results: statuses[s] = statuses.get(s, 0) + 1
slowest = max(t for _, t in results)
answered = all(s in (200, 429, 503) and t <= 30 for s, t in results)
peak = hwm()
print(f"(b) {flood} concurrent sign-ins: statuses {statuses}; slowest answer {slowest:.2f} s; all answered (200/429/503) within 30 s: {answered}")
print(f"    server VmHWM (peak resident): {peak/1024:.0f} MiB (before the flood {before/1024:.0f} MiB); target < 1024 MiB")
print(f"RESULT bare_ms={bare_ms:.1f} bare_rate={bare_rate:.1f} signin_rate={rate:.1f} ratio={rate/bare_rate:.2f} flood={statuses} slowest={slowest:.2f}s peak_mib={peak/1024:.0f} answered={answered}")
PY
rm -f "$DATA.log"
