// The v1 shape of a 32-byte key wrapped under another 32-byte key (spec/keys.md "Protected user key", spec/drop.md §8):
// "v1." || b64u(nonce24 || XChaCha20-Poly1305(key, nonce, plaintext32, aad)). Each use has its own AAD.
// WebCrypto has no XChaCha20-Poly1305, so this uses @noble/ciphers (audited, no dependencies, bundled).
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { concat, fromBase64Url, randomBytes, toBase64Url } from "../lib/bytes";

const prefix = "v1.";

export function sealKey(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array, nonce: Uint8Array = randomBytes(24)): string {
  if (key.length !== 32 || plaintext.length !== 32 || nonce.length !== 24) throw new Error("wrong key or nonce length");
  return prefix + toBase64Url(concat(nonce, xchacha20poly1305(key, nonce, aad).encrypt(plaintext)));
}

/** The 32 bytes, or null for anything that is not a v1 wrap under this key with this AAD. */
export function openSealedKey(key: Uint8Array, wrapped: string, aad: Uint8Array): Uint8Array<ArrayBuffer> | null {
  if (!wrapped.startsWith(prefix) || wrapped.length !== prefix.length + 96) return null;
  const bytes = fromBase64Url(wrapped.slice(prefix.length));
  if (!bytes || bytes.length !== 72) return null;
  try {
    return new Uint8Array(xchacha20poly1305(key, bytes.subarray(0, 24), aad).decrypt(bytes.subarray(24)));
  } catch {
    return null;
  }
}
