#!/usr/bin/env bash
# Drop transfer over loopback, in one run: `veil drop send` / `veil drop get` of one random file against
# the same server moving the same bytes without encryption (curl through the same Drop API), plus
# OpenSSL's single-core AES-256-GCM as the CPU reference. Prints the rows for docs/PERFORMANCE.md.
#
# Usage (from anywhere; Release build of src/Veil.Cli unless --no-build):
#   bash bench/drop.sh [SIZE_MIB] [--no-build]        default SIZE_MIB=1024
#
# What is measured
# - plain: create a drop whose contentSize is the file size, PUT the raw file cut into the server's
#   parts with one curl (one connection, parts in order, like the client), finalize, then GET the
#   content with curl. Same server, same parts, same fsync per part: only the client-side encryption
#   (and the veil process) differ.
# - veil: `veil drop send FILE` (link on the last stdout line), then `veil drop get LINK -o DIR`.
# - wall time of each transfer (date before/after), client peak RSS from /usr/bin/time -v, server
#   peak RSS (VmHWM of the server process) read once at the end, after all four transfers.
# - overhead = (veil time - plain time) / plain time, target < 25 %; MB/s = 10^6 bytes/s of plaintext.
# - the downloaded files are compared with the original by SHA-256.
# The server is stopped (SIGTERM, by its pid) and every temporary file removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

SIZE_MIB=1024
BUILD=true
for arg in "$@"; do
  case "$arg" in
    --no-build) BUILD=false ;;
    ''|*[!0-9]*) echo "usage: bash bench/drop.sh [SIZE_MIB] [--no-build]" >&2; exit 2 ;;
    *) SIZE_MIB=$arg ;;
  esac
done
SIZE=$((SIZE_MIB * 1024 * 1024))
# Extra environment for the two veil client processes only (e.g. CLIENT_ENV=DOTNET_GCgen0size=0x400000).
CLIENT_ENV=${CLIENT_ENV:-}

for tool in dotnet curl jq openssl taskset sha256sum /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench/drop.sh: $tool is required" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/veil-drop-bench.XXXXXX)
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(openssl version), load $(cut -d' ' -f1-3 /proc/loadavg)"
[ -n "$CLIENT_ENV" ] && echo "== client environment: $CLIENT_ENV"
echo "== commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src || echo ' (+ uncommitted changes in src)')"

if $BUILD; then
  echo "== dotnet build src/Veil.Cli -c Release"
  dotnet build src/Veil.Cli -c Release -nologo -v q -clp:ErrorsOnly >/dev/null
fi
VEIL="$ROOT/src/Veil.Cli/bin/Release/net10.0/veil.dll"
[ -f "$VEIL" ] || { echo "bench/drop.sh: $VEIL not built" >&2; exit 1; }

echo "== openssl speed -evp aes-256-gcm -bytes 16384 -seconds 3 (taskset -c 0)"
OPENSSL_OUT=$(taskset -c 0 openssl speed -evp aes-256-gcm -bytes 16384 -seconds 3 2>/dev/null)
# Last line: "AES-256-GCM  <N>k" where N is thousands of bytes per second.
OPENSSL_MBS=$(echo "$OPENSSL_OUT" | tail -1 | awk '{v=$NF; sub(/k$/,"",v); printf "%.1f", v/1000}')
echo "   $OPENSSL_MBS MB/s"

echo "== generating $SIZE_MIB MiB of random data"
FILE="$WORK/payload.bin"
head -c "$SIZE" /dev/urandom > "$FILE"
SHA=$(sha256sum "$FILE" | cut -d' ' -f1)

