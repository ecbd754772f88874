// spec/vectors/drop-v1.json, checked by the browser implementation (the C# tests check the same file).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { bytesToHex, hexToBytes } from "../src/lib/bytes";
import { decryptMessage, encryptMessage } from "../src/lib/cobblestone";
import { deriveWrappingKey } from "../src/lib/argon2";
import {
  contentBlobLength,
  context,
  decodeRecord,
  decryptMetadata,
  encodeRecord,
  formatLink,
  parseLink,
  subkeys,
  unwrapKey,
  wrapKey,
} from "../src/lib/dropformat";
import { repoFile } from "./paths";

interface StreamCase {
  name: string;
  origin: string;
  drop_id: string;
  drop_key: string;
  metadata: { name: string; type: string; size: number };
  content: { utf8?: string; pattern_length?: number };
  metadata_salt: string;
  content_salt: string;
  link: string;
  content_key: string;
  metadata_key: string;
  context: string;
  metadata_plaintext: string;
  metadata_ciphertext: string;
  content_ciphertext?: string;
  content_ciphertext_sha256: string;
}

interface PasswordCase {
  name: string;
  drop_key: string;
  password: string;
  salt: string;
  nonce: string;
  password_utf8: string;
  wrapping_key: string;
  wrapped_key: string;
}

interface RecordCase {
  name: string;
  utf8: string;
  valid: boolean;
  expect?: { name: string; type: string; size: number };
}

const vectors = JSON.parse(readFileSync(repoFile("spec", "vectors", "drop-v1.json"), "utf8")) as {
  cases: StreamCase[];
  password_cases: PasswordCase[];
  metadata_records: RecordCase[];
};

function contentOf(c: StreamCase): Uint8Array<ArrayBuffer> {
  if (c.content.utf8 !== undefined) return new TextEncoder().encode(c.content.utf8);
  const out = new Uint8Array(c.content.pattern_length!);
  for (let i = 0; i < out.length; i++) out[i] = i % 251;
  return out;
}

async function sha256Hex(data: Uint8Array<ArrayBuffer>): Promise<string> {
  return bytesToHex(new Uint8Array(await crypto.subtle.digest("SHA-256", data)));
}

describe("drop-v1 stream vectors", () => {
  it.each(vectors.cases.map((c) => [c.name, c] as const))("%s", async (_, c) => {
    const key = hexToBytes(c.drop_key);
    const keys = await subkeys(key);
    expect(bytesToHex(keys.content)).toBe(c.content_key);
    expect(bytesToHex(keys.metadata)).toBe(c.metadata_key);
    expect(bytesToHex(context(c.drop_id))).toBe(c.context);

    const record = encodeRecord(c.metadata);
    expect(bytesToHex(record)).toBe(c.metadata_plaintext);
    const metaBlob = await encryptMessage(keys.metadata, context(c.drop_id), record, hexToBytes(c.metadata_salt));
    expect(bytesToHex(metaBlob)).toBe(c.metadata_ciphertext);

    const content = contentOf(c);
    const blob = await encryptMessage(keys.content, context(c.drop_id), content, hexToBytes(c.content_salt));
    expect(blob.length).toBe(contentBlobLength(content.length));
    expect(await sha256Hex(blob)).toBe(c.content_ciphertext_sha256);
    if (c.content_ciphertext) expect(bytesToHex(blob)).toBe(c.content_ciphertext);

    const opened = await decryptMetadata(key, c.drop_id, hexToBytes(c.metadata_ciphertext));
    expect(opened).toEqual({ ok: true, metadata: c.metadata });
    expect(bytesToHex(await decryptMessage(keys.content, context(c.drop_id), blob))).toBe(bytesToHex(content));

    expect(formatLink(c.origin, c.drop_id, key)).toBe(c.link);
    const parsed = parseLink(c.link)!;
    expect(parsed.id).toBe(c.drop_id);
    expect(bytesToHex(parsed.key!)).toBe(c.drop_key);
  });

  it("a metadata blob opened under another drop id is refused as a wrong key", async () => {
    const c = vectors.cases[1]!;
    const result = await decryptMetadata(hexToBytes(c.drop_key), c.drop_id + "x", hexToBytes(c.metadata_ciphertext));
    expect(result).toEqual({ ok: false, reason: "wrong-key" });
  });

  it("a flipped byte in a metadata chunk is reported as tampering", async () => {
    const c = vectors.cases[1]!;
    const blob = hexToBytes(c.metadata_ciphertext);
    blob[100]! ^= 1;
    expect(await decryptMetadata(hexToBytes(c.drop_key), c.drop_id, blob)).toEqual({ ok: false, reason: "tampered" });
  });
});

describe("drop-v1 password vectors", () => {
  it.each(vectors.password_cases.map((c) => [c.name, c] as const))("%s", async (_, c) => {
    expect(bytesToHex(new TextEncoder().encode(c.password))).toBe(c.password_utf8);
    const wrapping = await deriveWrappingKey(c.password, hexToBytes(c.salt));
    expect(bytesToHex(wrapping)).toBe(c.wrapping_key);
    const wrapped = await wrapKey(wrapping, hexToBytes(c.drop_key), hexToBytes(c.nonce));
    expect(bytesToHex(wrapped)).toBe(c.wrapped_key);
    const unwrapped = await unwrapKey(wrapping, hexToBytes(c.wrapped_key));
    expect(unwrapped.ok && bytesToHex(unwrapped.key)).toBe(c.drop_key);
  });

  it("a wrong password does not unwrap", async () => {
    const c = vectors.password_cases[0]!;
    const wrapping = await deriveWrappingKey(c.password + "!", hexToBytes(c.salt));
    expect(await unwrapKey(wrapping, hexToBytes(c.wrapped_key))).toEqual({ ok: false, reason: "wrong-password" });
  });
});

describe("drop-v1 metadata records", () => {
  it.each(vectors.metadata_records.map((c) => [c.name, c] as const))("%s", (_, c) => {
    const result = decodeRecord(new TextEncoder().encode(c.utf8));
    if (c.valid) expect(result).toEqual(c.expect);
    else expect(result).toBeNull();
  });
});

describe("links", () => {
  it("refuses a non-canonical key encoding", () => {
    const c = vectors.cases[0]!;
    const link = c.link.slice(0, -1) + "1"; // 'A' -> '1' changes the unused low bits of the last character
    expect(parseLink(link)).toBeNull();
  });

  it("a link without a fragment is a password drop", () => {
    expect(parseLink("https://veil.example/d/abc")).toEqual({ origin: "https://veil.example", id: "abc", key: null });
  });
});
