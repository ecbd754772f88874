#!/usr/bin/env bash
# Double Ratchet encrypt/decrypt, the X3DH responder, sealed sender seal/open and sender-key encrypt/decrypt: Veil (bench/Veil.ChatBench) vs libsignal-client 0.103.0 through node
# (tests/oracle/libsignal/bench.mjs; test-only dependency), interleaved 3 times, medians printed.
#   bash bench/chat.sh [messages per run, default 20000]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20000}
(cd tests/oracle/libsignal && [ -d node_modules/@signalapp/libsignal-client ] || npm ci --no-audit --no-fund --loglevel=error)
dotnet build bench/Veil.ChatBench -c Release -nologo -v quiet -clp:ErrorsOnly
veil=() libsignal=()
for run in 1 2 3; do
  veil+=("$(dotnet bench/Veil.ChatBench/bin/Release/net10.0/Veil.ChatBench.dll "$n")")
  libsignal+=("$(cd tests/oracle/libsignal && node bench.mjs "$n")")
  echo "run $run: veil ${veil[-1]}  libsignal ${libsignal[-1]}"
done
median() { python3 -c 'import sys,json,statistics; k=sys.argv[1]; print(int(statistics.median(json.loads(l)[k] for l in sys.argv[2:])))' "$@"; }
for op in encrypt_per_s decrypt_per_s x3dh_responder_per_s sealed_seal_per_s sealed_open_per_s group_encrypt_per_s group_decrypt_per_s; do
  v=$(median "$op" "${veil[@]}"); l=$(median "$op" "${libsignal[@]}")
  python3 -c "print(f'$op: veil {$v:,}/s  libsignal {$l:,}/s  ratio {$v/$l:.1f}x')"
done