# --- server --------------------------------------------------------------------------------------
mkdir -p "$WORK/data" "$WORK/config" "$WORK/cache" "$WORK/get" "$WORK/parts"
export Veil__Drop__Anonymous__MaxDropBytes=$((SIZE * 2 + 1048576))   # ciphertext is a little larger than the file
export Veil__Drop__Anonymous__IpQuotaBytes=$((SIZE * 4 + 4194304))
export Veil__Drop__Anonymous__MaxExpiry=7.00:00:00
dotnet "$VEIL" serve --data "$WORK/data" --http http://127.0.0.1:0 > "$WORK/server.log" 2>&1 &
SERVER_PID=$!
ORIGIN=""
for _ in $(seq 1 600); do
  ORIGIN=$(grep -o 'Veil is listening on http://[^ ]*' "$WORK/server.log" | head -1 | awk '{print $NF}' || true)
  [ -n "$ORIGIN" ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "server exited:"; cat "$WORK/server.log"; exit 1; }
  sleep 0.1
done
[ -n "$ORIGIN" ] || { echo "server did not start:"; cat "$WORK/server.log"; exit 1; }
ORIGIN=${ORIGIN%/}
echo "== server pid $SERVER_PID at $ORIGIN (Release)"

now() { date +%s.%N; }
rss_kib() { grep 'Maximum resident set size' "$1" | awk '{print $NF}'; }

# Warm the page cache so both paths read the file from memory.
cat "$FILE" > /dev/null

# --- plain upload (curl) -------------------------------------------------------------------------
CREATE=$(curl -sS --fail-with-body -X POST "$ORIGIN/api/v1/drops" -H 'Content-Type: application/json' \
  -d "{\"contentSize\": $SIZE, \"expiresInSeconds\": 3600}")
PLAIN_ID=$(echo "$CREATE" | jq -r .id)
PLAIN_OWNER=$(echo "$CREATE" | jq -r .ownerToken)
PART_SIZE=$(echo "$CREATE" | jq -r .partSize)
PART_COUNT=$(echo "$CREATE" | jq -r .partCount)
# Cut the file into the server's parts before the clock starts (page-cached, like the file veil reads).
split -b "$PART_SIZE" -d -a 6 "$FILE" "$WORK/parts/p"
cat "$WORK/parts"/p* > /dev/null
{
  echo "silent"; echo "show-error"; echo "fail"
  echo "header = \"X-Owner-Token: $PLAIN_OWNER\""
  echo "header = \"Content-Type: application/octet-stream\""
  echo "header = \"Expect:\""   # no 100-continue round trip per part (the veil client sends none either)
  for ((n = 0; n < PART_COUNT; n++)); do
    printf 'upload-file = "%s/parts/p%06d"\nurl = "%s/api/v1/drops/%s/parts/%d"\noutput = "/dev/null"\n' "$WORK" "$n" "$ORIGIN" "$PLAIN_ID" "$n"
  done
} > "$WORK/curl-parts.conf"
echo "== plain upload: curl, $PART_COUNT parts of $PART_SIZE bytes"
t0=$(now)
/usr/bin/time -v -o "$WORK/time-plain-up" curl -K "$WORK/curl-parts.conf"
curl -sS --fail-with-body -o /dev/null -X PUT "$ORIGIN/api/v1/drops/$PLAIN_ID/metadata" -H "X-Owner-Token: $PLAIN_OWNER" \
  -H 'Content-Type: application/octet-stream' --data-binary 'bench-metadata-placeholder'
curl -sS --fail-with-body -o /dev/null -X POST "$ORIGIN/api/v1/drops/$PLAIN_ID/finalize" -H "X-Owner-Token: $PLAIN_OWNER"
t1=$(now)
PLAIN_UP=$(echo "$t1 - $t0" | bc -l)
rm -rf "$WORK/parts"

# --- veil send -----------------------------------------------------------------------------------
echo "== veil drop send"
export VEIL_CONFIG_DIR="$WORK/config" VEIL_CACHE_DIR="$WORK/cache"
t0=$(now)
/usr/bin/time -v -o "$WORK/time-veil-up" env $CLIENT_ENV dotnet "$VEIL" drop send "$FILE" --server "$ORIGIN" --expires 1h --no-resume \
  > "$WORK/send.out" 2> "$WORK/send.err" || { cat "$WORK/send.err"; exit 1; }
