#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages that are missing, with one apt-get update at most, then checks again.
#   scripts/ensure-packages.sh [--check] package:probe ...
# A probe says what the tests really use, not only that a package's main file is there (packages are installed
# without their recommendations, so swaks arrives without the Perl module its TLS needs):
#   name                 a command on PATH
#   /absolute/path       a file (libraries also match under any /usr/lib/<arch>/)
#   perl:Module::Name    a Perl module the system perl can load
#   python3:module       a module Debian's /usr/bin/python3 can import
# After installing, every probe runs again; one that still fails stops the script with its name, so a package that
# does not provide what its probe needs is found here rather than as a failing test. --check installs nothing and
# exits 1 if a probe fails (the probes' own test uses it).
set -euo pipefail

check_only=false
if [ "${1:-}" = "--check" ]; then check_only=true; shift; fi

probe_ok() { # probe
  local probe=$1
  case "$probe" in
    perl:*) perl -M"${probe#perl:}" -e 1 >/dev/null 2>&1 ;;
    python3:*) [ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import ${probe#python3:}" >/dev/null 2>&1 ;;
    /*)
      local name
      name=$(basename "$probe")
      [ -e "$probe" ] || compgen -G "/usr/lib/*/$name" >/dev/null || compgen -G "/usr/lib/$name" >/dev/null ;;
    *) command -v "$probe" >/dev/null ;;
  esac
}

missing_entries() { # entries... → prints the entries whose probe fails
  local entry
  for entry in "$@"; do
    probe_ok "${entry#*:}" || printf '%s\n' "$entry"
  done
}

mapfile -t missing < <(missing_entries "$@")
[ ${#missing[@]} -eq 0 ] && exit 0

if $check_only; then
  printf 'missing: %s\n' "${missing[@]}" >&2
  exit 1
fi

packages=()
for entry in "${missing[@]}"; do
  package=${entry%%:*}
  [[ " ${packages[*]} " == *" $package "* ]] || packages+=("$package")
done

if ! command -v apt-get >/dev/null; then
  echo "Missing: ${packages[*]}. Install them with your system's package manager (see README.md)." >&2
  exit 1
fi
printf '\033[1m==> Installing %s\033[0m\n' "${packages[*]}"
sudo_cmd=()
[ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null

mapfile -t still < <(missing_entries "${missing[@]}")
if [ ${#still[@]} -ne 0 ]; then
  for entry in "${still[@]}"; do
    echo "ensure-packages: installed ${entry%%:*}, but its probe '${entry#*:}' still fails" >&2
  done
  exit 1
fi
