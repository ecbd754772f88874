#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages that are missing, with one apt-get update at most.
#   scripts/ensure-packages.sh package:probe ...
# A probe is a command name, or an absolute file path (libraries match under any /usr/lib/<arch>/).
set -euo pipefail

missing=()
for entry in "$@"; do
  package=${entry%%:*}
  probe=${entry#*:}
  if [[ $probe == /* ]]; then
    name=$(basename "$probe")
    [ -e "$probe" ] || compgen -G "/usr/lib/*/$name" >/dev/null || compgen -G "/usr/lib/$name" >/dev/null || missing+=("$package")
  else
    command -v "$probe" >/dev/null || missing+=("$package")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null; then
  echo "Missing: ${missing[*]}. Install them with your system's package manager (see README.md)." >&2
  exit 1
fi
printf '\033[1m==> Installing %s\033[0m\n' "${missing[*]}"
sudo_cmd=()
[ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
