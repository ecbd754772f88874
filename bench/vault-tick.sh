#!/usr/bin/env bash
# Vault scheduler tick cost vs. number of switches (docs/PERFORMANCE.md, "Vault scheduler").
# Usage: bash bench/vault-tick.sh [TOTALS] [DUE]     defaults: 10000,100000,1000000  100,1000
# Builds bench/Veil.VaultBench in Release and prints a Markdown table. Needs ~1 GiB of temp space for 1 M.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/Veil.VaultBench -c Release -p:VeilSkipWeb=true -v q -nologo >/dev/null
dotnet bench/Veil.VaultBench/bin/Release/net10.0/Veil.VaultBench.dll "${1:-10000,100000,1000000}" "${2:-100,1000}"
