#!/usr/bin/python3
"""Independent cross-check of spec/vectors/drop-v1.json (Veil Drop format v1, spec/drop.md).

Recomputes every case WITHOUT Veil code: HKDF-SHA256 and Cobblestone-256's HKDF-Expand-SHA512 with the
standard library (hmac, hashlib), AES-256-GCM with pyca/cryptography (Debian: python3-cryptography), Argon2id
with the reference `argon2` CLI (Debian: argon2; password on stdin as exact bytes, salt as an argument).
Before trusting its own Cobblestone-256, it checks it against the Wycheproof c2sp_chunked_encryption vectors
(tests/vectors/wycheproof), so the result does not rest on Veil's reading of the C2SP spec.

Usage: /usr/bin/python3 spec/vectors/check-drop.py        exit status 0 = every case matches.
"""
import base64
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import sys
import zlib

try:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
except ImportError:
    sys.exit("check-drop: pyca/cryptography is missing: apt-get install python3-cryptography (and run /usr/bin/python3)")

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CHUNK = 16384
COBBLE_INFO = b"c2sp.org/chunked-encryption@v1+AEAD_AES_256_GCM"


def hkdf_sha256(ikm, salt, info, length):
    prk = hmac.new(salt or b"\x00" * 32, ikm, hashlib.sha256).digest()
    return hkdf_expand(hashlib.sha256, prk, info, length)


def hkdf_expand(hash_fn, prk, info, length):
    okm, block, counter = b"", b"", 1
    while len(okm) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hash_fn).digest()
        okm += block
        counter += 1
    return okm[:length]


def cobble_keys(key, salt, context):
    # c2sp.org/chunked-encryption: HKDF-Expand(SHA-512, PRK = key, info = label || 0x00 || salt || context, 76)
    okm = hkdf_expand(hashlib.sha512, key, COBBLE_INFO + b"\x00" + salt + context, 76)
    return okm[:32], okm[32:44], okm[44:]


def chunk_nonce(base, i):
    return bytes(a ^ b for a, b in zip(base, i.to_bytes(12, "big")))


def cobble_encrypt(key, context, salt, message):
    aead_key, base, commitment = cobble_keys(key, salt, context)
    aes, out, i = AESGCM(aead_key), [salt, commitment], 0
    while True:
        chunk = message[i * CHUNK:(i + 1) * CHUNK]
        out.append(aes.encrypt(chunk_nonce(base, i), chunk, b""))
        if len(chunk) < CHUNK:  # the final chunk is the short one (possibly empty)
            return b"".join(out)
        i += 1


def cobble_decrypt(key, context, ct):
    """Returns the message, or None if it does not authenticate."""
    if len(ct) < 56 + 16:
        return None
    salt, commitment, body = ct[:24], ct[24:56], ct[56:]
    aead_key, base, expected = cobble_keys(key, salt, context)
    if not hmac.compare_digest(commitment, expected):
        return None
    aes, out, i, offset = AESGCM(aead_key), [], 0, 0
    while True:
        piece = body[offset:offset + CHUNK + 16]
        try:
            plain = aes.decrypt(chunk_nonce(base, i), piece, b"")
        except Exception:  # InvalidTag, or a piece shorter than a tag
            return None
        out.append(plain)
        offset += len(piece)
        if len(plain) < CHUNK:  # the short final chunk: nothing may follow it
            return b"".join(out) if offset == len(body) else None
        i += 1


def check_cobblestone_against_wycheproof():
    path = os.path.join(REPO, "tests", "vectors", "wycheproof", "testvectors_v1", "c2sp_chunked_encryption_aes_256_gcm_test.json")
    doc = json.load(open(path, encoding="utf-8"))
    ok = total = 0
    for group in doc["testGroups"]:
        for t in group["tests"]:
            key = bytes.fromhex(t["key"])
            if len(key) != 32 or t.get("msgLength", 0) > 1 << 20 or len(t["ct"]) > 1 << 16:
                continue  # bad key sizes and the multi-MiB counter-rollover cases are skipped here (slow in Python)
            total += 1
            msg = cobble_decrypt(key, bytes.fromhex(t["ctx"]), zlib.decompress(bytes.fromhex(t["ct"])))
            if t["result"] == "valid":
                good = msg is not None and len(msg) == t["msgLength"] and hashlib.sha512(msg).hexdigest() == t["msgSha512"]
            else:
                good = msg is None
            ok += good
            if not good:
                print(f"FAIL wycheproof tcId {t['tcId']} ({t['comment']})")
    print(f"check-drop: own Cobblestone-256 vs Wycheproof: {ok}/{total} cases")
    return ok == total and total > 0


def argon2id(password, salt, m_kib, t, p, length):
    assert b"\x00" not in salt, "the argon2 CLI takes the salt as an argument: no NUL bytes"
    log2m = m_kib.bit_length() - 1
    assert 1 << log2m == m_kib
    out = subprocess.run(["argon2", salt, "-id", "-v", "13", "-m", str(log2m), "-t", str(t), "-p", str(p), "-l", str(length), "-r"],
                         input=password, capture_output=True, check=True).stdout.decode().strip()
    return bytes.fromhex(out)


