// Veil Vault format v1 in the page (spec/vault.md): the sealed-value string ("CT"), its three kinds of associated
// data (wrapped vault key, field, escrow) and the recipient's rebuild (§7). Byte-compatible with Veil.Crypto.Vault
// (VaultCipher) and checked against spec/vectors/vault-v1.json (web/test/vault-vectors.test.ts), as the C# side is.
//
// Shape of the API, as in the C# library: misuse (a wrong key length, a malformed id) throws; a value that does
// not open — tampered, moved to another place, or malformed — returns null, never throws. Keys are raw bytes that
// the caller wipes (fill(0)) when it locks; WebCrypto key objects are made per operation and not kept.
import { ascii, concat, fromBase64Url, randomBytes, toBase64Url } from "../lib/bytes";

export const KeySize = 32;
export const NonceSize = 12;
export const TagSize = 16;
export const Overhead = NonceSize + TagSize;
/** The largest value the server accepts (spec/vault.md §4: 65,536 bytes of UTF-8). */
export const MaxValueBytes = 65536;

const Prefix = "v1.";
const Labels = { vaultKey: "veil/v1/vault-key|", field: "veil/v1/vault-field|", escrow: "veil/v1/vault-escrow|" } as const;
const CanonicalId = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const PathPattern = /^[a-z0-9\-/]{1,128}$/;
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** A new id: random UUID v4 in lowercase canonical form (§1). */
export function newId(): string {
  const id = crypto.randomUUID().toLowerCase();
  return requireId(id);
}

export function isCanonicalId(id: string): boolean {
  return CanonicalId.test(id);
}

function requireId(id: string): string {
  // One id, one AAD: any other spelling would bind a different byte string (§1), so it is misuse.
  if (!CanonicalId.test(id)) throw new RangeError("A vault id is a lowercase canonical UUID v4.");
  return id;
}

function requireKey(key: Uint8Array): Uint8Array<ArrayBuffer> {
  if (key.length !== KeySize) throw new RangeError("A vault key is 32 bytes.");
  return new Uint8Array(key);
}

export function vaultKeyAad(vaultId: string): Uint8Array<ArrayBuffer> {
  return ascii(Labels.vaultKey + requireId(vaultId));
}

/** Field AAD (§4): itemId is "" for the vault's name. */
export function fieldAad(vaultId: string, itemId: string, path: string): Uint8Array<ArrayBuffer> {
  if (itemId !== "") requireId(itemId);
  if (!PathPattern.test(path)) throw new RangeError("A field path is 1 to 128 characters of a-z 0-9 - /.");
  return ascii(Labels.field + requireId(vaultId) + "|" + itemId + "|" + path);
}

export function escrowAad(vaultId: string, recipientId: string): Uint8Array<ArrayBuffer> {
  return ascii(Labels.escrow + requireId(vaultId) + "|" + requireId(recipientId));
}

/** The paths of §4's table. */
export const paths = {
  name: "name",
  title: "title",
  notes: "notes",
  tag: (i: number) => `tags/${i}`,
  fieldLabel: (i: number) => `fields/${i}/label`,
  fieldValue: (i: number) => `fields/${i}/value`,
  fileName: (fileId: string) => `files/${requireId(fileId)}/name`,
  fileKey: (fileId: string) => `files/${requireId(fileId)}/key`,
} as const;

async function importKey(key: Uint8Array, usage: KeyUsage): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", requireKey(key), { name: "AES-GCM" }, false, [usage]);
}

/** CT = "v1." || base64url(nonce || AES-256-GCM(key, nonce, plaintext, aad)) (§2). A fresh nonce unless a vector gives one. */
export async function seal(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array, nonce: Uint8Array = randomBytes(NonceSize)): Promise<string> {
  if (nonce.length !== NonceSize) throw new RangeError("A nonce is 12 bytes.");
  const cryptoKey = await importKey(key, "encrypt");
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt({ name: "AES-GCM", iv: new Uint8Array(nonce), additionalData: new Uint8Array(aad), tagLength: 128 }, cryptoKey, new Uint8Array(plaintext)),
  );
  return Prefix + toBase64Url(concat(nonce, sealed));
}

