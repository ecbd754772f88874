// Argon2id for password drops (spec/drop.md §5) through hash-wasm, bundled (no CDN). The page CSP allows
// 'wasm-unsafe-eval' for exactly this: WebAssembly compilation, not JavaScript eval.
import { argon2id } from "hash-wasm";

export const Argon2Parameters = { memorySize: 65536, iterations: 3, parallelism: 1, hashLength: 32 } as const;

export async function deriveWrappingKey(password: string, salt: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  const out = await argon2id({
    password: new TextEncoder().encode(password), // exactly as entered: no trim, no normalize()
    salt,
    ...Argon2Parameters,
    outputType: "binary",
  });
  return new Uint8Array(out);
}
