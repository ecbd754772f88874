#!/usr/bin/env bash
# Cobblestone-256 throughput against OpenSSL's AES-256-GCM on the same core, in one run.
# Usage: bash bench/cobblestone.sh        (from the repo root; ~3-4 minutes)
# Both measurements are pinned to CPU 0 with taskset. MB/s = 10^6 bytes per second for both.
set -euo pipefail
cd "$(dirname "$0")/.."
ARTIFACTS=bench/BenchmarkDotNet.Artifacts
CPU=0
SIZE=$((256 * 1024 * 1024))

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(openssl version)"

echo "== openssl speed -evp aes-256-gcm -bytes 16384 -seconds 3 (taskset -c $CPU)"
OPENSSL_OUT=$(taskset -c "$CPU" openssl speed -evp aes-256-gcm -bytes 16384 -seconds 3 2>/dev/null)
echo "$OPENSSL_OUT" | tail -3
# Last line: "AES-256-GCM  <N>k" where N is thousands of bytes per second.
OPENSSL_MBS=$(echo "$OPENSSL_OUT" | tail -1 | awk '{v=$NF; sub(/k$/,"",v); printf "%.1f", v/1000}')

echo "== BenchmarkDotNet (taskset -c $CPU)"
dotnet build -c Release bench/Veil.Bench -nologo -v q >/dev/null
rm -rf "$ARTIFACTS"
taskset -c "$CPU" dotnet run -c Release --no-build --project bench/Veil.Bench -- \
  --filter '*Cobblestone*' --artifacts "$ARTIFACTS" | tee "$ARTIFACTS.log" | grep -E '^\|' || true
ALLOC=$(taskset -c "$CPU" dotnet run -c Release --no-build --project bench/Veil.Bench -- --alloc)
echo "$ALLOC"
CSV=$(ls "$ARTIFACTS"/results/*Cobblestone*-report.csv)

/usr/bin/python3 - "$CSV" "$OPENSSL_MBS" "$SIZE" <<'PY'
import csv, sys
path, openssl, size = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
def num(s):
    return float(s.replace(',', '').split()[0])
print()
print(f"OpenSSL AES-256-GCM 16 KiB, 1 core: {openssl:.1f} MB/s")
for row in csv.DictReader(open(path)):
    median_ms = num(row['Median'])
    mbs = size / (median_ms / 1000) / 1e6
    print(f"{row['Method']}: median {median_ms:.1f} ms, {mbs:.1f} MB/s, ratio {mbs / openssl:.2f}x OpenSSL, BDN allocated {row['Allocated']}")
PY
