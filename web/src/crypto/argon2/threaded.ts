// Argon2id with its lanes in parallel Web Workers: the reference C implementation (phc-winner-argon2) compiled to
// WebAssembly with shared memory and SIMD by web/argon2/build-argon2.sh (ADR 0006 "Argon2 in threads").
//
// The wasm module does all of Argon2 through the reference code's own functions (see web/argon2/veil-argon2.c);
// this file only schedules. Every thread (the calling worker plus the lane workers of lane.worker.ts) instantiates
// the same module over one shared WebAssembly.Memory, with a stack of its own. Argon2 fills memory in
// passes x 4 slices; within a slice the lanes are independent, so each thread claims the next unfilled lane of the
// current slice with an atomic counter and fills that segment, and nobody starts a slice before every lane of the
// previous one is done (the reference fill_memory_blocks_mt joins its threads at the same points). The calling
// worker claims lanes too, so a lane worker that starts late (or never) only means less parallelism, never a wait.
//
// Needs cross-origin isolation (SharedArrayBuffer); callers check threadedArgon2Available() and otherwise use
// hash-wasm's single-threaded Argon2id.
import wasmDataUrl from "./argon2.wasm?inline";
import { fillLanes, instantiate, SyncPoints, type LaneJob } from "./lanes";

export interface Argon2idRequest {
  password: Uint8Array;
  salt: Uint8Array;
  secret?: Uint8Array;
  ad?: Uint8Array;
  memoryKiB: number;
  iterations: number;
  parallelism: number;
  hashLength: number;
}

const StackBytes = 64 * 1024;
const PageBytes = 64 * 1024;
/** Room beyond the blocks: the module's data and stack, the inputs, one stack per lane worker. */
const SlackBytes = 1024 * 1024;

/** True when this context can share memory between workers (cross-origin isolated, SharedArrayBuffer present). */
export function threadedArgon2Available(): boolean {
  return typeof SharedArrayBuffer === "function" && globalThis.crossOriginIsolated === true;
}

let compiled: Promise<WebAssembly.Module> | undefined;

/** Compiles the module once per worker (the CSP allows it with 'wasm-unsafe-eval'). */
export function compileArgon2(): Promise<WebAssembly.Module> {
  compiled ??= WebAssembly.compile(decodeDataUrl(wasmDataUrl));
  return compiled;
}

function decodeDataUrl(url: string): Uint8Array<ArrayBuffer> {
  const base64 = url.slice(url.indexOf(",") + 1);
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/**
 * Argon2id v1.3. `laneWorkers` receive a LaneJob each and help fill the lanes; with none, this thread fills them all.
 * Blocks this thread until the tag is ready (Atomics.wait), so call it from a worker, never from the page.
 */
export async function argon2idThreaded(request: Argon2idRequest, laneWorkers: readonly Worker[] = []): Promise<Uint8Array<ArrayBuffer>> {
  const module = await compileArgon2();
  const lanes = request.parallelism;
  const passes = request.iterations;
  const helpers = laneWorkers.slice(0, Math.max(0, lanes - 1));
  const pages = Math.ceil((request.memoryKiB * 1024 + SlackBytes + helpers.length * StackBytes) / PageBytes);
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  const exports = instantiate(module, memory);
  const secret = request.secret ?? new Uint8Array(0);
  const ad = request.ad ?? new Uint8Array(0);
  const start = exports.veil_argon2_buffers(request.password.length, request.salt.length, secret.length, ad.length, request.hashLength);
  if (start === 0) throw new Error("Argon2: the inputs do not fit in memory.");
  const heap = new Uint8Array(memory.buffer);
  let at = start;
  for (const part of [request.password, request.salt, secret, ad]) {
    heap.set(part, at);
    at += part.length;
  }
  const out = at;
  try {
    const status = exports.veil_argon2_begin(passes, request.memoryKiB, lanes);
    if (status !== 0) throw new Error(`Argon2: invalid parameters (error ${status}).`);

    const control = new Int32Array(new SharedArrayBuffer(2 * passes * SyncPoints * 4));
    for (const worker of helpers) {
      const stackTop = exports.veil_argon2_thread_stack(StackBytes);
      if (stackTop === 0) throw new Error("Argon2: no room for a lane worker's stack.");
      worker.postMessage({ module, memory, control, stackTop, passes, lanes } satisfies LaneJob);
    }
    fillLanes(exports, control, passes, lanes);
    exports.veil_argon2_finish();
    return new Uint8Array(heap.slice(out, out + request.hashLength));
  } finally {
    heap.fill(0, start, out + request.hashLength);
  }
}

