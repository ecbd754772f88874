#!/usr/bin/env bash
# Runs every Veil test, on SQLite and on PostgreSQL, from a fresh Debian/Ubuntu machine with the .NET 10 SDK.
#   ./test.sh            everything
#   ./test.sh --sqlite   skip the PostgreSQL pass (quick local loop)
# It installs what is missing (apt), starts a throwaway PostgreSQL on a loopback port, runs the suite
# against both databases, stops PostgreSQL and exits non-zero if anything failed.
set -euo pipefail
cd "$(dirname "$0")"

only_sqlite=false
[ "${1:-}" = "--sqlite" ] && only_sqlite=true

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# --- 1. System packages ---------------------------------------------------------------------------
# Native libraries Veil.Crypto loads; the independent peers the tests use (the reference argon2 CLI,
# Debian's python3 with pyca/cryptography, dkimpy (+ PyNaCl for Ed25519) and aiosmtpd, swaks with the Perl TLS module its
# STARTTLS needs); dnsmasq (a DNS server on loopback for the mail DNS tests); PostgreSQL; OpenSSL; Chromium; nginx (the load balancer of the scale-out tests). Each probe names what the tests use (see scripts/ensure-packages.sh);
# tests/Veil.Mail.Tests/PeerProbeTests.cs checks that the list covers every Python module the test peers import.
# Node.js/npm (20.19+) come with the build image: Debian's own nodejs is too old for the web build.
scripts/ensure-packages.sh \
  libsodium23:/usr/lib/x86_64-linux-gnu/libsodium.so.23 \
  libargon2-1:/usr/lib/x86_64-linux-gnu/libargon2.so.1 \
  argon2:argon2 \
  python3-cryptography:python3:cryptography.hazmat.primitives.ciphers.aead \
  python3-dkim:python3:dkim \
  python3-nacl:python3:nacl.signing \
  python3-aiosmtpd:python3:aiosmtpd.controller \
  swaks:swaks \
  dnsmasq-base:/usr/sbin/dnsmasq \
  libnet-ssleay-perl:perl:Net::SSLeay \
  postgresql:/usr/lib/postgresql \
  openssl:openssl \
  gnupg:/usr/bin/gpg \
  chromium:/usr/bin/chromium \
  nginx-light:/usr/sbin/nginx
command -v npm >/dev/null || { echo "test.sh: npm (Node.js 20.19 or newer) is required to build the web client" >&2; exit 1; }
# The libsignal-client oracle (npm, AGPL-3.0) is test-only: installed into tests/oracle/libsignal, never shipped.
say "Installing the libsignal test oracle"
(cd tests/oracle/libsignal && npm ci --no-audit --no-fund --loglevel=error) \
  && (cd tests/oracle/libsignal && node -e "require('@signalapp/libsignal-client')") \
  || { echo "test.sh: could not install or load @signalapp/libsignal-client (tests/oracle/libsignal)" >&2; exit 1; }
export VEIL_REQUIRE_LIBSIGNAL=1
# OpenPGP.js 6.3, the node peer of the OpenPGP tests (tests/peers/openpgpjs): probe the module, not node.
(cd tests/peers/openpgpjs && node --input-type=module -e "await import('openpgp')") 2>/dev/null \
  || { npm ci --prefix tests/peers/openpgpjs --no-audit --no-fund --loglevel=error \
       && (cd tests/peers/openpgpjs && node --input-type=module -e "await import('openpgp')"); } \
  || { echo "test.sh: could not install or load openpgp (tests/peers/openpgpjs)" >&2; exit 1; }
# s3rver 3.7 (npm), the S3-compatible server of the S3 blob store and scale-out tests (tests/peers/s3rver; ADR 0009).
(cd tests/peers/s3rver && node -e "require('s3rver')") 2>/dev/null \
  || { npm ci --prefix tests/peers/s3rver --no-audit --no-fund --loglevel=error \
       && (cd tests/peers/s3rver && node -e "require('s3rver')"); } \
  || { echo "test.sh: could not install or load s3rver (tests/peers/s3rver)" >&2; exit 1; }
command -v dotnet >/dev/null || { echo "test.sh: the .NET 10 SDK is required (https://dot.net); 'dotnet' is not on PATH" >&2; exit 1; }

# --- 2. Build once --------------------------------------------------------------------------------
say "Building"
dotnet build Veil.slnx -c Debug -nologo -v quiet -clp:ErrorsOnly

results=$(mktemp -d /tmp/veil-test-results.XXXXXX)
pg_dir=""
cleanup() {
  if [ -n "$pg_dir" ]; then scripts/postgres.sh stop "$pg_dir"; fi
}
trap cleanup EXIT

status=0
run_tests() { # label, extra env..., -- projects...
  local label=$1; shift
  local envs=()
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  for project in "$@"; do
    local name
    name=$(basename "$project" .csproj)
    say "Testing $name on $label"
    env "${envs[@]}" dotnet test "$project" --no-build -nologo \
      --blame-hang-timeout 10m \
      --logger "console;verbosity=minimal" \
      --logger "trx;LogFileName=$results/$name-$label.trx" || status=1
  done
}

all_projects=(tests/*/*.Tests.csproj)
# Projects whose tests reach the database run a second time on PostgreSQL (the browser tests too: the web app
# drives the same server).
db_projects=(tests/Veil.Server.Tests/Veil.Server.Tests.csproj tests/Veil.Client.Tests/Veil.Client.Tests.csproj tests/Veil.Cli.Tests/Veil.Cli.Tests.csproj tests/Veil.E2E.Tests/Veil.E2E.Tests.csproj)

# --- 3. Independent cross-checks of Veil's own vectors (no Veil code: argon2 CLI + python) -------
say "Cross-checking spec/vectors with independent implementations"
spec/vectors/check-keys.sh || status=1
/usr/bin/python3 spec/vectors/check-drop.py || status=1
/usr/bin/python3 spec/vectors/check-vault.py || status=1
/usr/bin/python3 spec/vectors/check-chat.py || status=1

# --- 4. SQLite ------------------------------------------------------------------------------------
run_tests sqlite VEIL_TEST_DATABASE=sqlite -- "${all_projects[@]}"

# --- 5. PostgreSQL --------------------------------------------------------------------------------
if ! $only_sqlite; then
  say "Starting a throwaway PostgreSQL"
  pg_dir=$(mktemp -d /tmp/veil-pg.XXXXXX)
  port=$(( 20000 + RANDOM % 20000 ))
  # With TLS from a throwaway CA (DIR/ca.pem): the production TLS rule is tested against it (DatabaseTlsTests).
  pg_conn=$(scripts/postgres.sh start "$pg_dir" "$port" --tls)
  run_tests postgres VEIL_TEST_DATABASE=postgres "VEIL_TEST_POSTGRES=$pg_conn" "VEIL_TEST_POSTGRES_CA=$pg_dir/ca.pem" -- "${db_projects[@]}"
fi

# --- 6. Vector totals -----------------------------------------------------------------------------
say "Test vectors"
grep -ho 'Vectors [^&<]*: [0-9]* passed[^&<]*' "$results"/*.trx 2>/dev/null | sort -u || echo "(no vector totals found)"

if [ $status -ne 0 ]; then
  say "FAILED"
else
  say "All tests passed"
fi
exit $status
