// The protected user key of spec/keys.md: "v1." || b64u(nonce24 || XChaCha20-Poly1305(enc, nonce, userKey, aad)).
// WebCrypto has no XChaCha20-Poly1305, so this uses @noble/ciphers (audited, no dependencies, bundled).
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { concat, fromBase64Url, randomBytes, toBase64Url } from "../lib/bytes";

const aad = new TextEncoder().encode("veil/v1/user-key");
const prefix = "v1.";

export function newUserKey(): Uint8Array<ArrayBuffer> {
  return randomBytes(32);
}

export function wrapUserKey(enc: Uint8Array, userKey: Uint8Array, nonce: Uint8Array = randomBytes(24)): string {
  if (enc.length !== 32 || userKey.length !== 32 || nonce.length !== 24) throw new Error("wrong key or nonce length");
  const sealed = xchacha20poly1305(enc, nonce, aad).encrypt(userKey);
  return prefix + toBase64Url(concat(nonce, sealed));
}

/** The user key, or null for anything that is not a v1 wrap under this enc key (reported as a wrong password). */
export function openUserKey(enc: Uint8Array, wrapped: string): Uint8Array<ArrayBuffer> | null {
  if (!wrapped.startsWith(prefix) || wrapped.length !== prefix.length + 96) return null;
  const bytes = fromBase64Url(wrapped.slice(prefix.length));
  if (!bytes || bytes.length !== 72) return null;
  try {
    return new Uint8Array(xchacha20poly1305(enc, bytes.subarray(0, 24), aad).decrypt(bytes.subarray(24)));
  } catch {
    return null;
  }
}