t1=$(now)
VEIL_UP=$(echo "$t1 - $t0" | bc -l)
LINK=$(tail -1 "$WORK/send.out")

# --- plain download (curl) -----------------------------------------------------------------------
echo "== plain download: curl"
t0=$(now)
/usr/bin/time -v -o "$WORK/time-plain-down" curl -sS --fail -o "$WORK/plain.out" "$ORIGIN/api/v1/drops/$PLAIN_ID/content"
t1=$(now)
PLAIN_DOWN=$(echo "$t1 - $t0" | bc -l)
PLAIN_SHA=$(sha256sum "$WORK/plain.out" | cut -d' ' -f1)
rm -f "$WORK/plain.out"
curl -sS --fail -o /dev/null -X DELETE "$ORIGIN/api/v1/drops/$PLAIN_ID" -H "X-Owner-Token: $PLAIN_OWNER"

# --- veil get ------------------------------------------------------------------------------------
echo "== veil drop get"
t0=$(now)
/usr/bin/time -v -o "$WORK/time-veil-down" env $CLIENT_ENV dotnet "$VEIL" drop get "$LINK" -o "$WORK/get" \
  > "$WORK/get.out" 2> "$WORK/get.err" || { cat "$WORK/get.err"; exit 1; }
t1=$(now)
VEIL_DOWN=$(echo "$t1 - $t0" | bc -l)
VEIL_SHA=$(sha256sum "$WORK/get/payload.bin" | cut -d' ' -f1)

SERVER_HWM=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status")

# --- report --------------------------------------------------------------------------------------
python3 - "$SIZE" "$OPENSSL_MBS" "$PLAIN_UP" "$VEIL_UP" "$PLAIN_DOWN" "$VEIL_DOWN" \
  "$(rss_kib "$WORK/time-plain-up")" "$(rss_kib "$WORK/time-veil-up")" "$(rss_kib "$WORK/time-plain-down")" "$(rss_kib "$WORK/time-veil-down")" \
  "$SERVER_HWM" "$SHA" "$PLAIN_SHA" "$VEIL_SHA" <<'PY'
import sys
size, openssl = int(sys.argv[1]), float(sys.argv[2])
pu, vu, pd, vd = map(float, sys.argv[3:7])
rss_pu, rss_vu, rss_pd, rss_vd, server = map(int, sys.argv[7:12])
sha, plain_sha, veil_sha = sys.argv[12:15]
mbs = lambda t: size / t / 1e6
mib = lambda kib: kib / 1024
print()
print(f"file: {size / 2**20:.0f} MiB; OpenSSL AES-256-GCM 16 KiB, 1 core: {openssl:.1f} MB/s")
print("| direction | plain (curl) | veil | encryption overhead (target < 25 %) | veil vs OpenSSL | client peak RSS veil (curl) |")
print("|---|---:|---:|---:|---:|---:|")
for name, p, v, rp, rv in (("send / upload", pu, vu, rss_pu, rss_vu), ("get / download", pd, vd, rss_pd, rss_vd)):
    print(f"| {name} | {p:.2f} s ({mbs(p):.0f} MB/s) | {v:.2f} s ({mbs(v):.0f} MB/s) | {(v - p) / p * 100:+.0f} % | {mbs(v) / openssl:.2f}x | {mib(rv):.1f} MiB ({mib(rp):.1f} MiB) |")
print(f"server peak RSS (VmHWM, whole run): {mib(server):.1f} MiB (target < 256 MiB); client target < 64 MiB")
ok = sha == plain_sha == veil_sha
print(f"sha256 original {sha[:16]}…, curl download {'identical' if plain_sha == sha else 'DIFFERENT'}, veil get {'identical' if veil_sha == sha else 'DIFFERENT'}")
sys.exit(0 if ok else 1)
PY
