// Wycheproof c2sp_chunked_encryption_aes_256_gcm vectors (tests/vectors/wycheproof), decrypted by the
// browser's Cobblestone-256. ct is zlib-compressed hex (wycheproof/doc/c2sp_chunked_encryption.md).
import { readFileSync } from "node:fs";
import { inflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { bytesToHex, hexToBytes } from "../src/lib/bytes";
import { CobblestoneDecryptor } from "../src/lib/cobblestone";
import { repoFile } from "./paths";

interface Vector {
  tcId: number;
  comment: string;
  key: string;
  ctx: string;
  ct: string;
  msgLength?: number;
  msgSha512?: string;
  result: "valid" | "invalid";
  flags: string[];
}

const file = JSON.parse(
  readFileSync(repoFile("tests", "vectors", "wycheproof", "testvectors_v1", "c2sp_chunked_encryption_aes_256_gcm_test.json"), "utf8"),
) as { testGroups: { tests: Vector[] }[] };
const all = file.testGroups.flatMap((g) => g.tests);

async function decrypt(v: Vector, sliceSize: number): Promise<Uint8Array<ArrayBuffer>> {
  const key = hexToBytes(v.key);
  if (key.length !== 32) throw new Error("invalid key size");
  const ct = new Uint8Array(inflateSync(hexToBytes(v.ct)));
  const dec = new CobblestoneDecryptor(key, hexToBytes(v.ctx));
  const parts: Uint8Array[] = [];
  for (let i = 0; i < ct.length; i += sliceSize) parts.push(...(await dec.push(ct.subarray(i, i + sliceSize))));
  parts.push(await dec.finish());
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

describe("Wycheproof Cobblestone-256", () => {
  it("has vectors", () => expect(all.length).toBeGreaterThan(30));

  for (const sliceSize of [1 << 20, 1000]) {
    it.each(all.map((v) => [v.tcId, v.comment, v] as const))(`tc %i %s (slices of ${sliceSize})`, async (_, __, v) => {
      if (v.result === "valid") {
        const plain = await decrypt(v, sliceSize);
        expect(plain.length).toBe(v.msgLength);
        expect(bytesToHex(new Uint8Array(await crypto.subtle.digest("SHA-512", plain)))).toBe(v.msgSha512);
      } else {
        await expect(decrypt(v, sliceSize)).rejects.toThrow();
      }
    });
  }
});
