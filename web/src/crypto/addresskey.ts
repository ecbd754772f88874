// The address key chain of the mailbox (spec/mailbox-api.md "Address keys"; the C# side is Veil.Client.Mailbox's
// AddressKeyChain), opened in the page: user key → random token → the address's OpenPGP secret key ring.
//
//   wrappedToken      = "v1." || b64u(n1(24) || XChaCha20-Poly1305(userKey, n1, token(32), "veil/v1/mail/address-token" 0x00 address))
//   wrappedPrivateKey = "v1." || b64u(n2(24) || XChaCha20-Poly1305(token, n2, secretKeyRing, "veil/v1/mail/address-key" 0x00 address))
//
// Checked against spec/vectors/mail-address-v1.json (web/test/mail-address-vectors.test.ts), as the C# side is. Pure
// function over bytes: a layer that does not open (wrong key, tampered, moved to another address) gives null.
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { concat, fromBase64Url } from "../lib/bytes";
import { openSealedKey } from "./sealedkey";

const utf8 = new TextEncoder();
/** The server accepts wrapped keys of at most 16 KiB (spec/mailbox-api.md); anything longer is not ours. */
const MaxWrapped = 16 * 1024;

function aad(purpose: string, address: string): Uint8Array<ArrayBuffer> {
  return concat(utf8.encode(purpose), new Uint8Array([0]), utf8.encode(address));
}

/** The address's binary secret key ring, or null when either layer does not open. The caller wipes it after use. */
export function openAddressKey(userKey: Uint8Array, address: string, wrappedToken: string, wrappedPrivateKey: string): Uint8Array<ArrayBuffer> | null {
  if (userKey.length !== 32) throw new RangeError("A user key is 32 bytes.");
  const token = openSealedKey(userKey, wrappedToken, aad("veil/v1/mail/address-token", address));
  if (!token) return null;
  try {
    if (!wrappedPrivateKey.startsWith("v1.") || wrappedPrivateKey.length > MaxWrapped) return null;
    const sealed = fromBase64Url(wrappedPrivateKey.slice(3));
    if (!sealed || sealed.length < 24 + 16) return null;
    try {
      return new Uint8Array(xchacha20poly1305(token, sealed.subarray(0, 24), aad("veil/v1/mail/address-key", address)).decrypt(sealed.subarray(24)));
    } catch {
      return null;
    }
  } finally {
    token.fill(0);
  }
}
