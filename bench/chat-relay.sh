#!/usr/bin/env bash
# The chat relay under load (tests/Veil.Server.Tests/Chat/ChatRelayBench.cs): the real server on Kestrel, real
# sockets, SQLite or a throw-away PostgreSQL. Maximum delivered+acked rate, send->receive latency at half of it,
# and the raw database rate for the same rows (bump sequence + insert, read back, delete), one JSON line per run.
#   bash bench/chat-relay.sh [sqlite|postgres] [runs, default 3]      env: VEIL_BENCH_PAIRS (32), VEIL_BENCH_SECONDS (10)
set -euo pipefail
cd "$(dirname "$0")/.."
database=${1:-sqlite}
runs=${2:-3}
dotnet build tests/Veil.Server.Tests -c Release -nologo -v quiet -clp:ErrorsOnly >/dev/null
export VEIL_BENCH=1 VEIL_TEST_DATABASE=$database
if [ "$database" = postgres ]; then
  dir=$(mktemp -d /tmp/veil-chat-relay-pg.XXXXXX)
  trap 'scripts/postgres.sh stop "$dir" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
  VEIL_TEST_POSTGRES=$(scripts/postgres.sh start "$dir" "${VEIL_BENCH_PG_PORT:-55491}")
  export VEIL_TEST_POSTGRES
fi
echo "== $(nproc) cores, $(dotnet --version), $database, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for run in $(seq "$runs"); do
  dotnet test tests/Veil.Server.Tests -c Release --no-build --filter "FullyQualifiedName~ChatRelayBench" \
    --logger "console;verbosity=detailed" 2>&1 | grep -o 'CHAT-RELAY-BENCH .*' | sed "s/^CHAT-RELAY-BENCH /run $run: /"
done
