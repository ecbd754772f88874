// Web Worker: Argon2id (64 MiB, t=3, p=4) takes about a second or more; running it here keeps the page responsive.
// The worker answers one typed request with the two derived keys and dies with the page.
import { deriveClientKeys, type ClientKeys } from "./keys";
import { fromBase64Url } from "../lib/bytes";

export interface KdfRequest {
  password: string;
  email: string;
  salt: string;
  memoryKiB: number;
  iterations: number;
  parallelism: number;
}

export type KdfReply = { ok: true; keys: ClientKeys } | { ok: false; message: string };

self.onmessage = async (event: MessageEvent<KdfRequest>) => {
  const request = event.data;
  try {
    const salt = fromBase64Url(request.salt);
    if (!salt || salt.length !== 16) throw new Error("The server sent an invalid salt.");
    const keys = await deriveClientKeys(request.password, request.email, salt, request);
    (self as unknown as Worker).postMessage({ ok: true, keys } satisfies KdfReply, [keys.enc.buffer, keys.auth.buffer]);
  } catch (error) {
    (self as unknown as Worker).postMessage({ ok: false, message: error instanceof Error ? error.message : String(error) } satisfies KdfReply);
  }
};