/**
 * Opens a CT; null for anything §2 calls tampered: another prefix, non-canonical base64url (fromBase64Url refuses
 * padding, the standard alphabet and set unused bits), fewer than 28 bytes, or failed authentication.
 */
export async function open(key: Uint8Array, ct: string, aad: Uint8Array): Promise<Uint8Array<ArrayBuffer> | null> {
  const cryptoKey = await importKey(key, "decrypt");
  if (typeof ct !== "string" || !ct.startsWith(Prefix)) return null;
  const bytes = fromBase64Url(ct.slice(Prefix.length));
  if (bytes === null || bytes.length < Overhead) return null;
  try {
    return new Uint8Array(
      await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: bytes.subarray(0, NonceSize), additionalData: new Uint8Array(aad), tagLength: 128 },
        cryptoKey,
        bytes.subarray(NonceSize),
      ),
    );
  } catch {
    // WebCrypto reports a failed tag as OperationError: that is "tampered", a value, not an exception.
    return null;
  }
}

async function openKey(key: Uint8Array, ct: string, aad: Uint8Array): Promise<Uint8Array<ArrayBuffer> | null> {
  const opened = await open(key, ct, aad);
  if (opened === null) return null;
  if (opened.length !== KeySize) {
    opened.fill(0);
    return null;
  }
  return opened;
}

/** UTF-8 of a value to seal; a lone surrogate cannot be sealed (§4), and TextEncoder would silently replace it. */
export function encodeValue(value: string): Uint8Array<ArrayBuffer> {
  if (!value.isWellFormed()) throw new RangeError("This text contains a broken character (a lone surrogate) and cannot be stored.");
  const bytes = utf8.encode(value);
  if (bytes.length > MaxValueBytes) throw new RangeError("A value is at most 65,536 bytes of UTF-8.");
  return bytes;
}

export async function sealField(vaultKey: Uint8Array, vaultId: string, itemId: string, path: string, value: string, nonce?: Uint8Array): Promise<string> {
  return seal(vaultKey, encodeValue(value), fieldAad(vaultId, itemId, path), nonce);
}

export async function openField(vaultKey: Uint8Array, vaultId: string, itemId: string, path: string, ct: string): Promise<string | null> {
  const bytes = await open(vaultKey, ct, fieldAad(vaultId, itemId, path));
  if (bytes === null) return null;
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}

export async function wrapVaultKey(userKey: Uint8Array, vaultId: string, vaultKey: Uint8Array, nonce?: Uint8Array): Promise<string> {
  return seal(userKey, requireKey(vaultKey), vaultKeyAad(vaultId), nonce);
}

export async function unwrapVaultKey(userKey: Uint8Array, vaultId: string, wrapped: string): Promise<Uint8Array<ArrayBuffer> | null> {
  return openKey(userKey, wrapped, vaultKeyAad(vaultId));
}

export async function wrapFileKey(vaultKey: Uint8Array, vaultId: string, itemId: string, fileId: string, fileKey: Uint8Array, nonce?: Uint8Array): Promise<string> {
  return seal(vaultKey, requireKey(fileKey), fieldAad(vaultId, itemId, paths.fileKey(fileId)), nonce);
}

export async function unwrapFileKey(vaultKey: Uint8Array, vaultId: string, itemId: string, fileId: string, wrapped: string): Promise<Uint8Array<ArrayBuffer> | null> {
  return openKey(vaultKey, wrapped, fieldAad(vaultId, itemId, paths.fileKey(fileId)));
}

export async function sealEscrow(deliveryKey: Uint8Array, vaultId: string, recipientId: string, vaultKey: Uint8Array, nonce?: Uint8Array): Promise<string> {
  return seal(deliveryKey, requireKey(vaultKey), escrowAad(vaultId, recipientId), nonce);
}

/** §7 step 1: the delivery key as the server returns it (canonical base64url of 32 bytes) opens the escrow. */
export async function openEscrow(deliveryKeyBase64Url: string, vaultId: string, recipientId: string, escrow: string): Promise<Uint8Array<ArrayBuffer> | null> {
  const deliveryKey = typeof deliveryKeyBase64Url === "string" ? fromBase64Url(deliveryKeyBase64Url) : null;
  if (deliveryKey === null || deliveryKey.length !== KeySize) return null;
  try {
    return await openKey(deliveryKey, escrow, escrowAad(vaultId, recipientId));
  } finally {
    deliveryKey.fill(0);
  }
}

