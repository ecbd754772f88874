// spec/vectors/mail-address-v1.json, made by the C# SDK (AddressKeyChain, AddressKeys) and checked there too
// (AddressKeyVectorTests): the page opens the chain to the same secret key ring, and OpenPGP.js reads that ring and
// opens what the server and a Veil client sealed to it.
import { readFileSync } from "node:fs";
import * as openpgp from "openpgp";
import { describe, expect, it } from "vitest";
import { openAddressKey } from "../src/crypto/addresskey";
import { bytesToHex, hexToBytes } from "../src/lib/bytes";
import { parseSummary } from "../src/mailbox/summary";
import { repoFile } from "./paths";

interface ChainCase {
  user_key: string;
  address: string;
  wrapped_token: string;
  wrapped_private_key: string;
  secret_key_ring: string;
  summary: string;
  sealed_summary: string;
  message: string;
  sealed_message: string;
  sender_public_key: string;
}

const v = (JSON.parse(readFileSync(repoFile("spec/vectors/mail-address-v1.json"), "utf8")) as { chain: ChainCase }).chain;
const fromBase64 = (text: string) => Uint8Array.from(Buffer.from(text, "base64"));

describe("mail address key chain (spec/vectors/mail-address-v1.json)", () => {
  it("opens the chain to the vector's secret key ring", () => {
    const ring = openAddressKey(hexToBytes(v.user_key), v.address, v.wrapped_token, v.wrapped_private_key);
    expect(ring).not.toBeNull();
    expect(bytesToHex(ring!)).toBe(v.secret_key_ring);
  });

  it("refuses the chain under another address, another user key or a changed byte", () => {
    expect(openAddressKey(hexToBytes(v.user_key), "other@mail.example", v.wrapped_token, v.wrapped_private_key)).toBeNull();
    const otherKey = hexToBytes(v.user_key);
    otherKey[0] = otherKey[0]! ^ 1;
    expect(openAddressKey(otherKey, v.address, v.wrapped_token, v.wrapped_private_key)).toBeNull();
    const changed = v.wrapped_private_key.slice(0, 40) + (v.wrapped_private_key[40] === "A" ? "B" : "A") + v.wrapped_private_key.slice(41);
    expect(openAddressKey(hexToBytes(v.user_key), v.address, v.wrapped_token, changed)).toBeNull();
  });

  it("reads the ring with OpenPGP.js and opens the server-sealed summary and the signed message", async () => {
    const ring = openAddressKey(hexToBytes(v.user_key), v.address, v.wrapped_token, v.wrapped_private_key)!;
    const key = await openpgp.readPrivateKey({ binaryKey: ring });
    const summary = await openpgp.decrypt({ message: await openpgp.readMessage({ binaryMessage: fromBase64(v.sealed_summary) }), decryptionKeys: key, format: "binary" });
    const json = new TextDecoder().decode(summary.data);
    expect(json).toBe(v.summary);
    expect(parseSummary(json)).toMatchObject({ subject: "Vector été", attachments: ["a.txt"], authentication: { dmarc: { result: "pass" }, dmarcPolicy: "reject" } });

    const sender = await openpgp.readKey({ armoredKey: v.sender_public_key });
    const message = await openpgp.decrypt({ message: await openpgp.readMessage({ binaryMessage: fromBase64(v.sealed_message) }), decryptionKeys: key, verificationKeys: sender, format: "binary" });
    expect(new TextDecoder().decode(message.data)).toBe(v.message);
    expect(message.signatures).toHaveLength(1);
    await expect(message.signatures[0]!.verified).resolves.toBe(true);
  });
});

describe("the address key after the ring is wiped", () => {
  it("still decrypts when OpenPGP.js was given a copy (the worker wipes its ring at once)", async () => {
    const ring = openAddressKey(hexToBytes(v.user_key), v.address, v.wrapped_token, v.wrapped_private_key)!;
    const key = await openpgp.readPrivateKey({ binaryKey: ring.slice() });
    ring.fill(0);
    const summary = await openpgp.decrypt({ message: await openpgp.readMessage({ binaryMessage: fromBase64(v.sealed_summary) }), decryptionKeys: key, format: "binary" });
    expect(new TextDecoder().decode(summary.data)).toBe(v.summary);
  });
});
