#!/usr/bin/python3
"""Independent cross-check of spec/vectors/vault-v1.json (Veil Vault format v1, spec/vault.md).

Recomputes every case WITHOUT Veil code: AES-256-GCM with pyca/cryptography (Debian: python3-cryptography),
Cobblestone-256's HKDF-Expand-SHA512 with the standard library (hmac, hashlib). It then plays the recipient:
opens the escrow with the delivery key, and with the vault key it gets back opens every field and file key.
Every entry of "rejects" (tampered, moved, malformed) must fail to open.

Usage: /usr/bin/python3 spec/vectors/check-vault.py        exit status 0 = every case matches.
"""
import base64
import hashlib
import hmac
import json
import os
import re
import sys

try:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
except ImportError:
    sys.exit("check-vault: pyca/cryptography is missing: apt-get install python3-cryptography (and run /usr/bin/python3)")

HERE = os.path.dirname(os.path.abspath(__file__))
CHUNK = 16384
COBBLE_INFO = b"c2sp.org/chunked-encryption@v1+AEAD_AES_256_GCM"
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
PATH = re.compile(r"^[a-z0-9/-]{1,128}$")


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def un_b64url(text):
    """Strict: unpadded base64url that re-encodes to the same text, else None."""
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text) or len(text) % 4 == 1:
        return None
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    return data if b64url(data) == text else None


def check_id(value, allow_empty=False):
    assert (allow_empty and value == "") or UUID4.match(value), f"not a lowercase UUID v4: {value!r}"
    return value


def vault_key_aad(vault_id):
    return ("veil/v1/vault-key|" + check_id(vault_id)).encode("ascii")


def field_aad(vault_id, item_id, path):
    assert PATH.match(path), path
    return ("veil/v1/vault-field|" + check_id(vault_id) + "|" + check_id(item_id, True) + "|" + path).encode("ascii")


def escrow_aad(vault_id, recipient_id):
    return ("veil/v1/vault-escrow|" + check_id(vault_id) + "|" + check_id(recipient_id)).encode("ascii")


def seal(key, nonce, plaintext, aad):
    return "v1." + b64url(nonce + AESGCM(key).encrypt(nonce, plaintext, aad))


def open_ct(key, text, aad):
    """The plaintext, or None for anything that is not an authentic canonical v1 ciphertext."""
    if not text.startswith("v1."):
        return None
    data = un_b64url(text[3:])
    if data is None or len(data) < 12 + 16:
        return None
    try:
        return AESGCM(key).decrypt(data[:12], data[12:], aad)
    except InvalidTag:
        return None


def open_field(key, vault_id, item_id, path, text):
    plain = open_ct(key, text, field_aad(vault_id, item_id, path))
    if plain is None:
        return None
    try:
        return plain.decode("utf-8")
    except UnicodeDecodeError:
        return None


def open_key(key, text, aad):
    plain = open_ct(key, text, aad)
    return plain if plain is not None and len(plain) == 32 else None


def hkdf_expand(hash_fn, prk, info, length):
    okm, block, counter = b"", b"", 1
    while len(okm) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hash_fn).digest()
        okm += block
        counter += 1
    return okm[:length]


def cobble_encrypt(key, context, salt, message):
    okm = hkdf_expand(hashlib.sha512, key, COBBLE_INFO + b"\x00" + salt + context, 76)
    aes, base, out, i = AESGCM(okm[:32]), okm[32:44], [salt, okm[44:]], 0
    while True:
        chunk = message[i * CHUNK:(i + 1) * CHUNK]
        nonce = bytes(a ^ b for a, b in zip(base, i.to_bytes(12, "big")))
        out.append(aes.encrypt(nonce, chunk, b""))
        if len(chunk) < CHUNK:
            return b"".join(out)
        i += 1


def content_of(spec):
    if "utf8" in spec:
        return spec["utf8"].encode("utf-8")
    return bytes(i % 251 for i in range(spec["pattern_length"]))


def h(case, name):
    return bytes.fromhex(case[name])


