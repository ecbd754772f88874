// Web Worker: Argon2id (64 MiB, t=3, p=4) takes a few hundred milliseconds or more; running it here keeps the page
// responsive. The worker answers one typed request with the two derived keys and dies with the page.
//
// Where the page is cross-origin isolated (the server sends COOP + COEP, ADR 0006 "Argon2 in threads"), the lanes run
// in parallel: the threaded reference build (argon2/threaded.ts) with lane workers started right away, so they load
// while the request travels; otherwise hash-wasm fills the lanes one after another on this thread.
import { deriveClientKeys, singleThreadArgon2id, DefaultKdf, type Argon2id, type ClientKeys } from "./keys";
import { argon2idThreaded, compileArgon2, threadedArgon2Available } from "./argon2/threaded";
import { fromBase64Url } from "../lib/bytes";

export interface KdfRequest {
  password: string;
  /** The account email (spec/keys.md); absent for a raw derivation (password mail: Argon2id of the password alone). */
  email?: string;
  salt: string;
  memoryKiB: number;
  iterations: number;
  parallelism: number;
}

export type KdfReply = { ok: true; keys: ClientKeys } | { ok: true; raw: Uint8Array<ArrayBuffer> } | { ok: false; message: string };

const threaded = threadedArgon2Available();
// This worker is one thread; one lane worker more per further core, never more than the lanes (v1: 4) need. A
// browser without workers inside workers gets none: this worker then fills every lane itself, still with the SIMD build.
const laneWorkers = threaded && typeof Worker === "function"
  ? Array.from({ length: Math.min(DefaultKdf.parallelism, navigator.hardwareConcurrency || 1) - 1 }, () =>
      new Worker(new URL("./argon2/lane.worker.ts", import.meta.url), { type: "module", name: "veil-argon2-lane" }))
  : [];

// Compile the Argon2 module now, while the lane workers load and before a request arrives (the app warms this worker
// ahead of the derivation: crypto/kdf.ts).
if (threaded) void compileArgon2();

const stretch: Argon2id = threaded ? (request) => argon2idThreaded(request, laneWorkers) : singleThreadArgon2id;

self.onmessage = async (event: MessageEvent<KdfRequest>) => {
  const request = event.data;
  try {
    const salt = fromBase64Url(request.salt);
    if (!salt || salt.length !== 16) throw new Error("The server sent an invalid salt.");
    if (request.email === undefined) {
      // Password mail (crypto/outsidermail.ts): Argon2id(UTF-8(password), salt), 32 bytes, no HKDF.
      if (!request.password.isWellFormed()) throw new Error("The password contains a character that cannot be encoded.");
      const input = new TextEncoder().encode(request.password);
      const raw = new Uint8Array(await stretch({ password: input, salt, memoryKiB: request.memoryKiB, iterations: request.iterations, parallelism: request.parallelism, hashLength: 32 }));
      input.fill(0);
      (self as unknown as Worker).postMessage({ ok: true, raw } satisfies KdfReply, [raw.buffer]);
      return;
    }
    const keys = await deriveClientKeys(request.password, request.email, salt, request, stretch);
    (self as unknown as Worker).postMessage({ ok: true, keys } satisfies KdfReply, [keys.enc.buffer, keys.auth.buffer]);
  } catch (error) {
    (self as unknown as Worker).postMessage({ ok: false, message: error instanceof Error ? error.message : String(error) } satisfies KdfReply);
  } finally {
    for (const worker of laneWorkers) worker.terminate();
  }
};
