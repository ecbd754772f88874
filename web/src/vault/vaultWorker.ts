// The page's side of vault.worker.ts: one worker per request (ended when it answers, so a file's buffers and the
// keys it was given go with it). Keys are sent as copies; the page keeps and wipes its own.
import { VaultTamperedError, type PlainItem, type SealedItem } from "../crypto/vault";
import { ApiError } from "../lib/api";
import type { ClaimedVault } from "./claimApi";
import type { VaultWorkerReply, VaultWorkerRequest } from "./vault.worker";

function run<T extends VaultWorkerReply["type"]>(
  request: VaultWorkerRequest,
  transfer: Transferable[],
  answer: T,
  onProgress?: (done: number, total: number) => void,
  onPlaintext?: (chunks: Uint8Array<ArrayBuffer>[]) => Promise<void>,
): Promise<Extract<VaultWorkerReply, { type: T }>> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./vault.worker.ts", import.meta.url), { type: "module" });
    worker.onmessage = (event: MessageEvent<VaultWorkerReply>) => {
      const reply = event.data;
      if (reply.type === "progress") {
        onProgress?.(reply.done, reply.total);
        return;
      }
      if (reply.type === "plaintext" && onPlaintext) {
        // The worker reads on only once this batch is written: the file never piles up in either memory.
        onPlaintext(reply.chunks).then(
          () => worker.postMessage({ type: "written" } satisfies VaultWorkerRequest),
          (error: unknown) => { worker.terminate(); reject(error); },
        );
        return;
      }
      worker.terminate();
      if (reply.type === answer) resolve(reply as Extract<VaultWorkerReply, { type: T }>);
      else if (reply.type === "error") {
        reject(reply.tampered ? new VaultTamperedError() : reply.code !== undefined ? new ApiError(reply.status ?? 0, reply.code) : new Error(reply.message));
      } else reject(new Error("The vault worker answered out of turn."));
    };
    worker.onerror = (event) => {
      worker.terminate();
      reject(new Error(event.message || "The vault worker failed."));
    };
    worker.postMessage(request, transfer);
  });
}

/** Encrypts a file with Cobblestone-256 under `fileKey` (a copy is sent; the caller keeps and wipes its own). */
export async function encryptFile(file: Blob, fileId: string, fileKey: Uint8Array, onProgress?: (done: number, total: number) => void): Promise<Blob> {
  const copy = new Uint8Array(fileKey);
  return (await run({ type: "encrypt", file, fileId, fileKey: copy }, [copy.buffer], "encrypted", onProgress)).blob;
}

/** Opens a whole vault's items in the worker, in one batch; throws VaultTamperedError if any value does not open. */
export async function openItemsInWorker(vaultKey: Uint8Array, vaultId: string, items: SealedItem[]): Promise<PlainItem[]> {
  const copy = new Uint8Array(vaultKey);
  return (await run({ type: "open", vaultKey: copy, vaultId, items }, [copy.buffer], "opened")).items;
}

/** The heir's rebuild (spec/vault.md §7) in the worker: the vault key comes back to the page, which wipes it. */
export async function rebuildInWorker(claimed: ClaimedVault): Promise<{ name: string; items: PlainItem[]; vaultKey: Uint8Array<ArrayBuffer> }> {
  const { name, items, vaultKey } = await run({ type: "rebuild", claimed }, [], "rebuilt");
  return { name, items, vaultKey };
}

/**
 * Fetches and decrypts a file in the worker; `write` receives the plaintext batch by batch. Resolves once the whole
 * stream authenticated; throws VaultTamperedError if it did not (the caller then discards what it wrote).
 */
export async function downloadInWorker(url: string, authorization: string, fileId: string, fileKey: Uint8Array, write: (chunks: Uint8Array<ArrayBuffer>[]) => Promise<void>): Promise<void> {
  const copy = new Uint8Array(fileKey);
  await run({ type: "download", url, authorization, fileId, fileKey: copy }, [copy.buffer], "downloaded", undefined, write);
}