def content_of(spec):
    if "utf8" in spec:
        return spec["utf8"].encode("utf-8")
    return bytes(i % 251 for i in range(spec["pattern_length"]))


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def parse_metadata(record):
    """The v1 record rules of spec/drop.md; returns (name, type, size) or None."""
    if len(record) > 3840:
        return None
    try:
        seen = []
        obj = json.loads(record.decode("utf-8"), object_pairs_hook=lambda pairs: (seen.append([k for k, _ in pairs]), dict(pairs))[1])
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(obj, dict) or len(seen[-1]) != len(set(seen[-1])) or any(len(s) != len(set(s)) for s in seen):
        return None
    v, name, typ, size = obj.get("v"), obj.get("name"), obj.get("type"), obj.get("size")
    if type(v) is not int or v != 1 or not isinstance(name, str) or not isinstance(typ, str) or type(size) is not int:
        return None
    if not (0 <= size <= 2**53 - 1) or not (1 <= len(name.encode("utf-8", "surrogatepass")) <= 1024) or len(typ.encode("utf-8", "surrogatepass")) > 255:
        return None
    return name, typ, size


def main():
    if shutil.which("argon2") is None:
        sys.exit("check-drop: argon2 CLI not found: apt-get install argon2")
    doc = json.load(open(os.path.join(HERE, "drop-v1.json"), encoding="utf-8"))
    h, a = doc["hkdf"], doc["argon2id"]
    assert (h["hash"], h["salt"], h["length"]) == ("SHA-256", "", 32)
    assert (a["version"], a["memory_kib"], a["iterations"], a["lanes"], a["length"]) == (19, 65536, 3, 1, 32)
    failures = 0 if check_cobblestone_against_wycheproof() else 1
    count = 0

    for case in doc["cases"]:
        count += 1
        key, drop_id = bytes.fromhex(case["drop_key"]), case["drop_id"]
        context = drop_id.encode("ascii")
        content = content_of(case["content"])
        content_key = hkdf_sha256(key, b"", h["content_info"].encode(), 32)
        metadata_key = hkdf_sha256(key, b"", h["metadata_info"].encode(), 32)
        record = bytes.fromhex(case["metadata_plaintext"])
        m = case["metadata"]
        content_ct = cobble_encrypt(content_key, context, bytes.fromhex(case["content_salt"]), content)
        metadata_ct = cobble_encrypt(metadata_key, context, bytes.fromhex(case["metadata_salt"]), record)
        checks = {
            "link": case["origin"].rstrip("/") + "/d/" + drop_id + "#" + b64url(key),
            "content_key": content_key.hex(),
            "metadata_key": metadata_key.hex(),
            "context": context.hex(),
            "metadata_ciphertext": metadata_ct.hex(),
            "content_ciphertext": content_ct.hex(),
            "content_ciphertext_sha256": hashlib.sha256(content_ct).hexdigest(),
        }
        bad = [k for k, v in checks.items() if case[k] != v]
        # The record: v1 rules, padded with spaces to a multiple of 256, and it says what the case says.
        if parse_metadata(record) != (m["name"], m["type"], m["size"]) or len(record) % 256 or m["size"] != len(content):
            bad.append("metadata_plaintext")
        # Decryption of the stored ciphertexts; the context binds the drop id; the subkeys are not interchangeable.
        if cobble_decrypt(content_key, context, bytes.fromhex(case["content_ciphertext"])) != content:
            bad.append("content decrypt")
        if cobble_decrypt(content_key, context + b"x", bytes.fromhex(case["content_ciphertext"])) is not None:
            bad.append("content opened under another drop id")
        if cobble_decrypt(metadata_key, context, bytes.fromhex(case["content_ciphertext"])) is not None:
            bad.append("content opened with the metadata key")
        print(("FAIL " + ",".join(bad) if bad else "ok   ") + " " + case["name"])
        failures += bool(bad)

    for case in doc["password_cases"]:
        count += 1
        password = case["password"].encode("utf-8")
        salt, nonce = bytes.fromhex(case["salt"]), bytes.fromhex(case["nonce"])
        wrapping_key = argon2id(password, salt, a["memory_kib"], a["iterations"], a["lanes"], a["length"])
        aad = bytes([1]) + b"veil/drop/v1/wrap"
        wrapped = bytes([1]) + nonce + AESGCM(wrapping_key).encrypt(nonce, bytes.fromhex(case["drop_key"]), aad)
        checks = {"password_utf8": password.hex(), "aad": aad.hex(), "wrapping_key": wrapping_key.hex(), "wrapped_key": wrapped.hex()}
        bad = [k for k, v in checks.items() if case[k] != v]
        if len(wrapped) != 61:
            bad.append("length")
        print(("FAIL " + ",".join(bad) if bad else "ok   ") + " password: " + case["name"])
        failures += bool(bad)

    for case in doc["metadata_records"]:
        count += 1
        parsed = parse_metadata(case["utf8"].encode("utf-8"))
        expect = (case["expect"]["name"], case["expect"]["type"], case["expect"]["size"]) if case["valid"] else None
        good = parsed == expect
        print(("ok   " if good else "FAIL ") + " record: " + case["name"])
        failures += not good

    print(f"check-drop: {count - failures}/{count} cases match" if failures == 0 else f"check-drop: {failures} FAILED")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
