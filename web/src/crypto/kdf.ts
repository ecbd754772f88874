// The page's side of kdf.worker.ts: one worker per derivation (Argon2id's 64 MiB are released when it ends).
import type { ClientKeys, KdfParameters } from "./keys";
import type { KdfReply, KdfRequest } from "./kdf.worker";

export function deriveInWorker(password: string, email: string, kdf: KdfParameters): Promise<ClientKeys> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./kdf.worker.ts", import.meta.url), { type: "module" });
    worker.onmessage = (event: MessageEvent<KdfReply>) => {
      worker.terminate();
      if (event.data.ok) resolve(event.data.keys);
      else reject(new Error(event.data.message));
    };
    worker.onerror = (event) => {
      worker.terminate();
      reject(new Error(event.message || "The key derivation worker failed."));
    };
    const request: KdfRequest = {
      password,
      email,
      salt: kdf.salt,
      memoryKiB: kdf.memoryKiB,
      iterations: kdf.iterations,
      parallelism: kdf.parallelism,
    };
    worker.postMessage(request);
  });
}
