// The page's side of kdf.worker.ts: one worker per derivation (Argon2id's 64 MiB are released when it ends).
//
// Starting that worker costs more than a third of a derivation in Chromium (its script, the lane workers it starts,
// compiling the Argon2 module), so the app starts the next one while the person is still typing: the first focus on
// a password field warms a worker, which then waits idle (it holds no Argon2 memory until a request) for the
// derivation that follows the form's submit. deriveInWorker takes it if there is one, and starts one otherwise.
import type { ClientKeys, KdfParameters } from "./keys";
import type { KdfReply, KdfRequest } from "./kdf.worker";

let warm: Worker | undefined;

function startWorker(): Worker {
  return new Worker(new URL("./kdf.worker.ts", import.meta.url), { type: "module" });
}

/** Starts the next derivation's worker ahead of time (idempotent until a derivation takes it). */
export function warmKdfWorker(): void {
  warm ??= startWorker();
}

/** Warms the key-derivation worker whenever a password field of this page gets the focus. */
export function warmKdfOnPasswordFocus(root: Document = document): void {
  root.addEventListener("focusin", (event) => {
    if (event.target instanceof HTMLInputElement && event.target.type === "password") warmKdfWorker();
  });
}

export function deriveInWorker(password: string, email: string, kdf: KdfParameters): Promise<ClientKeys> {
  return new Promise((resolve, reject) => {
    const worker = warm ?? startWorker();
    warm = undefined;
    worker.onmessage = (event: MessageEvent<KdfReply>) => {
      worker.terminate();
      if (event.data.ok && "keys" in event.data) resolve(event.data.keys);
      else reject(new Error(event.data.ok ? "The key derivation worker answered the wrong kind." : event.data.message));
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

/** Argon2id of the password alone (32 bytes), in the same warm worker: password mail (crypto/outsidermail.ts). */
export function deriveRawInWorker(password: string, salt: string, cost: { memoryKiB: number; iterations: number; parallelism: number }): Promise<Uint8Array<ArrayBuffer>> {
  return new Promise((resolve, reject) => {
    const worker = warm ?? startWorker();
    warm = undefined;
    worker.onmessage = (event: MessageEvent<KdfReply>) => {
      worker.terminate();
      if (event.data.ok && "raw" in event.data) resolve(event.data.raw);
      else reject(new Error(event.data.ok ? "The key derivation worker answered the wrong kind." : event.data.message));
    };
    worker.onerror = (event) => {
      worker.terminate();
      reject(new Error(event.message || "The key derivation worker failed."));
    };
    const request: KdfRequest = { password, salt, memoryKiB: cost.memoryKiB, iterations: cost.iterations, parallelism: cost.parallelism };
    worker.postMessage(request);
  });
}
