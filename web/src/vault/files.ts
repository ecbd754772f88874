// Vault files (spec/vault.md §5, spec/vault-api.md "Files").
// Download: the ciphertext streams from the server through Cobblestone-256's decryptor (in the vault worker) into a
// sink (../lib/sink): with File System Access it goes to disk chunk by chunk and the file is made visible only when
// the whole stream authenticated (final chunk, nothing after it); without it, the plaintext is collected and handed
// over only then.
// On any failure the sink is aborted: nothing partial is ever offered.
// Upload: the file is sealed in the vault worker (./vaultWorker.ts) into a Blob and sent with one PUT; its name and
// key travel as CTs in headers, sealed here under the vault key.
import { newId, paths, sealField, VaultTamperedError, wrapFileKey, type SealedFile } from "../crypto/vault";
import { randomBytes } from "../lib/bytes";
import { openSink } from "../lib/sink";
import { request } from "../api/client";
import { downloadInWorker, encryptFile } from "./vaultWorker";

export class FileTamperedError extends Error {
  constructor() {
    super("This file did not decrypt: it was changed or damaged on the server. Nothing was saved.");
    this.name = "FileTamperedError";
  }
}

/**
 * Fetches, decrypts and saves one file under its (sanitised) name; `authorization` is "Bearer <token>" (the
 * claim's download token or the session). Returns false if the person cancelled the save dialog.
 */
export async function downloadFile(url: string, authorization: string, fileId: string, fileKey: Uint8Array, name: string): Promise<boolean> {
  // The save dialog first, while the click still counts as a user gesture.
  const sink = await openSink(safeFileName(name));
  if (sink === null) return false;
  try {
    // Fetched and decrypted in the vault worker; the page only writes what authenticated into the sink.
    await downloadInWorker(url, authorization, fileId, fileKey, async (chunks) => {
      for (const chunk of chunks) await sink.write(chunk);
    });
    await sink.close();
    return true;
  } catch (error) {
    await sink.abort();
    throw error instanceof VaultTamperedError ? new FileTamperedError() : error;
  }
}

/**
 * Attaches a file to an existing item: a fresh file id and key (§5), the content sealed in the worker, the name
 * and wrapped key sealed under the vault key. The plaintext never leaves this browser.
 */
export async function uploadFile(vaultKey: Uint8Array, vaultId: string, itemId: string, file: File, onProgress?: (done: number, total: number) => void): Promise<SealedFile> {
  const fileId = newId();
  const fileKey = randomBytes(32);
  try {
    const [sealed, name, key] = await Promise.all([
      encryptFile(file, fileId, fileKey, onProgress),
      sealField(vaultKey, vaultId, itemId, paths.fileName(fileId), file.name),
      wrapFileKey(vaultKey, vaultId, itemId, fileId, fileKey),
    ]);
    return await request<SealedFile>("PUT", `/api/v1/vault/vaults/${vaultId}/items/${itemId}/files/${fileId}`, sealed, {
      headers: { "Veil-File-Name": name, "Veil-File-Key": key },
    });
  } finally {
    fileKey.fill(0);
  }
}

/** A safe basename for the save dialog: the name comes from whoever held the vault key (spec/vault.md §5). */
export function safeFileName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? "";
  // Control characters, and names the OS treats specially, become a plain default.
  // eslint-disable-next-line no-control-regex
  const cleaned = base.replace(/[\u0000-\u001f\u007f<>:"|?*]/g, "_").replace(/^\.+/, "").trim();
  return cleaned.length === 0 ? "file" : cleaned.slice(0, 200);
}
