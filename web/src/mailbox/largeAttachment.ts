// Large attachments (spec/mailbox-api.md "Large attachments"): the message carries a reference part
//   {"v":1,"id":"<blob id>","key":"<base64url key>","size":n,"name":"…","mediaType":"…","sha256":"<hex>"}
// and the file is one Cobblestone-256 stream (context "veil/v1/mail/attachment") on the server. The page fetches the
// ciphertext, decrypts it, and hands it over only when every chunk authenticated, the length is `size` and the
// SHA-256 is `sha256` — otherwise nothing is saved and the reader is told the attachment did not verify.
import { requestBytes } from "../api/client";
import { bytesToHex, fromBase64Url } from "../lib/bytes";
import { CobblestoneDecryptor } from "../lib/cobblestone";

export interface AttachmentReference { id: string; key: string; size: number; name: string; mediaType: string; sha256: string }

const context = new TextEncoder().encode("veil/v1/mail/attachment");

/** The reference in a reference part's bytes, or null for anything else. */
export function readReference(bytes: Uint8Array): AttachmentReference | null {
  try {
    const r = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
    if (r.v !== 1 || typeof r.id !== "string" || !/^[0-9a-f-]{36}$/i.test(r.id) || typeof r.key !== "string" || typeof r.size !== "number"
      || typeof r.sha256 !== "string" || !/^[0-9a-f]{64}$/i.test(r.sha256)) return null;
    return { id: r.id, key: r.key, size: r.size, name: typeof r.name === "string" ? r.name : "attachment", mediaType: typeof r.mediaType === "string" ? r.mediaType : "application/octet-stream", sha256: r.sha256.toLowerCase() };
  } catch {
    return null;
  }
}

export class AttachmentNotVerifiedError extends Error {
  constructor() {
    super("The attachment did not verify (it was changed or damaged on the server): nothing was saved.");
  }
}

/** Fetches and decrypts a large attachment; resolves to its plaintext only once it is whole and verified. */
export async function openLargeAttachment(reference: AttachmentReference): Promise<Blob> {
  const key = fromBase64Url(reference.key);
  if (!key || key.length !== 32) throw new AttachmentNotVerifiedError();
  try {
    const sealed = await requestBytes(`/api/v1/mail/attachments/${encodeURIComponent(reference.id)}`);
    const decryptor = new CobblestoneDecryptor(key, context);
    let chunks: Uint8Array<ArrayBuffer>[];
    try {
      chunks = [...(await decryptor.push(sealed)), await decryptor.finish()];
    } catch {
      throw new AttachmentNotVerifiedError();
    }
    const blob = new Blob(chunks);
    const digest = bytesToHex(new Uint8Array(await crypto.subtle.digest("SHA-256", await blob.arrayBuffer())));
    if (blob.size !== reference.size || digest !== reference.sha256) throw new AttachmentNotVerifiedError();
    return blob;
  } finally {
    key.fill(0);
  }
}
