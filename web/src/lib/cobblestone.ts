// Cobblestone-256 (c2sp.org/chunked-encryption, HKDF-Expand-SHA-512 + AES-256-GCM) with WebCrypto.
// Normative: spec/cobblestone.md and the C2SP document; the C# twin is Veil.Crypto.Streams.
//
//   key(32) || base nonce(12) || commitment(32) = HKDF-Expand(SHA-512, prk = input key,
//       info = "c2sp.org/chunked-encryption@v1+AEAD_AES_256_GCM" || 0x00 || salt(24) || context, L = 76)
//   message = salt(24) || commitment(32) || chunk_0 || ... || chunk_n   (the last chunk is SHORTER than 16 KiB)
//   chunk_i = AES-256-GCM(key, base nonce XOR be96(i), aad = empty)
//
// WebCrypto's HKDF always runs Extract first, so Expand is composed from HMAC-SHA-512 (RFC 5869 §2.3).

import { ascii, concat, fixedTimeEquals } from "./bytes";

export const KeySize = 32;
export const SaltSize = 24;
export const CommitmentSize = 32;
export const HeaderSize = SaltSize + CommitmentSize;
export const ChunkSize = 16384;
export const TagSize = 16;
export const EncryptedChunkSize = ChunkSize + TagSize;
const NonceSize = 12;
const MaxChunks = 2 ** 38;
const InfoPrefix = concat(ascii("c2sp.org/chunked-encryption@v1+AEAD_AES_256_GCM"), new Uint8Array([0]));

/** Length of the message for a plaintext of `n` bytes. */
export function encryptedLength(n: number): number {
  return HeaderSize + n + TagSize * (Math.floor(n / ChunkSize) + 1);
}

/** Plaintext length for a message length, or null if no plaintext encrypts to that length. */
export function plaintextLength(m: number): number | null {
  const body = m - HeaderSize;
  if (body < TagSize) return null;
  const full = Math.floor(body / EncryptedChunkSize);
  const last = body - full * EncryptedChunkSize;
  if (last < TagSize) return null; // a message must end with a short final chunk (>= a tag)
  return full * ChunkSize + (last - TagSize);
}

async function hkdfExpandSha512(prk: Uint8Array<ArrayBuffer>, info: Uint8Array, length: number): Promise<Uint8Array<ArrayBuffer>> {
  const hmacKey = await crypto.subtle.importKey("raw", prk, { name: "HMAC", hash: "SHA-512" }, false, ["sign"]);
  const out = new Uint8Array(length);
  let previous = new Uint8Array(0);
  for (let i = 1, offset = 0; offset < length; i++) {
    const block = new Uint8Array(await crypto.subtle.sign("HMAC", hmacKey, concat(previous, info, new Uint8Array([i]))));
    out.set(block.subarray(0, Math.min(block.length, length - offset)), offset);
    offset += block.length;
    previous = block;
  }
  return out;
}

interface Derived {
  key: CryptoKey;
  baseNonce: Uint8Array;
  commitment: Uint8Array;
}

