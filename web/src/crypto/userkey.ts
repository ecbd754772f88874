// The protected user key of spec/keys.md: "v1." || b64u(nonce24 || XChaCha20-Poly1305(enc, nonce, userKey, aad)).
import { randomBytes } from "../lib/bytes";
import { openSealedKey, sealKey } from "./sealedkey";

const aad = new TextEncoder().encode("veil/v1/user-key");

export function newUserKey(): Uint8Array<ArrayBuffer> {
  return randomBytes(32);
}

export function wrapUserKey(enc: Uint8Array, userKey: Uint8Array, nonce: Uint8Array = randomBytes(24)): string {
  return sealKey(enc, userKey, aad, nonce);
}

/** The user key, or null for anything that is not a v1 wrap under this enc key (reported as a wrong password). */
export function openUserKey(enc: Uint8Array, wrapped: string): Uint8Array<ArrayBuffer> | null {
  return openSealedKey(enc, wrapped, aad);
}
