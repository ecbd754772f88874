// The Vault's Web Worker (issue 16 points 6 and 7): the work that grows with the size of a vault or a file runs
// here, so the page stays responsive whatever the vault holds.
//   encrypt  a file, read in 1 MiB slices and sealed with Cobblestone-256 into a Blob, chunk after chunk: the
//            plaintext is never held whole (the File is read from disk as it goes), and the ciphertext is handed
//            to the browser's blob store batch by batch, so this worker's memory stays flat at about one slice.
//   open     a vault's items in one batch (one message for the whole vault, not one per item).
//   rebuild  the heir's §7 rebuild: escrow → vault key → name and every item.
//   download a file: fetched and decrypted here, each batch of plaintext handed to the page (transferred, not
//            copied) for its sink, and the next read waits until the page has written it, so neither side
//            accumulates the file. Only after `finish` authenticated the end does the page close its sink.
// Keys arrive as copies and are wiped here when the request ends; the worker is ended after each request.
import { ChunkSize, CobblestoneDecryptor, CobblestoneEncryptor } from "../lib/cobblestone";
import { ApiError } from "../lib/api";
import { randomBytes } from "../lib/bytes";
import { fileContext, openEscrow, openField, openItem, paths, VaultTamperedError, wipeItem, type PlainItem, type SealedItem } from "../crypto/vault";
import type { ClaimedVault } from "./claimApi";

export type VaultWorkerRequest =
  | { type: "encrypt"; file: Blob; fileId: string; fileKey: Uint8Array<ArrayBuffer> }
  | { type: "open"; vaultKey: Uint8Array<ArrayBuffer>; vaultId: string; items: SealedItem[] }
  | { type: "rebuild"; claimed: ClaimedVault }
  | { type: "download"; url: string; authorization: string; fileId: string; fileKey: Uint8Array<ArrayBuffer> }
  | { type: "written" };

export type VaultWorkerReply =
  | { type: "progress"; done: number; total: number }
  | { type: "encrypted"; blob: Blob }
  | { type: "opened"; items: PlainItem[] }
  | { type: "rebuilt"; name: string; items: PlainItem[]; vaultKey: Uint8Array<ArrayBuffer> }
  | { type: "plaintext"; chunks: Uint8Array<ArrayBuffer>[] }
  | { type: "downloaded" }
  | { type: "error"; tampered: boolean; message: string; status?: number; code?: string };

const ReadSize = 64 * ChunkSize; // 1 MiB of plaintext per read and per batch of AES-GCM calls

interface Scope {
  onmessage: ((event: MessageEvent<VaultWorkerRequest>) => void) | null;
  postMessage(message: VaultWorkerReply, transfer?: Transferable[]): void;
}
const scope = self as unknown as Scope;

let written: (() => void) | null = null;

scope.onmessage = (event) => {
  if (event.data.type === "written") {
    written?.();
    return;
  }
  void handle(event.data).catch((error: unknown) =>
    scope.postMessage({
      type: "error",
      tampered: error instanceof VaultTamperedError,
      message: error instanceof Error ? error.message : String(error),
      ...(error instanceof ApiError ? { status: error.status, code: error.code } : {}),
    }),
  );
};

async function handle(request: VaultWorkerRequest): Promise<void> {
  switch (request.type) {
    case "encrypt": {
      try {
        scope.postMessage({ type: "encrypted", blob: await encrypt(request.file, request.fileId, request.fileKey) });
      } finally {
        request.fileKey.fill(0);
      }
      return;
    }
    case "open": {
      try {
        const items = await Promise.all(request.items.map((item) => openItem(request.vaultKey, request.vaultId, item)));
        scope.postMessage({ type: "opened", items }, items.flatMap((i) => i.files.map((f) => f.key.buffer)));
      } finally {
        request.vaultKey.fill(0);
      }
      return;
    }
    case "download": {
      try {
        await download(request.url, request.authorization, request.fileId, request.fileKey);
        scope.postMessage({ type: "downloaded" });
      } finally {
        request.fileKey.fill(0);
      }
      return;
    }
    case "written":
      return;
    case "rebuild": {
      const rebuilt = await rebuild(request.claimed);
      scope.postMessage({ type: "rebuilt", ...rebuilt }, [rebuilt.vaultKey.buffer, ...rebuilt.items.flatMap((i) => i.files.map((f) => f.key.buffer))]);
      return;
    }
  }
}

async function encrypt(file: Blob, fileId: string, fileKey: Uint8Array<ArrayBuffer>): Promise<Blob> {
  const encryptor = await CobblestoneEncryptor.create(fileKey, fileContext(fileId), randomBytes(24));
  let sealed = new Blob([encryptor.header]);
  let lastReport = 0;
  for (let offset = 0; ; offset += ReadSize) {
    const slice = new Uint8Array(await file.slice(offset, offset + ReadSize).arrayBuffer());
    const chunks: Uint8Array<ArrayBuffer>[] = [];
    for (let i = 0; i < slice.length; i += ChunkSize) chunks.push(slice.subarray(i, i + ChunkSize));
    // A file whose size is a multiple of 16 KiB (or empty) ends with an empty final chunk (spec/cobblestone.md).
    const last = offset + ReadSize >= file.size;
    if (last && (chunks.length === 0 || chunks[chunks.length - 1]!.length === ChunkSize)) chunks.push(new Uint8Array(0));
    // Appending to a Blob hands the bytes to the browser's blob store (which may keep them on disk); the slice
    // and its ciphertext are then garbage, so memory here does not grow with the file.
    sealed = new Blob([sealed, ...(await encryptor.seal(chunks.map((c) => new Uint8Array(c))))]);
    slice.fill(0);
    const done = Math.min(offset + ReadSize, file.size);
    const now = Date.now();
    if (last || now - lastReport > 100) {
      lastReport = now;
      scope.postMessage({ type: "progress", done, total: file.size });
    }
    if (last) return sealed;
  }
}

/** The rebuild of spec/vault.md §7: every value must open, or the whole vault is reported as tampered. */
async function rebuild(claimed: ClaimedVault): Promise<{ name: string; items: PlainItem[]; vaultKey: Uint8Array<ArrayBuffer> }> {
  const vaultKey = await openEscrow(claimed.deliveryKey, claimed.vaultId, claimed.recipientId, claimed.escrow);
  if (vaultKey === null) throw new VaultTamperedError();
  let items: PlainItem[] = [];
  try {
    const name = await openField(vaultKey, claimed.vaultId, "", paths.name, claimed.vault.name);
    if (name === null) throw new VaultTamperedError();
    items = await Promise.all(claimed.vault.items.map((item) => openItem(vaultKey, claimed.vaultId, item)));
    return { name, items, vaultKey };
  } catch (error) {
    vaultKey.fill(0);
    items.forEach(wipeItem);
    throw error;
  }
}

async function download(url: string, authorization: string, fileId: string, fileKey: Uint8Array<ArrayBuffer>): Promise<void> {
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
  const decryptor = new CobblestoneDecryptor(fileKey, fileContext(fileId));
  const reader = response.body.getReader();
  const hand = async (chunks: Uint8Array<ArrayBuffer>[]) => {
    if (chunks.length === 0) return;
    const done = new Promise<void>((resolve) => { written = resolve; });
    scope.postMessage({ type: "plaintext", chunks }, chunks.map((c) => c.buffer));
    await done;
  };
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      await hand(await decryptor.push(value));
    }
    await hand([await decryptor.finish()]);
  } catch (error) {
    await reader.cancel().catch(() => undefined);
    if (error instanceof TypeError) throw error; // the network, not the ciphertext
    throw new VaultTamperedError();
  }
}