async function derive(inputKey: Uint8Array<ArrayBuffer>, context: Uint8Array, salt: Uint8Array): Promise<Derived> {
  if (inputKey.length !== KeySize) throw new RangeError("A Cobblestone-256 key is 32 bytes.");
  if (salt.length !== SaltSize) throw new RangeError("The salt must be 24 bytes.");
  const okm = await hkdfExpandSha512(inputKey, concat(InfoPrefix, salt, context), KeySize + NonceSize + CommitmentSize);
  const key = await crypto.subtle.importKey("raw", okm.slice(0, KeySize), { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
  const baseNonce = okm.slice(KeySize, KeySize + NonceSize);
  const commitment = okm.slice(KeySize + NonceSize);
  okm.fill(0);
  return { key, baseNonce, commitment };
}

function nonceFor(baseNonce: Uint8Array, counter: number): Uint8Array<ArrayBuffer> {
  const nonce = new Uint8Array(baseNonce);
  // be96(counter) with counter < 2^38: only the last 5 bytes can be non-zero.
  let c = counter;
  for (let i = 11; i >= 7; i--) {
    nonce[i]! ^= c % 256;
    c = Math.floor(c / 256);
  }
  return nonce;
}

/** Encrypts one message chunk by chunk. Not reentrant across `seal` calls for the same chunk index. */
export class CobblestoneEncryptor {
  private counter = 0;
  private finished = false;

  private constructor(private readonly derived: Derived, readonly header: Uint8Array<ArrayBuffer>) {}

  static async create(inputKey: Uint8Array<ArrayBuffer>, context: Uint8Array, salt: Uint8Array): Promise<CobblestoneEncryptor> {
    const derived = await derive(inputKey, context, salt);
    return new CobblestoneEncryptor(derived, concat(salt, derived.commitment));
  }

  /**
   * Seals the next chunks: every element but possibly the last must be exactly 16 KiB; an element shorter
   * than 16 KiB is the final chunk. Chunks are sealed in parallel (WebCrypto queues them off the main thread).
   */
  async seal(chunks: Uint8Array<ArrayBuffer>[]): Promise<Uint8Array<ArrayBuffer>[]> {
    const jobs: Promise<ArrayBuffer>[] = [];
    for (const chunk of chunks) {
      if (this.finished) throw new Error("The final chunk has already been written.");
      if (chunk.length > ChunkSize) throw new RangeError("A chunk is at most 16 KiB.");
      if (this.counter >= MaxChunks) throw new Error("A Cobblestone message cannot exceed 2^38 chunks.");
      const iv = nonceFor(this.derived.baseNonce, this.counter++);
      jobs.push(crypto.subtle.encrypt({ name: "AES-GCM", iv, tagLength: 128 }, this.derived.key, chunk));
      this.finished = chunk.length < ChunkSize;
    }
    return (await Promise.all(jobs)).map((b) => new Uint8Array(b));
  }

  get isFinished(): boolean {
    return this.finished;
  }
}

/** Why a message did not open. */
export type CobblestoneFailure = "commitment" | "chunk" | "truncated" | "trailing";

export class CobblestoneError extends Error {
  constructor(readonly failure: CobblestoneFailure) {
    super(
      failure === "commitment"
        ? "The key does not match this ciphertext (wrong key or another message)."
        : "The ciphertext is not authentic (" + failure + ").",
    );
  }
}

/**
 * Decrypts one message as its bytes arrive. `push` takes any slicing of the ciphertext and returns the
 * plaintext of the chunks that authenticated; `finish` checks the message ended right after its final chunk.
 * Released plaintext is only a valid prefix until `finish` returns: on any error the caller discards it all.
 */
export class CobblestoneDecryptor {
  private derived: Derived | null = null;
  private pending: Uint8Array<ArrayBuffer> = new Uint8Array(0);
  private counter = 0;
  private finished = false;
  private failed: CobblestoneError | null = null;

  constructor(private readonly inputKey: Uint8Array<ArrayBuffer>, private readonly context: Uint8Array) {
    if (inputKey.length !== KeySize) throw new RangeError("A Cobblestone-256 key is 32 bytes.");
  }

  async push(data: Uint8Array): Promise<Uint8Array<ArrayBuffer>[]> {
    this.throwIfFailed();
    this.pending = this.pending.length === 0 ? new Uint8Array(data) : concat(this.pending, data);
    const out: Uint8Array<ArrayBuffer>[] = [];
    if (this.derived === null) {
      if (this.pending.length < HeaderSize) return out;
      const header = this.pending.subarray(0, HeaderSize);
      const derived = await derive(this.inputKey, this.context, header.subarray(0, SaltSize));
      if (!fixedTimeEquals(derived.commitment, header.subarray(SaltSize))) this.fail("commitment");
      this.derived = derived;
      this.pending = this.pending.slice(HeaderSize);
    }
    // A piece of 16400 bytes followed by at least one more byte is a full, non-final chunk.
    const jobs: Promise<Uint8Array<ArrayBuffer>>[] = [];
    let offset = 0;
    while (this.pending.length - offset > EncryptedChunkSize) {
      if (this.finished) this.fail("trailing");
      jobs.push(this.open(this.pending.subarray(offset, offset + EncryptedChunkSize), false));
      offset += EncryptedChunkSize;
    }
    this.pending = this.pending.slice(offset);
    try {
      out.push(...(await Promise.all(jobs)));
    } catch (e) {
      if (e instanceof CobblestoneError) this.failed = e;
      throw e;
    }
    return out;
  }

  /** The end of the ciphertext: opens the final chunk. Throws unless the message is complete and authentic. */
  async finish(): Promise<Uint8Array<ArrayBuffer>> {
    this.throwIfFailed();
    if (this.derived === null) this.fail("truncated");
    const rest = this.pending;
    if (this.finished) this.fail(rest.length === 0 ? "truncated" : "trailing");
    // What remains must be the short final chunk: 16..16399 bytes. Exactly 16400 means the final chunk is missing.
    if (rest.length < TagSize || rest.length >= EncryptedChunkSize) this.fail("truncated");
    try {
      const plain = await this.open(rest, true);
      this.pending = new Uint8Array(0);
      return plain;
    } catch (e) {
      if (e instanceof CobblestoneError) this.failed = e;
      throw e;
    }
  }

  private async open(piece: Uint8Array, final: boolean): Promise<Uint8Array<ArrayBuffer>> {
    if (this.counter >= MaxChunks) this.fail("chunk");
    const iv = nonceFor(this.derived!.baseNonce, this.counter++);
    if (final) this.finished = true;
    try {
      return new Uint8Array(
        await crypto.subtle.decrypt({ name: "AES-GCM", iv, tagLength: 128 }, this.derived!.key, new Uint8Array(piece)),
      );
    } catch {
      // WebCrypto reports a tag mismatch as an OperationError; nothing else can fail here.
      throw new CobblestoneError("chunk");
    }
  }

  private throwIfFailed(): void {
    if (this.failed) throw this.failed;
  }

  private fail(failure: CobblestoneFailure): never {
    this.failed = new CobblestoneError(failure);
    throw this.failed;
  }
}

/** Whole-message helpers (tests, metadata). */
export async function encryptMessage(
  inputKey: Uint8Array<ArrayBuffer>,
  context: Uint8Array,
  plaintext: Uint8Array,
  salt: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  const enc = await CobblestoneEncryptor.create(inputKey, context, salt);
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  for (let i = 0; ; i += ChunkSize) {
    chunks.push(plaintext.slice(i, i + ChunkSize));
    if (plaintext.length - i < ChunkSize) break;
  }
  return concat(enc.header, ...(await enc.seal(chunks)));
}

export async function decryptMessage(inputKey: Uint8Array<ArrayBuffer>, context: Uint8Array, message: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  const dec = new CobblestoneDecryptor(inputKey, context);
  const parts = await dec.push(message);
  parts.push(await dec.finish());
  return concat(...parts);
}
