// Veil Drop format v1 (spec/drop.md): subkeys, context, metadata record, link, password wrap.
// The C# twin is Veil.Crypto.Drop; both are checked against spec/vectors/drop-v1.json.

import { ascii, concat, fromBase64Url, toBase64Url } from "./bytes";
import { decryptMessage, encryptMessage, encryptedLength, CobblestoneError } from "./cobblestone";
import { JsonNumber, parseStrictJson } from "./strictjson";

export const DropKeySize = 32;
export const MaxRecordBytes = 3840;
const RecordPadding = 256;
const MaxSafeSize = 2 ** 53 - 1;
const WrapAad = concat(new Uint8Array([1]), ascii("veil/drop/v1/wrap"));
export const WrappedKeySize = 61;
export const PasswordSaltSize = 32;

export interface DropMetadata {
  name: string;
  type: string;
  size: number;
}

export function isValidDropId(id: string): boolean {
  return /^[A-Za-z0-9_-]{1,64}$/.test(id);
}

export function context(id: string): Uint8Array<ArrayBuffer> {
  if (!isValidDropId(id)) throw new RangeError("invalid drop id");
  return ascii(id);
}

async function hkdfSha256(ikm: Uint8Array<ArrayBuffer>, info: string): Promise<Uint8Array<ArrayBuffer>> {
  const key = await crypto.subtle.importKey("raw", ikm, "HKDF", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: ascii(info) }, key, 256);
  return new Uint8Array(bits);
}

export interface DropSubkeys {
  content: Uint8Array<ArrayBuffer>;
  metadata: Uint8Array<ArrayBuffer>;
}

export async function subkeys(dropKey: Uint8Array<ArrayBuffer>): Promise<DropSubkeys> {
  if (dropKey.length !== DropKeySize) throw new RangeError("A drop key is 32 bytes.");
  return {
    content: await hkdfSha256(dropKey, "veil/drop/v1/content"),
    metadata: await hkdfSha256(dropKey, "veil/drop/v1/metadata"),
  };
}

/** The content blob length for a file of `size` bytes (spec/drop.md §3). */
export const contentBlobLength = encryptedLength;

const utf8 = new TextEncoder();

/** The padded metadata record; throws if a member is out of range or the record exceeds 3840 bytes. */
export function encodeRecord(meta: DropMetadata): Uint8Array<ArrayBuffer> {
  const nameBytes = utf8.encode(meta.name).length;
  if (nameBytes < 1 || nameBytes > 1024) throw new RangeError("The file name must be 1 to 1024 UTF-8 bytes.");
  if (utf8.encode(meta.type).length > 255) throw new RangeError("The media type is at most 255 UTF-8 bytes.");
  if (!Number.isSafeInteger(meta.size) || meta.size < 0) throw new RangeError("invalid size");
  const json = utf8.encode(JSON.stringify({ v: 1, name: meta.name, type: meta.type, size: meta.size }));
  const padded = Math.ceil(Math.max(json.length, 1) / RecordPadding) * RecordPadding;
  if (padded > MaxRecordBytes) throw new RangeError("The file name is too long to send.");
  const out = new Uint8Array(padded).fill(0x20);
  out.set(json);
  return out;
}

/** Reads a record strictly (spec/drop.md §4); null if it is malformed. */
export function decodeRecord(record: Uint8Array): DropMetadata | null {
  if (record.length > MaxRecordBytes) return null;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(record);
  } catch {
    // Invalid UTF-8 is a malformed record.
    return null;
  }
  const value = parseStrictJson(text);
  if (value === null || typeof value !== "object" || Array.isArray(value) || value instanceof JsonNumber) return null;
  const { v, name, type, size } = value;
  if (!(v instanceof JsonNumber) || !v.isInteger || v.value !== 1) return null;
  if (typeof name !== "string" || typeof type !== "string") return null;
  if (!(size instanceof JsonNumber) || !size.isInteger || size.value < 0 || size.value > MaxSafeSize) return null;
  const nameBytes = utf8.encode(name).length;
  if (nameBytes < 1 || nameBytes > 1024 || utf8.encode(type).length > 255) return null;
  return { name, type, size: size.value };
}

export async function encryptMetadata(dropKey: Uint8Array<ArrayBuffer>, id: string, meta: DropMetadata, salt: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  const keys = await subkeys(dropKey);
  return encryptMessage(keys.metadata, context(id), encodeRecord(meta), salt);
}

export type MetadataResult = { ok: true; metadata: DropMetadata } | { ok: false; reason: "wrong-key" | "tampered" | "malformed" };

