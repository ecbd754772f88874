// The schedule shared by threaded.ts and lane.worker.ts (kept apart from the wasm bytes, so a lane worker does not
// carry them: it receives the compiled module). See threaded.ts for the design.

/** What a lane worker needs to join a derivation (lane.worker.ts). */
export interface LaneJob {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: Int32Array<SharedArrayBuffer>;
  stackTop: number;
  passes: number;
  lanes: number;
}

export interface Argon2Exports {
  __stack_pointer: WebAssembly.Global;
  veil_argon2_buffers(pwdlen: number, saltlen: number, secretlen: number, adlen: number, outlen: number): number;
  veil_argon2_thread_stack(size: number): number;
  veil_argon2_begin(passes: number, memoryKiB: number, lanes: number): number;
  veil_argon2_fill_segment(pass: number, lane: number, slice: number): void;
  veil_argon2_finish(): void;
}

export const SyncPoints = 4; // slices per pass (ARGON2_SYNC_POINTS)
/** A slice of 64 MiB takes milliseconds; no progress for this long means a lane worker died mid-segment. */
const StallMs = 30_000;

/** A lane worker's side: its own instance over the shared memory, its own stack, then the same schedule. */
export function joinLanes(job: LaneJob): void {
  const exports = instantiate(job.module, job.memory);
  exports.__stack_pointer.value = job.stackTop;
  fillLanes(exports, job.control, job.passes, job.lanes);
}

export function instantiate(module: WebAssembly.Module, memory: WebAssembly.Memory): Argon2Exports {
  return new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as Argon2Exports;
}

/**
 * For each slice in order: claim lanes (control[2 * step] counts claims) and fill them, count each filled lane
 * (control[2 * step + 1]), then wait until the slice's every lane is filled before the next one.
 */
export function fillLanes(exports: Argon2Exports, control: Int32Array<SharedArrayBuffer>, passes: number, lanes: number): void {
  for (let step = 0; step < passes * SyncPoints; step++) {
    const pass = Math.floor(step / SyncPoints);
    const slice = step % SyncPoints;
    const claimed = 2 * step;
    const done = claimed + 1;
    for (let lane = Atomics.add(control, claimed, 1); lane < lanes; lane = Atomics.add(control, claimed, 1)) {
      exports.veil_argon2_fill_segment(pass, lane, slice);
      if (Atomics.add(control, done, 1) + 1 === lanes) Atomics.notify(control, done);
    }
    for (let filled = Atomics.load(control, done); filled < lanes; filled = Atomics.load(control, done)) {
      if (Atomics.wait(control, done, filled, StallMs) === "timed-out") throw new Error("Argon2: a lane worker stopped.");
    }
  }
}
