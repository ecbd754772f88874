#!/usr/bin/env bash
# The key transparency sequencer at a million leaves (tests/Veil.Server.Tests/Transparency/KtSequencerBench.cs): the real
# server, SQLite or a throw-away PostgreSQL, tiles in the file blob store. One JSON line per run: the write rate of the
# entries, appends/s over the run and over its last tenth, and a lookup with a consistency proof at the end.
#   bash bench/kt-sequencer.sh [sqlite|postgres] [runs, default 1]     env: VEIL_BENCH_KT_LEAVES (1000000), VEIL_BENCH_KT_BATCH (4096)
set -euo pipefail
cd "$(dirname "$0")/.."
database=${1:-sqlite}
runs=${2:-1}
dotnet build tests/Veil.Server.Tests -c Release -nologo -v quiet -clp:ErrorsOnly >/dev/null
export VEIL_BENCH=1 VEIL_TEST_DATABASE=$database
if [ "$database" = postgres ]; then
  dir=$(mktemp -d /tmp/veil-kt-pg.XXXXXX)
  trap 'scripts/postgres.sh stop "$dir" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
  VEIL_TEST_POSTGRES=$(scripts/postgres.sh start "$dir" "${VEIL_BENCH_PG_PORT:-55493}")
  export VEIL_TEST_POSTGRES
fi
echo "== $(nproc) cores, $(dotnet --version), $database, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for run in $(seq "$runs"); do
  dotnet test tests/Veil.Server.Tests -c Release --no-build --filter "FullyQualifiedName~KtSequencerBench" \
    --logger "console;verbosity=detailed" 2>&1 | grep -o 'KT-SEQUENCER-BENCH .*' | sed "s/^KT-SEQUENCER-BENCH /run $run: /"
done