export async function decryptMetadata(dropKey: Uint8Array<ArrayBuffer>, id: string, blob: Uint8Array): Promise<MetadataResult> {
  const keys = await subkeys(dropKey);
  let record: Uint8Array;
  try {
    record = await decryptMessage(keys.metadata, context(id), blob);
  } catch (e) {
    if (e instanceof CobblestoneError) return { ok: false, reason: e.failure === "commitment" ? "wrong-key" : "tampered" };
    throw e;
  }
  const metadata = decodeRecord(record);
  return metadata ? { ok: true, metadata } : { ok: false, reason: "malformed" };
}

export interface ParsedLink {
  origin: string;
  id: string;
  /** Null for a password drop (no fragment). */
  key: Uint8Array<ArrayBuffer> | null;
}

/** Parses `{origin}/d/{id}[#key]`; null if the id or the key is invalid. */
export function parseLink(link: string): ParsedLink | null {
  const hash = link.indexOf("#");
  const base = hash < 0 ? link : link.substring(0, hash);
  const at = base.lastIndexOf("/d/");
  if (at < 0) return null;
  const id = base.substring(at + 3);
  if (!isValidDropId(id)) return null;
  let key: Uint8Array<ArrayBuffer> | null = null;
  if (hash >= 0) {
    const fragment = link.substring(hash + 1);
    if (fragment.length !== 43) return null;
    key = fromBase64Url(fragment);
    if (key === null || key.length !== DropKeySize) return null;
  }
  return { origin: base.substring(0, at), id, key };
}

export function formatLink(origin: string, id: string, key: Uint8Array | null): string {
  const o = origin.endsWith("/") ? origin.slice(0, -1) : origin;
  return o + "/d/" + id + (key ? "#" + toBase64Url(key) : "");
}

/** AES-256-GCM wrap of the drop key under an Argon2id-derived key (spec/drop.md §5). */
export async function wrapKey(wrappingKey: Uint8Array<ArrayBuffer>, dropKey: Uint8Array<ArrayBuffer>, nonce: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const key = await crypto.subtle.importKey("raw", wrappingKey, "AES-GCM", false, ["encrypt"]);
  const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv: nonce, additionalData: WrapAad, tagLength: 128 }, key, dropKey);
  return concat(new Uint8Array([1]), nonce, new Uint8Array(sealed));
}

export type UnwrapResult = { ok: true; key: Uint8Array<ArrayBuffer> } | { ok: false; reason: "wrong-password" | "unsupported" };

export async function unwrapKey(wrappingKey: Uint8Array<ArrayBuffer>, wrapped: Uint8Array): Promise<UnwrapResult> {
  if (wrapped.length !== WrappedKeySize || wrapped[0] !== 1) return { ok: false, reason: "unsupported" };
  const key = await crypto.subtle.importKey("raw", wrappingKey, "AES-GCM", false, ["decrypt"]);
  try {
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: wrapped.slice(1, 13), additionalData: WrapAad, tagLength: 128 },
      key,
      wrapped.slice(13),
    );
    return { ok: true, key: new Uint8Array(plain) };
  } catch {
    // A tag mismatch: the password is wrong (or the wrapped key was altered).
    return { ok: false, reason: "wrong-password" };
  }
}

/** Password rules of spec/drop.md §5: 1..1024 UTF-16 code units, no lone surrogate. Null when acceptable. */
export function passwordProblem(password: string): string | null {
  if (password.length < 1) return "Enter a password.";
  if (password.length > 1024) return "The password is longer than 1024 characters.";
  if (!password.isWellFormed()) return "The password contains an invalid character.";
  return null;
}

/** Safe file name for saving (spec/drop.md §7). */
export function sanitizeName(name: string, id: string): string {
  let n = name.substring(Math.max(name.lastIndexOf("/"), name.lastIndexOf("\\")) + 1);
  n = n.replace(/[\u0000-\u001f\u007f-\u009f<>:"|?*]/g, "");
  n = n.replace(/^[ .]+|[ .]+$/g, "");
  const reserved = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;
  if (n === "" || n === "." || n === ".." || reserved.test(n)) return "drop-" + id;
  const bytes = utf8.encode(n);
  if (bytes.length > 255) {
    const dot = n.lastIndexOf(".");
    const ext = dot > 0 && n.length - dot <= 16 ? n.substring(dot) : "";
    let stem = n.substring(0, n.length - ext.length);
    while (utf8.encode(stem + ext).length > 255) stem = Array.from(stem).slice(0, -1).join("");
    n = stem + ext;
  }
  return n;
}
