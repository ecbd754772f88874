// Password mail to outsiders, v1 (spec/mailbox-api.md "Password mail to outsiders"; the C# side is
// Veil.Crypto.Mailbox.OutsiderPackage). Pure functions over bytes: the Argon2id key is derived elsewhere (the KDF
// worker), so this file only reads the header, opens the package with that key and seals a reply.
//
//   header  = 0x01 || u32be(memoryKiB) || u32be(iterations) || u8(lanes) || salt(16)
//   package = header || nonce(24) || XChaCha20-Poly1305(key, nonce, replyPublicKey(32) || MIME, "veil/mail/outsider/v1" || header)
//   reply   = 0x01 || epk(32) || nonce(24) || XChaCha20-Poly1305(HKDF-SHA256(X25519(esk, rpk), "", label || epk || rpk), nonce, text, 0x01 || epk || rpk)
//
// WebCrypto has no XChaCha20-Poly1305, so this uses @noble/ciphers (already bundled for sealed keys); X25519 and HKDF
// are WebCrypto's. A wrong password and a tampered package both fail the tag: null, nothing more.
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { concat } from "../lib/bytes";

export const HeaderLength = 26;
const NonceLength = 24;
const KeyLength = 32;
const label = new TextEncoder().encode("veil/mail/outsider/v1");
const replyLabel = new TextEncoder().encode("veil/mail/outsider/v1/reply");

export interface PackageHeader {
  memoryKiB: number;
  iterations: number;
  parallelism: number;
  salt: Uint8Array<ArrayBuffer>;
}

/** The header of a v1 package, or null when it is not one or asks for more than this page spends (256 MiB, t 10, p 8) or less than Veil sends. */
export function readHeader(pkg: Uint8Array): PackageHeader | null {
  if (pkg.length < HeaderLength + NonceLength + KeyLength + 16 || pkg[0] !== 1) return null;
  const view = new DataView(pkg.buffer, pkg.byteOffset, pkg.byteLength);
  const memoryKiB = view.getUint32(1);
  const iterations = view.getUint32(5);
  const parallelism = pkg[9]!;
  if (memoryKiB < 65536 || memoryKiB > 262144 || iterations < 3 || iterations > 10 || parallelism < 1 || parallelism > 8) return null;
  return { memoryKiB, iterations, parallelism, salt: pkg.slice(10, HeaderLength) };
}

export interface OpenedPackage {
  mime: Uint8Array;
  replyKey: Uint8Array<ArrayBuffer>;
}

/** Opens the package with the derived key; null for a wrong password or a tampered package. */
export function openPackage(pkg: Uint8Array, key: Uint8Array): OpenedPackage | null {
  if (key.length !== KeyLength || readHeader(pkg) === null) return null;
  const aad = concat(label, pkg.subarray(0, HeaderLength));
  try {
    const plain = xchacha20poly1305(key, pkg.subarray(HeaderLength, HeaderLength + NonceLength), aad)
      .decrypt(pkg.subarray(HeaderLength + NonceLength));
    return { replyKey: plain.slice(0, KeyLength), mime: plain.subarray(KeyLength) };
  } catch {
    return null; // the tag did not verify: wrong password or tampered
  }
}

/** Seals a reply text to the package's reply key (a fresh ephemeral X25519 key each time). */
export async function sealReply(replyKey: Uint8Array<ArrayBuffer>, text: string): Promise<Uint8Array<ArrayBuffer>> {
  const ephemeral = (await crypto.subtle.generateKey({ name: "X25519" }, true, ["deriveBits"])) as CryptoKeyPair;
  const epk = new Uint8Array(await crypto.subtle.exportKey("raw", ephemeral.publicKey));
  const peer = await crypto.subtle.importKey("raw", replyKey, { name: "X25519" }, false, []);
  const shared = new Uint8Array(await crypto.subtle.deriveBits({ name: "X25519", public: peer }, ephemeral.privateKey, 256));
  try {
    const hkdf = await crypto.subtle.importKey("raw", shared, "HKDF", false, ["deriveBits"]);
    const key = new Uint8Array(await crypto.subtle.deriveBits(
      { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: concat(replyLabel, epk, replyKey) }, hkdf, 256));
    const nonce = crypto.getRandomValues(new Uint8Array(NonceLength));
    const sealed = xchacha20poly1305(key, nonce, concat(new Uint8Array([1]), epk, replyKey)).encrypt(new TextEncoder().encode(text));
    key.fill(0);
    return concat(new Uint8Array([1]), epk, nonce, sealed);
  } finally {
    shared.fill(0);
  }
}
