// The threaded Argon2id (src/crypto/argon2: the reference C code in WebAssembly, lanes in workers) against RFC 9106
// and the CLI vectors the C# tests use (tests/vectors/rfc), and against spec/vectors/keys-v1.json through the client key
// hierarchy. Real parallel lane workers run in Chromium (tests/Veil.E2E.Tests, bench/web.sh); here a lane worker's
// part runs on this thread through the same joinLanes(), on an instance of its own over the shared memory.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { argon2idThreaded, type Argon2idRequest } from "../src/crypto/argon2/threaded";
import { joinLanes, type LaneJob } from "../src/crypto/argon2/lanes";
import { deriveClientKeys } from "../src/crypto/keys";
import { bytesToHex, hexToBytes } from "../src/lib/bytes";
import { repoFile } from "./paths";

interface RfcCase {
  count: string;
  request: Argon2idRequest;
  output: string;
}

function readRfcCases(): RfcCase[] {
  const text = readFileSync(repoFile("tests", "vectors", "rfc", "argon2id_rfc9106_and_cli.txt"), "utf8");
  return text.split(/\n\s*\n/).map((block) => {
    const fields = new Map<string, string>();
    for (const line of block.split("\n")) {
      const m = /^(\w+) = ?(.*)$/.exec(line.trim());
      if (m) fields.set(m[1]!, m[2]!.trim());
    }
    return fields;
  }).filter((f) => f.has("output")).map((f) => ({
    count: f.get("COUNT")!,
    output: f.get("output")!,
    request: {
      password: hexToBytes(f.get("pass") ?? ""),
      salt: hexToBytes(f.get("salt")!),
      secret: hexToBytes(f.get("secret") ?? ""),
      ad: hexToBytes(f.get("ad") ?? ""),
      memoryKiB: Number(f.get("memcost")),
      iterations: Number(f.get("iter")),
      parallelism: Number(f.get("lanes")),
      hashLength: Number(f.get("length")),
    },
  }));
}

/** Stands in for a lane worker: joins the derivation as soon as it is posted, so it fills every lane itself. */
function eagerLaneWorker(): Worker {
  return { postMessage: (job: LaneJob) => joinLanes(job) } as unknown as Worker;
}

const rfcCases = readRfcCases();
const keyCases = (JSON.parse(readFileSync(repoFile("spec", "vectors", "keys-v1.json"), "utf8")) as {
  cases: { name: string; password: string; email: string; salt: string; enc: string; auth: string }[];
}).cases;

describe("threaded Argon2id against RFC 9106 and the CLI vectors", () => {
  it("reads the RFC 9106 case with secret and associated data", () => {
    expect(rfcCases.find((c) => c.count === "0")?.output).toBe("0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659");
  });
  for (const c of rfcCases) {
    it(`gives the expected tag on one thread: COUNT ${c.count}`, async () => {
      expect(bytesToHex(await argon2idThreaded(c.request))).toBe(c.output);
    });
    it(`gives the same tag when another instance over the shared memory fills the lanes: COUNT ${c.count}`, async () => {
      expect(bytesToHex(await argon2idThreaded(c.request, [eagerLaneWorker()]))).toBe(c.output);
    });
  }
  it("refuses parameters the reference code refuses (no lanes) with an error, not a tag", async () => {
    await expect(argon2idThreaded({ ...rfcCases[0]!.request, parallelism: 0 })).rejects.toThrow(/invalid parameters/);
  });
});

describe("client keys (spec/vectors/keys-v1.json) through the threaded Argon2id", () => {
  for (const c of keyCases) {
    it(`derives enc and auth: ${c.name}`, async () => {
      const keys = await deriveClientKeys(c.password, c.email, hexToBytes(c.salt), undefined, (request) =>
        argon2idThreaded(request, [eagerLaneWorker()]));
      expect(bytesToHex(keys.enc)).toBe(c.enc);
      expect(bytesToHex(keys.auth)).toBe(c.auth);
    });
  }
});
