#!/usr/bin/env bash
# Independent cross-check of spec/vectors/keys-v1.json (Veil client key hierarchy v1, spec/keys.md).
#
# Recomputes every case WITHOUT Veil code: the Argon2id input and email normalisation in Python,
# Argon2id with the reference `argon2` CLI (Debian package `argon2`; password on stdin, exact bytes,
# no trailing newline), and HKDF-SHA256 (RFC 5869) with /usr/bin/python3 hmac + hashlib.
# Exit status 0 = every case matches.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
command -v argon2 >/dev/null || { echo "argon2 CLI not found: apt-get install argon2" >&2; exit 2; }

/usr/bin/python3 - "$here/keys-v1.json" <<'PY'
import hashlib, hmac, json, subprocess, sys

def hkdf_sha256(ikm, salt, info, length):
    prk = hmac.new(salt or b"\x00" * 32, ikm, hashlib.sha256).digest()
    okm, block, counter = b"", b"", 1
    while len(okm) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        okm += block
        counter += 1
    return okm[:length]

def normalize_email(email):
    trimmed = email.strip(" \t\r\n")
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in trimmed)

doc = json.load(open(sys.argv[1], encoding="utf-8"))
a, h = doc["argon2id"], doc["hkdf"]
assert (a["version"], a["memory_kib"], a["iterations"], a["lanes"], a["length"]) == (19, 65536, 3, 4, 32)
failures = 0
for case in doc["cases"]:
    email = normalize_email(case["email"])
    data = case["password"].encode("utf-8") + email.encode("utf-8")
    salt = bytes.fromhex(case["salt"])
    assert b"\x00" not in salt, "the argon2 CLI takes the salt as an argument: no NUL bytes"
    # -m 16 = 2^16 KiB = 64 MiB; -r prints the raw hash in hex.
    out = subprocess.run(["argon2", salt, "-id", "-v", "13", "-m", "16", "-t", "3", "-p", "4", "-l", "32", "-r"],
                         input=data, capture_output=True, check=True).stdout.decode().strip()
    stretched = bytes.fromhex(out)
    enc = hkdf_sha256(stretched, b"", h["enc_info"].encode(), 32).hex()
    auth = hkdf_sha256(stretched, b"", h["auth_info"].encode(), 32).hex()
    checks = {"normalized_email": email, "argon2_input": data.hex(), "enc": enc, "auth": auth}
    bad = [k for k, v in checks.items() if case[k] != v]
    print(("FAIL " + ",".join(bad) if bad else "ok  ") + " " + case["name"])
    failures += bool(bad)
print(f"check-keys: {len(doc['cases']) - failures}/{len(doc['cases'])} cases match")
sys.exit(1 if failures else 0)
PY
