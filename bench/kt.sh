#!/usr/bin/env bash
# Key transparency: client verification of a checkpoint signature + consistency + inclusion at 1,000,000 leaves
# against a floor of 64 SHA-256 and one Ed25519 verify, in the same process (bench/Veil.KtBench).
#   bash bench/kt.sh [iterations per round, default 2000]
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/Veil.KtBench -c Release -nologo -v quiet -clp:ErrorsOnly
dotnet bench/Veil.KtBench/bin/Release/net10.0/Veil.KtBench.dll "${1:-2000}"
