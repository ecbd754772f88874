#!/usr/bin/env bash
# OpenPGP throughput, one run, medians (docs/PERFORMANCE.md "OpenPGP"): Veil's layer vs OpenPGP.js 6.3 in node and
# gpg 2.2 per process, 100 KiB and 10 MiB, encrypt+sign and decrypt+verify; all pinned to CPU 0.
set -euo pipefail
cd "$(dirname "$0")/.."
(cd tests/peers/openpgpjs && node --input-type=module -e "await import('openpgp')") 2>/dev/null \
  || npm ci --prefix tests/peers/openpgpjs --no-audit --no-fund
dotnet build bench/Veil.PgpBench -c Release -nologo -v quiet -clp:ErrorsOnly
echo "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), gpg $(gpg --version | head -1 | awk '{print $3}'), node $(node --version)"
taskset -c 0 dotnet run -c Release --no-build --project bench/Veil.PgpBench -- tests/peers/openpgpjs
