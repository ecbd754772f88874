#!/usr/bin/env bash
# Starts Veil with embedded defaults: SQLite and files in ./.data, a development keyring, mail to ./.data/outbox.
#   ./serve.sh [veil serve options...]      e.g. ./serve.sh --http http://127.0.0.1:9000
set -euo pipefail
cd "$(dirname "$0")"
scripts/ensure-packages.sh \
  libsodium23:/usr/lib/x86_64-linux-gnu/libsodium.so.23 \
  libargon2-1:/usr/lib/x86_64-linux-gnu/libargon2.so.1
command -v dotnet >/dev/null || { echo "serve.sh: the .NET 10 SDK is required (https://dot.net); 'dotnet' is not on PATH" >&2; exit 1; }
exec dotnet run --project src/Veil.Cli -c Release -- serve "$@"
