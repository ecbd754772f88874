// Downloading a vault file: the blob streams from the server through Cobblestone-256's decryptor, and only when the
// whole stream authenticated (final chunk, nothing after it) is the plaintext handed to the browser as a download
// (spec/vault.md §5). Nothing partial is ever offered: on any failure the chunks are dropped.
import { CobblestoneDecryptor } from "../lib/cobblestone";
import { fileContext } from "../crypto/vault";
import { ApiError } from "../lib/api";

export class FileTamperedError extends Error {
  constructor() {
    super("This file did not decrypt: it was changed or damaged on the server. Nothing was saved.");
    this.name = "FileTamperedError";
  }
}

/** Fetches and decrypts one file; `authorization` is "Bearer <token>" (the claim's download token or the session). */
export async function fetchAndDecrypt(url: string, authorization: string, fileId: string, fileKey: Uint8Array, onProgress?: (bytes: number) => void): Promise<Blob> {
  const response = await fetch(url, { headers: { Authorization: authorization }, credentials: "omit", cache: "no-store" });
  if (!response.ok || !response.body) {
    let code = `http-${response.status}`;
    try {
      const problem = (await response.json()) as { code?: unknown };
      if (typeof problem.code === "string") code = problem.code;
    } catch {
      // Not a problem document.
    }
    throw new ApiError(response.status, code);
  }
  const decryptor = new CobblestoneDecryptor(new Uint8Array(fileKey), fileContext(fileId));
  const parts: Uint8Array<ArrayBuffer>[] = [];
  let received = 0;
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      received += value.length;
      onProgress?.(received);
      parts.push(...(await decryptor.push(value)));
    }
    parts.push(await decryptor.finish());
  } catch (error) {
    for (const p of parts) p.fill(0);
    if (error instanceof ApiError || error instanceof TypeError) throw error;
    throw new FileTamperedError();
  }
  return new Blob(parts, { type: "application/octet-stream" });
}

/** A safe basename for the save dialog: the name comes from whoever held the vault key (spec/vault.md §5). */
export function safeFileName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? "";
  // Control characters, and names the OS treats specially, become a plain default.
  // eslint-disable-next-line no-control-regex
  const cleaned = base.replace(/[\u0000-\u001f\u007f<>:"|?*]/g, "_").replace(/^\.+/, "").trim();
  return cleaned.length === 0 ? "file" : cleaned.slice(0, 200);
}

/** Offers a decrypted blob as a download under its (sanitised) name. */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = safeFileName(name);
  a.rel = "noopener";
  document.body.append(a);
  a.click();
  a.remove();
  // The browser has taken the blob for the download; revoke after this task so the URL cannot be reused.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
