// The client key hierarchy of spec/keys.md (v1): Argon2id over password || normalised email, then two HKDF-SHA256
// outputs, `enc` (never leaves this browser) and `auth` (sent to sign in). Pure functions over bytes: no DOM, no
// fetch, so the same code runs in the KDF worker and in vitest against spec/vectors/keys-v1.json.
import { argon2id } from "hash-wasm";
import { concat } from "../lib/bytes";
import type { Argon2idRequest } from "./argon2/threaded";

/** The Kdf member of the Identity API (spec/identity-api.md). v1 clients derive only with these defaults. */
export interface KdfParameters {
  kdf: "argon2id";
  memoryKiB: number;
  iterations: number;
  parallelism: number;
  salt: string;
}

export const DefaultKdf = { memoryKiB: 65536, iterations: 3, parallelism: 4 } as const;

export interface ClientKeys {
  /** Wraps the user key; stays in this browser. */
  enc: Uint8Array<ArrayBuffer>;
  /** Proves the password to the server (sent as base64url). */
  auth: Uint8Array<ArrayBuffer>;
}

const encInfo = new TextEncoder().encode("veil/v1/client/enc");
const authInfo = new TextEncoder().encode("veil/v1/client/auth");

/**
 * spec/keys.md normalisation: trim ASCII whitespace (space, tab, CR, LF) at both ends and lowercase ASCII A-Z only.
 * String.prototype.toLowerCase is not used because it lowercases non-ASCII letters too, which the C# client does not.
 */
export function normalizeEmail(email: string): string {
  const isSpace = (c: string) => c === " " || c === "\t" || c === "\r" || c === "\n";
  let start = 0;
  let end = email.length;
  while (start < end && isSpace(email[start]!)) start++;
  while (end > start && isSpace(email[end - 1]!)) end--;
  return email.slice(start, end).replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

/** The Argon2id input: UTF-8(password) || UTF-8(normalised email). A lone surrogate cannot be encoded: refused. */
export function argon2Input(password: string, email: string): Uint8Array<ArrayBuffer> {
  if (!password.isWellFormed()) throw new Error("The password contains a character that cannot be encoded.");
  const encoder = new TextEncoder();
  return concat(encoder.encode(password), encoder.encode(normalizeEmail(email)));
}

/** An Argon2id implementation: hash-wasm's (one thread) or the threaded reference build (crypto/argon2/threaded.ts). */
export type Argon2id = (request: Argon2idRequest) => Promise<Uint8Array>;

/** hash-wasm's Argon2id: the lanes one after another on the calling thread; works in any context. */
export const singleThreadArgon2id: Argon2id = async (request) =>
  argon2id({
    password: request.password,
    salt: request.salt,
    memorySize: request.memoryKiB,
    iterations: request.iterations,
    parallelism: request.parallelism,
    hashLength: request.hashLength,
    outputType: "binary",
  });

export async function deriveClientKeys(
  password: string,
  email: string,
  salt: Uint8Array,
  parameters: { memoryKiB: number; iterations: number; parallelism: number } = DefaultKdf,
  stretch: Argon2id = singleThreadArgon2id,
): Promise<ClientKeys> {
  const input = argon2Input(password, email);
  const stretched = new Uint8Array(
    await stretch({
      password: input,
      salt,
      memoryKiB: parameters.memoryKiB,
      iterations: parameters.iterations,
      parallelism: parameters.parallelism,
      hashLength: 32,
    }),
  );
  input.fill(0);
  try {
    return { enc: await hkdf(stretched, encInfo), auth: await hkdf(stretched, authInfo) };
  } finally {
    stretched.fill(0);
  }
}

async function hkdf(ikm: Uint8Array<ArrayBuffer>, info: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const key = await crypto.subtle.importKey("raw", ikm, "HKDF", false, ["deriveBits"]);
  // An empty HKDF salt means HashLen zero bytes (RFC 5869 §2.2); WebCrypto takes the empty salt the same way.
  const bits = await crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info }, key, 256);
  return new Uint8Array(bits);
}
