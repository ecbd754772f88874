// Sending a drop (spec/drop.md §6): key, optional password wrap, create, metadata, content in parts, finalize.
// Runs in the Web Worker, so encryption never blocks the page. Memory stays at about two parts (the one being
// filled while the previous one uploads), whatever the file size.

import { ApiError, DropApi } from "./api";
import { randomBytes, toBase64Url } from "./bytes";
import { ChunkSize, CobblestoneEncryptor, SaltSize } from "./cobblestone";
import { deriveWrappingKey } from "./argon2";
import { wrapNameKey } from "../crypto/dropnamekey";
import { context, contentBlobLength, encodeRecord, encryptMetadata, PasswordSaltSize, subkeys, wrapKey, type DropMetadata } from "./dropformat";

export interface SendOptions {
  file: Blob & { name: string };
  api: DropApi;
  expiresInSeconds: number;
  maxDownloads: number | null;
  password: string | null;
  /** The signed-in sender's user key: the drop's name key is then kept for the account, wrapped under it (spec/drop.md §8). */
  ownerUserKey?: Uint8Array | null;
  onPhase?: (text: string) => void;
  onProgress?: (encrypted: number, uploaded: number, total: number) => void;
}

export interface SentDrop {
  id: string;
  /** The drop key for the link fragment, or null for a password drop. */
  key: Uint8Array<ArrayBuffer> | null;
  ownerToken: string;
}

const ReadSize = 64 * ChunkSize; // 1 MiB of plaintext per read and per batch of AES-GCM calls
const Attempts = 4;

export async function sendDrop(options: SendOptions): Promise<SentDrop> {
  const { file, api } = options;
  const metadata: DropMetadata = { name: file.name, type: file.type, size: file.size };
  encodeRecord(metadata); // refuse a name too long to send before anything reaches the server

  const dropKey = randomBytes(32);
  let password: { salt: string; wrappedKey: string } | null = null;
  if (options.password !== null) {
    options.onPhase?.("Deriving a key from the password…");
    const salt = randomBytes(PasswordSaltSize);
    const wrapping = await deriveWrappingKey(options.password, salt);
    const wrapped = await wrapKey(wrapping, dropKey, randomBytes(12));
    wrapping.fill(0);
    password = { salt: toBase64Url(salt), wrappedKey: toBase64Url(wrapped) };
  }

  const keys = await subkeys(dropKey);
  const total = contentBlobLength(file.size);
  options.onPhase?.("Creating the drop…");
  const created = await api.create({
    contentSize: total,
    expiresInSeconds: options.expiresInSeconds,
    maxDownloads: options.maxDownloads,
    password,
    ...(options.ownerUserKey ? { ownerNameKey: wrapNameKey(options.ownerUserKey, keys.metadata) } : {}),
  });
  const { id, ownerToken, partSize } = created;

  options.onPhase?.("Encrypting and uploading…");
  const metadataBlob = await encryptMetadata(dropKey, id, metadata, randomBytes(SaltSize));
  await retry(() => api.putMetadata(id, ownerToken, metadataBlob));

  const encryptor = await CobblestoneEncryptor.create(keys.content, context(id), randomBytes(SaltSize));
  keys.content.fill(0);
  keys.metadata.fill(0);

  let part = new Uint8Array(Math.min(partSize, total));
  let filled = 0;
  let partIndex = 0;
  let encrypted = 0;
  let uploaded = 0;
  let inFlight: Promise<void> = Promise.resolve();

  const flush = async () => {
    const body = filled === part.length ? part : part.slice(0, filled);
    const n = partIndex++;
    await inFlight; // at most one part uploading while the next is encrypted
    inFlight = retry(() => api.putPart(id, ownerToken, n, body)).then(() => {
      uploaded += body.length;
      options.onProgress?.(encrypted, uploaded, total);
    });
    part = new Uint8Array(Math.min(partSize, total - encrypted));
    filled = 0;
  };

  const write = async (bytes: Uint8Array) => {
    let offset = 0;
    while (offset < bytes.length) {
      if (part.length === 0) throw new Error("internal error: more ciphertext than announced");
      const n = Math.min(bytes.length - offset, part.length - filled);
      part.set(bytes.subarray(offset, offset + n), filled);
      filled += n;
      offset += n;
      encrypted += n;
      if (filled === part.length) await flush();
    }
  };

  await write(encryptor.header);
  for (let offset = 0; ; offset += ReadSize) {
    const end = Math.min(offset + ReadSize, file.size);
    const plain = new Uint8Array(await file.slice(offset, end).arrayBuffer());
    const chunks: Uint8Array<ArrayBuffer>[] = [];
    for (let i = 0; i < plain.length; i += ChunkSize) chunks.push(plain.subarray(i, i + ChunkSize));
    const last = end === file.size;
    // The message ends with a short chunk: an empty one when the file is a multiple of 16 KiB (or empty).
    if (last && (chunks.length === 0 || chunks[chunks.length - 1]!.length === ChunkSize)) chunks.push(new Uint8Array(0));
    for (const sealed of await encryptor.seal(chunks)) await write(sealed);
    options.onProgress?.(encrypted, uploaded, total);
    if (last) break;
  }
  if (filled > 0) await flush();
  await inFlight;
  if (encrypted !== total) throw new Error("internal error: the ciphertext length does not match the announced size");

  options.onPhase?.("Finishing…");
  await retry(() => api.finalize(id, ownerToken));
  return { id, key: password === null ? dropKey : null, ownerToken };
}

/** Re-sends on network errors, 5xx and 429 (a re-sent part replaces itself, so this is safe). */
async function retry(action: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await action();
      return;
    } catch (e) {
      const transient = e instanceof TypeError || (e instanceof ApiError && (e.status >= 500 || e.status === 429));
      if (!transient || attempt >= Attempts) throw e;
      const wait = e instanceof ApiError && e.retryAfter ? e.retryAfter * 1000 : 500 * 2 ** attempt;
      await new Promise((resolve) => setTimeout(resolve, Math.min(wait, 30000)));
    }
  }
}