/** Cobblestone-256's context for a file's content (§5). */
export function fileContext(fileId: string): Uint8Array<ArrayBuffer> {
  return ascii(requireId(fileId));
}

// ---- Items: the sealed shape the server stores and the plain shape a page shows ----

export interface SealedField { label: string; value: string }
export interface SealedFile { id: string; name: string; key: string; size: number; createdAt?: string }
export interface SealedItem {
  id: string;
  title: string;
  notes: string | null;
  tags: string[];
  fields: SealedField[];
  files: SealedFile[];
  revision?: number;
  createdAt?: string;
  updatedAt?: string;
}

export interface PlainFile { id: string; name: string; size: number; key: Uint8Array<ArrayBuffer> }
export interface PlainItem {
  id: string;
  title: string;
  notes: string | null;
  tags: string[];
  fields: { label: string; value: string }[];
  files: PlainFile[];
  revision: number;
  updatedAt?: string;
}

/** Thrown by openItem when any value of an item does not open: the page reports the whole vault as tampered (§7.4). */
export class VaultTamperedError extends Error {
  constructor() {
    super("The vault's data did not decrypt: it was changed or damaged, or it is not the vault this key opens.");
    this.name = "VaultTamperedError";
  }
}

async function must<T>(value: Promise<T | null>): Promise<T> {
  const v = await value;
  if (v === null) throw new VaultTamperedError();
  return v;
}

/** Opens every value of an item with its path (§4); throws VaultTamperedError if any one does not open. */
export async function openItem(vaultKey: Uint8Array, vaultId: string, item: SealedItem): Promise<PlainItem> {
  if (!isCanonicalId(item.id)) throw new VaultTamperedError();
  const id = item.id;
  const [title, notes, tags, fields, files] = await Promise.all([
    must(openField(vaultKey, vaultId, id, paths.title, item.title)),
    item.notes === null ? Promise.resolve(null) : must(openField(vaultKey, vaultId, id, paths.notes, item.notes)),
    Promise.all(item.tags.map((t, i) => must(openField(vaultKey, vaultId, id, paths.tag(i), t)))),
    Promise.all(item.fields.map(async (f, i) => ({
      label: await must(openField(vaultKey, vaultId, id, paths.fieldLabel(i), f.label)),
      value: await must(openField(vaultKey, vaultId, id, paths.fieldValue(i), f.value)),
    }))),
    Promise.all(item.files.map(async (f) => {
      if (!isCanonicalId(f.id)) throw new VaultTamperedError();
      return {
        id: f.id,
        size: f.size,
        name: await must(openField(vaultKey, vaultId, id, paths.fileName(f.id), f.name)),
        key: await must(unwrapFileKey(vaultKey, vaultId, id, f.id, f.key)),
      };
    })),
  ]);
  return { id, title, notes, tags, fields, files, revision: item.revision ?? 0, updatedAt: item.updatedAt };
}

/** Seals an item for PUT (every value re-sealed with a fresh nonce, §2); files are uploaded separately. */
export async function sealItem(
  vaultKey: Uint8Array,
  vaultId: string,
  item: { id: string; title: string; notes: string | null; tags: string[]; fields: { label: string; value: string }[] },
): Promise<{ title: string; notes: string | null; tags: string[]; fields: SealedField[] }> {
  const id = requireId(item.id);
  const [title, notes, tags, fields] = await Promise.all([
    sealField(vaultKey, vaultId, id, paths.title, item.title),
    item.notes === null ? Promise.resolve(null) : sealField(vaultKey, vaultId, id, paths.notes, item.notes),
    Promise.all(item.tags.map((t, i) => sealField(vaultKey, vaultId, id, paths.tag(i), t))),
    Promise.all(item.fields.map(async (f, i) => ({
      label: await sealField(vaultKey, vaultId, id, paths.fieldLabel(i), f.label),
      value: await sealField(vaultKey, vaultId, id, paths.fieldValue(i), f.value),
    }))),
  ]);
  return { title, notes, tags, fields };
}

/** Drops every key an opened item holds (file keys); the caller drops the vault key. */
export function wipeItem(item: PlainItem): void {
  for (const f of item.files) f.key.fill(0);
}
