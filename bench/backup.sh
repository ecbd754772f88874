#!/usr/bin/env bash
# Backup throughput: `veil admin backup create` and `verify` over a data directory holding BLOB_MB MiB of blobs
# (1 MiB random files, as drop and vault ciphertext is), against a plain `cp -r` of the same files in the same run.
#   BLOB_MB=200 bash bench/backup.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mb=${BLOB_MB:-200}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
veil() { dotnet "$root/src/Veil.Cli/bin/Release/net10.0/veil.dll" "$@"; }
dotnet build "$root/src/Veil.Cli" -c Release -nologo -v quiet -clp:ErrorsOnly >/dev/null
veil admin backup keygen --out "$work/operator.key" --json >"$work/key.json"
recipient=$(sed -n 's/.*"recipient":"\([^"]*\)".*/\1/p' "$work/key.json")
veil admin doctor --data "$work/data" >/dev/null || true   # creates and migrates the data directory
mkdir -p "$work/data/blobs/bench"
for i in $(seq 1 "$mb"); do head -c 1048576 /dev/urandom >"$work/data/blobs/bench/$i"; done
sync
now() { date +%s.%N; }
t0=$(now); cp -r "$work/data/blobs" "$work/copy"; sync; t1=$(now)
veil admin backup create --to "$work/b.vbk" --recipient "$recipient" --data "$work/data" --json 2>/dev/null; sync; t2=$(now)
veil admin backup verify "$work/b.vbk" --identity "$work/operator.key" --json 2>/dev/null; t3=$(now)
awk -v mb="$mb" -v cp="$(echo "$t1 - $t0" | bc)" -v cr="$(echo "$t2 - $t1" | bc)" -v vf="$(echo "$t3 - $t2" | bc)" 'BEGIN {
  printf "blobs %d MiB: cp -r %.2f s (%.0f MiB/s); backup create %.2f s (%.0f MiB/s, process start included); verify %.2f s (%.0f MiB/s)\n", mb, cp, mb/cp, cr, mb/cr, vf, mb/vf }'
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
