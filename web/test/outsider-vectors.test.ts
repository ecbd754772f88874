// spec/vectors/mail-outsider-v1.json, checked by the page's implementation (the C# tests check the same file), and
// a reply sealed here opened with the matching X25519 private key by the same construction.
import { readFileSync } from "node:fs";
import { argon2id } from "hash-wasm";
import { describe, expect, it } from "vitest";
import { bytesToHex, hexToBytes } from "../src/lib/bytes";
import { openPackage, readHeader } from "../src/crypto/outsidermail";
import { readMessage } from "../src/mailbox/mime";
import { repoFile } from "./paths";

interface PackageCase {
  name: string;
  password: string;
  memoryKiB: number;
  iterations: number;
  lanes: number;
  salt: string;
  reply_public_key: string;
  mime: string;
  key: string;
  package: string;
}

const vectors = JSON.parse(readFileSync(repoFile("spec/vectors/mail-outsider-v1.json"), "utf8")) as { packages: PackageCase[] };

describe("password mail packages (spec/vectors/mail-outsider-v1.json)", () => {
  for (const v of vectors.packages) {
    it(`opens ${v.name} with the key Argon2id derives from the password`, async () => {
      const pkg = hexToBytes(v.package);
      const header = readHeader(pkg)!;
      expect(header).toMatchObject({ memoryKiB: v.memoryKiB, iterations: v.iterations, parallelism: v.lanes });
      expect(bytesToHex(header.salt)).toBe(v.salt);
      const key = await argon2id({ password: new TextEncoder().encode(v.password), salt: header.salt, memorySize: header.memoryKiB, iterations: header.iterations, parallelism: header.parallelism, hashLength: 32, outputType: "binary" });
      expect(bytesToHex(key)).toBe(v.key);
      const opened = openPackage(pkg, key)!;
      expect(bytesToHex(opened.mime)).toBe(v.mime);
      expect(bytesToHex(opened.replyKey)).toBe(v.reply_public_key);
      expect(readMessage(opened.mime).subject).toBe("Vector");
      expect(readMessage(opened.mime).text).toContain("Hello from the vector.");
    }, 60_000);

    it(`refuses ${v.name} with a wrong key or a changed byte`, () => {
      const pkg = hexToBytes(v.package);
      const key = hexToBytes(v.key);
      expect(openPackage(pkg, key.map((b, i) => (i === 0 ? b ^ 1 : b)))).toBeNull();
      const changed = pkg.slice();
      changed[40] = changed[40]! ^ 1;
      expect(openPackage(changed, key)).toBeNull();
    });
  }
});

describe("the MIME reader", () => {
  it("reads encoded-word subjects, quoted-printable text and base64 attachments with RFC 2231 names", () => {
    const mime = [
      "From: =?utf-8?B?w4lsb2TDqWU=?= <e@x.example>",
      "Subject: =?utf-8?Q?Caf=C3=A9_menu?=",
      "MIME-Version: 1.0",
      'Content-Type: multipart/mixed; boundary="b1"',
      "",
      "--b1",
      "Content-Type: text/plain; charset=utf-8",
      "Content-Transfer-Encoding: quoted-printable",
      "",
      "Caf=C3=A9 au lait, a long line that is soft=",
      " broken.",
      "--b1",
      "Content-Type: application/octet-stream",
      "Content-Disposition: attachment; filename*=utf-8''men%C3%BC.pdf",
      "Content-Transfer-Encoding: base64",
      "",
      "AAEC/w==",
      "--b1--",
      "",
    ].join("\r\n");
    const read = readMessage(new TextEncoder().encode(mime));
    expect(read.from).toBe("Élodée <e@x.example>");
    expect(read.subject).toBe("Café menu");
    expect(read.text).toBe("Café au lait, a long line that is soft broken.");
    expect(read.attachments).toHaveLength(1);
    expect(read.attachments[0]!.name).toBe("menü.pdf");
    expect(Array.from(read.attachments[0]!.bytes)).toEqual([0, 1, 2, 255]);
  });
});
