#!/usr/bin/env python3
"""Independent check of spec/vectors/chat/session-v3.json without Veil code (pyca/cryptography).

Recomputes, from the vector's private keys and spec/chat-wire.md alone: the public keys, the device
certificate and signed-prekey Ed25519 signatures, Bob's X3DH as responder for Alice's first message, and
opens Alice's first two messages (PreKeySignalMessage -> SignalMessage: MAC over both identities, AES-256-CBC,
160-byte padding). Exits non-zero on any mismatch.
"""
import hashlib, hmac, json, os, struct, sys
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

here = os.path.dirname(os.path.abspath(__file__))
v = json.load(open(os.path.join(here, "chat", "session-v3.json")))
h = bytes.fromhex
failures = []

def check(ok, what):
    if not ok:
        failures.append(what)

def hkdf(ikm, salt, info, n):
    prk = hmac.new(salt or b"\0" * 32, ikm, hashlib.sha256).digest()
    out, t, i = b"", b"", 1
    while len(out) < n:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest(); out += t; i += 1
    return out[:n]

def raw(public): return public.public_bytes(Encoding.Raw, PublicFormat.Raw)
def x_pub(priv): return b"\x05" + raw(X25519PrivateKey.from_private_bytes(priv).public_key())
def dh(priv, pub33): return X25519PrivateKey.from_private_bytes(priv).exchange(X25519PublicKey.from_public_bytes(pub33[1:]))

def fields(buf):
    """Minimal protobuf reader: {field: value} for varint and length-delimited fields."""
    out, i = {}, 0
    def varint():
        nonlocal i
        shift = value = 0
        while True:
            b = buf[i]; i += 1; value |= (b & 0x7F) << shift; shift += 7
            if b < 0x80: return value
    while i < len(buf):
        tag = varint(); number, wire = tag >> 3, tag & 7
        if wire == 0: out[number] = varint()
        elif wire == 2: n = varint(); out[number] = buf[i:i + n]; i += n
        else: raise ValueError("unexpected wire type")
    return out

for name in ("alice", "bob"):
    p = v[name]
    account = Ed25519PrivateKey.from_private_bytes(h(p["account_signing_seed"]))
    device = Ed25519PrivateKey.from_private_bytes(h(p["device_signing_seed"]))
    check(raw(account.public_key()).hex() == p["account_signing_public"], f"{name} account public")
    check(raw(device.public_key()).hex() == p["device_signing_public"], f"{name} device public")
    check(x_pub(h(p["identity_private"])).hex() == p["identity_public"], f"{name} identity public")
    check(x_pub(h(p["signed_prekey_private"])).hex() == p["signed_prekey_public"], f"{name} signed prekey public")
    cert = b"veil/chat/v1/device-certificate" + struct.pack(">I", p["device_id"]) + h(p["device_signing_public"]) + h(p["identity_public"])
    check(account.sign(cert).hex() == p["device_certificate_signature"], f"{name} device certificate signature")
    check(device.sign(b"veil/chat/v1/signed-prekey" + h(p["signed_prekey_public"])).hex() == p["signed_prekey_signature"], f"{name} signed prekey signature")

a, b = v["alice"], v["bob"]
sends = [s for s in v["steps"] if s["action"] == "send"]
first = h(sends[0]["serialized"])
check(sends[0]["type"] == "prekey" and first[0] == 0x33, "first message is a v3 PreKeySignalMessage")
q = fields(first[1:])
base = q[2]
check(base.hex() == x_pub(h(v["alice_ephemeral_keys"][0])).hex(), "base key is Alice's first ephemeral key")
check(q[3].hex() == a["identity_public"] and q[1] == b["one_time_prekey_id"] and q[6] == b["signed_prekey_id"], "prekey message fields")

# Bob as X3DH responder (with the one-time prekey), then his first ratchet step on Alice's ratchet key.
secret = b"\xff" * 32 + dh(h(b["signed_prekey_private"]), h(a["identity_public"])) + dh(h(b["identity_private"]), base) \
    + dh(h(b["signed_prekey_private"]), base) + dh(h(b["one_time_prekey_private"]), base)
keys = hkdf(secret, None, b"WhisperText", 64)
root = keys[:32]

chain = None
for index, send in enumerate(sends[:2]):
    message = fields(h(send["serialized"])[1:])[4]
    m = fields(message[1:-8])
    if chain is None:
        step = hkdf(dh(h(b["signed_prekey_private"]), m[1]), root, b"WhisperRatchet", 64)
        chain = step[32:]
    check(m[2] == index, f"message {index} counter")
    seed = hmac.new(chain, b"\x01", hashlib.sha256).digest()
    chain = hmac.new(chain, b"\x02", hashlib.sha256).digest()
    mk = hkdf(seed, None, b"WhisperMessageKeys", 80)
    mac = hmac.new(mk[32:64], h(a["identity_public"]) + h(b["identity_public"]) + message[:-8], hashlib.sha256).digest()[:8]
    check(mac == message[-8:], f"message {index} MAC")
    d = Cipher(algorithms.AES(mk[:32]), modes.CBC(mk[64:80])).decryptor()
    padded = d.update(m[4]) + d.finalize()
    padded = padded[:-padded[-1]]
    body = padded.rstrip(b"\0")
    check(len(m[4]) % 160 == 0 and body.endswith(b"\x80"), f"message {index} padding")
    check(body[:-1].decode() == send["plaintext_utf8"], f"message {index} plaintext")

if failures:
    print("check-chat: FAILED:", "; ".join(failures))
    sys.exit(1)
print("check-chat: keys, signatures, X3DH and the first two messages match (pyca/cryptography)")
