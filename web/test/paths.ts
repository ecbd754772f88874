import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (the folder holding Veil.slnx). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

export function repoFile(...parts: string[]): string {
  const path = join(repoRoot, ...parts);
  if (!existsSync(path)) throw new Error(`missing ${path}`);
  return path;
}