def main():
    doc = json.load(open(os.path.join(HERE, "vault-v1.json"), encoding="utf-8"))
    count = failures = 0

    def report(name, bad):
        nonlocal count, failures
        count += 1
        failures += bool(bad)
        print(("FAIL " + ",".join(bad) if bad else "ok   ") + " " + name)

    for c in doc["vault_keys"]:
        aad = vault_key_aad(c["vault_id"])
        checks = {"aad": aad.hex(), "wrapped": seal(h(c, "user_key"), h(c, "nonce"), h(c, "vault_key"), aad)}
        bad = [k for k, v in checks.items() if c[k] != v]
        if open_key(h(c, "user_key"), c["wrapped"], aad) != h(c, "vault_key"):
            bad.append("unwrap")
        report("vault key: " + c["name"], bad)

    for c in doc["fields"]:
        aad = field_aad(c["vault_id"], c["item_id"], c["path"])
        checks = {"aad": aad.hex(), "ciphertext": seal(h(c, "vault_key"), h(c, "nonce"), c["value"].encode("utf-8"), aad)}
        bad = [k for k, v in checks.items() if c[k] != v]
        if open_field(h(c, "vault_key"), c["vault_id"], c["item_id"], c["path"], c["ciphertext"]) != c["value"]:
            bad.append("open")
        report("field: " + c["name"], bad)

    for c in doc["file_keys"]:
        aad = field_aad(c["vault_id"], c["item_id"], "files/" + check_id(c["file_id"]) + "/key")
        checks = {"aad": aad.hex(), "wrapped": seal(h(c, "vault_key"), h(c, "nonce"), h(c, "file_key"), aad)}
        bad = [k for k, v in checks.items() if c[k] != v]
        report("file key: " + c["name"], bad)

    for c in doc["files"]:
        context = check_id(c["file_id"]).encode("ascii")
        ct = cobble_encrypt(h(c, "file_key"), context, h(c, "salt"), content_of(c["content"]))
        checks = {"context": context.hex(), "ciphertext_sha256": hashlib.sha256(ct).hexdigest()}
        if "ciphertext" in c:
            checks["ciphertext"] = ct.hex()
        bad = [k for k, v in checks.items() if c[k] != v]
        report("file: " + c["name"], bad)

    for c in doc["escrows"]:
        aad = escrow_aad(c["vault_id"], c["recipient_id"])
        checks = {
            "delivery_key_base64url": b64url(h(c, "delivery_key")),
            "aad": aad.hex(),
            "escrow": seal(h(c, "delivery_key"), h(c, "nonce"), h(c, "vault_key"), aad),
        }
        bad = [k for k, v in checks.items() if c[k] != v]
        # The recipient's rebuild: delivery key (as the server returns it) + escrow -> vault key -> the vault's content.
        vault_key = open_key(un_b64url(c["delivery_key_base64url"]), c["escrow"], aad)
        if vault_key is None:
            bad.append("escrow open")
        else:
            for f in doc["fields"]:
                if f["vault_id"] == c["vault_id"] and open_field(vault_key, f["vault_id"], f["item_id"], f["path"], f["ciphertext"]) != f["value"]:
                    bad.append("rebuild field " + f["path"])
            for f in doc["file_keys"]:
                aad_f = field_aad(f["vault_id"], f["item_id"], "files/" + f["file_id"] + "/key")
                if f["vault_id"] == c["vault_id"] and open_key(vault_key, f["wrapped"], aad_f) != h(f, "file_key"):
                    bad.append("rebuild file key")
        report("escrow + rebuild: " + c["name"], bad)

    if len(doc["rejects"]) < 10:
        report("rejects list present", ["missing"])
    for r in doc["rejects"]:
        if r["kind"] == "field":
            opened = open_field(h(r, "vault_key"), r["vault_id"], r["item_id"], r["path"], r["ciphertext"])
        elif r["kind"] == "vault_key":
            opened = open_key(h(r, "key"), r["ciphertext"], vault_key_aad(r["vault_id"]))
        elif r["kind"] == "escrow":
            opened = open_key(h(r, "key"), r["ciphertext"], escrow_aad(r["vault_id"], r["recipient_id"]))
        else:
            opened = "unknown kind"
        report("reject: " + r["name"], [] if opened is None else ["opened"])

    print(f"check-vault: {count}/{count} cases match" if failures == 0 else f"check-vault: {failures} FAILED")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
