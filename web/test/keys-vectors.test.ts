// spec/vectors/keys-v1.json (the client key hierarchy of spec/keys.md), checked by the browser implementation, and
// the protected user key format. The C# tests check the same vectors (ClientKeyVectors).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { argon2Input, deriveClientKeys, normalizeEmail } from "../src/crypto/keys";
import { openUserKey, wrapUserKey } from "../src/crypto/userkey";
import { bytesToHex, fromBase64Url, hexToBytes } from "../src/lib/bytes";
import { repoFile } from "./paths";

interface KeyCase {
  name: string;
  password: string;
  email: string;
  salt: string;
  argon2_input: string;
  normalized_email: string;
  enc: string;
  auth: string;
}

const vectors = JSON.parse(readFileSync(repoFile("spec", "vectors", "keys-v1.json"), "utf8")) as { cases: KeyCase[] };

describe("client keys (spec/keys.md) against spec/vectors/keys-v1.json", () => {
  it("has the three cases", () => expect(vectors.cases.length).toBe(3));
  for (const c of vectors.cases) {
    it(`normalises the email and builds the Argon2 input: ${c.name}`, () => {
      expect(normalizeEmail(c.email)).toBe(c.normalized_email);
      expect(bytesToHex(argon2Input(c.password, c.email))).toBe(c.argon2_input);
    });
    it(`derives enc and auth: ${c.name}`, async () => {
      const keys = await deriveClientKeys(c.password, c.email, hexToBytes(c.salt));
      expect(bytesToHex(keys.enc)).toBe(c.enc);
      expect(bytesToHex(keys.auth)).toBe(c.auth);
    });
  }
  it("refuses a password with a lone surrogate instead of encoding a replacement character", () => {
    expect(() => argon2Input("abc\uD800", "a@b.c")).toThrow();
  });
  it("lowercases ASCII only, like the C# client (not toLowerCase)", () => {
    expect(normalizeEmail(" \tÄB@X.ORG\r\n")).toBe("Äb@x.org");
  });
});

describe("protected user key (v1)", () => {
  const enc = hexToBytes("9763ded292ad845e076e8de56d1c0ed96740494aaa103e597189707be7fe0506");
  const userKey = hexToBytes("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");

  it("wraps as v1. plus 96 base64url characters and opens again", () => {
    const wrapped = wrapUserKey(enc, userKey);
    expect(wrapped).toMatch(/^v1\.[A-Za-z0-9_-]{96}$/);
    expect(bytesToHex(openUserKey(enc, wrapped)!)).toBe(bytesToHex(userKey));
  });

  it("uses a fresh nonce for every wrap", () => {
    expect(wrapUserKey(enc, userKey)).not.toBe(wrapUserKey(enc, userKey));
  });

  it("is XChaCha20-Poly1305 with the aad veil/v1/user-key (fixed nonce gives a fixed output)", () => {
    const nonce = new Uint8Array(24).fill(7);
    const wrapped = wrapUserKey(enc, userKey, nonce);
    const bytes = fromBase64Url(wrapped.slice(3))!;
    expect(bytesToHex(bytes.subarray(0, 24))).toBe("07".repeat(24));
    expect(wrapped).toBe(wrapUserKey(enc, userKey, nonce));
  });

  it("refuses a wrong key, a changed byte, another prefix and a wrong length as a wrong password (null)", () => {
    const wrapped = wrapUserKey(enc, userKey);
    const otherEnc = enc.slice();
    otherEnc[0]! ^= 1;
    expect(openUserKey(otherEnc, wrapped)).toBeNull();
    const flipped = wrapped.slice(0, 50) + (wrapped[50] === "A" ? "B" : "A") + wrapped.slice(51);
    expect(openUserKey(enc, flipped)).toBeNull();
    expect(openUserKey(enc, "v2." + wrapped.slice(3))).toBeNull();
    expect(openUserKey(enc, wrapped.slice(0, -1))).toBeNull();
    expect(openUserKey(enc, "v1.!!!!")).toBeNull();
  });
});
