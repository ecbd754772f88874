// spec/vectors/vault-v1.json (spec/vault.md) checked by the browser implementation exactly as the C# side checks it
// (tests/Veil.Crypto.Tests/Vault/VaultVectors.cs): every AAD and CT byte for byte, the escrow rebuild (the delivery
// key as the server returns it opens the vault key that opens every field and file key), Cobblestone-256 files,
// and every reject fails to open.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  escrowAad, fieldAad, fileContext, openEscrow, openField, open as openCt, sealEscrow, sealField, unwrapFileKey,
  unwrapVaultKey, vaultKeyAad, wrapFileKey, wrapVaultKey, openItem, sealItem, VaultTamperedError,
} from "../src/crypto/vault";
import { decryptMessage, encryptMessage } from "../src/lib/cobblestone";
import { bytesToHex, hexToBytes } from "../src/lib/bytes";
import { repoFile } from "./paths";

/* eslint-disable @typescript-eslint/no-explicit-any */
const v = JSON.parse(readFileSync(repoFile("spec", "vectors", "vault-v1.json"), "utf8")) as any;

function content(c: { utf8?: string; pattern_length?: number }): Uint8Array<ArrayBuffer> {
  if (c.utf8 !== undefined) return new TextEncoder().encode(c.utf8);
  const out = new Uint8Array(c.pattern_length!);
  for (let i = 0; i < out.length; i++) out[i] = i % 251;
  return out;
}

describe("vault format (spec/vault.md) against spec/vectors/vault-v1.json", () => {
  it("has every section", () => {
    expect(v.vault_keys.length).toBeGreaterThan(0);
    expect(v.fields.length).toBeGreaterThan(0);
    expect(v.rejects.length).toBe(17);
  });

  for (const c of v.vault_keys) {
    it(`wraps and unwraps: ${c.name}`, async () => {
      expect(bytesToHex(vaultKeyAad(c.vault_id))).toBe(c.aad);
      expect(await wrapVaultKey(hexToBytes(c.user_key), c.vault_id, hexToBytes(c.vault_key), hexToBytes(c.nonce))).toBe(c.wrapped);
      expect(bytesToHex((await unwrapVaultKey(hexToBytes(c.user_key), c.vault_id, c.wrapped))!)).toBe(c.vault_key);
    });
  }

  for (const c of v.fields) {
    it(`seals and opens a field: ${c.name}`, async () => {
      expect(bytesToHex(fieldAad(c.vault_id, c.item_id, c.path))).toBe(c.aad);
      expect(await sealField(hexToBytes(c.vault_key), c.vault_id, c.item_id, c.path, c.value, hexToBytes(c.nonce))).toBe(c.ciphertext);
      expect(await openField(hexToBytes(c.vault_key), c.vault_id, c.item_id, c.path, c.ciphertext)).toBe(c.value);
    });
  }

  for (const c of v.file_keys) {
    it(`wraps a file key: ${c.name}`, async () => {
      const key = hexToBytes(c.vault_key);
      expect(await wrapFileKey(key, c.vault_id, c.item_id, c.file_id, hexToBytes(c.file_key), hexToBytes(c.nonce))).toBe(c.wrapped);
      expect(bytesToHex((await unwrapFileKey(key, c.vault_id, c.item_id, c.file_id, c.wrapped))!)).toBe(c.file_key);
    });
  }

  for (const c of v.files) {
    it(`encrypts and decrypts a file with Cobblestone-256: ${c.name}`, async () => {
      expect(bytesToHex(fileContext(c.file_id))).toBe(c.context);
      const plain = content(c.content);
      const blob = await encryptMessage(hexToBytes(c.file_key), fileContext(c.file_id), plain, hexToBytes(c.salt));
      expect(createHash("sha256").update(blob).digest("hex")).toBe(c.ciphertext_sha256);
      if (c.ciphertext) expect(bytesToHex(blob)).toBe(c.ciphertext);
      expect(bytesToHex(await decryptMessage(hexToBytes(c.file_key), fileContext(c.file_id), blob))).toBe(bytesToHex(plain));
    });
  }

  for (const c of v.escrows) {
    it(`seals the escrow and rebuilds from it: ${c.name}`, async () => {
      expect(bytesToHex(escrowAad(c.vault_id, c.recipient_id))).toBe(c.aad);
      expect(await sealEscrow(hexToBytes(c.delivery_key), c.vault_id, c.recipient_id, hexToBytes(c.vault_key), hexToBytes(c.nonce))).toBe(c.escrow);
      const vaultKey = await openEscrow(c.delivery_key_base64url, c.vault_id, c.recipient_id, c.escrow);
      expect(bytesToHex(vaultKey!)).toBe(c.vault_key);
      // The rebuilt key opens every field and file key of the file.
      for (const f of v.fields.filter((x: any) => x.vault_key === c.vault_key)) {
        expect(await openField(vaultKey!, f.vault_id, f.item_id, f.path, f.ciphertext)).toBe(f.value);
      }
      for (const f of v.file_keys.filter((x: any) => x.vault_key === c.vault_key)) {
        expect(bytesToHex((await unwrapFileKey(vaultKey!, f.vault_id, f.item_id, f.file_id, f.wrapped))!)).toBe(f.file_key);
      }
      // A delivery key that is not canonical base64url of 32 bytes opens nothing.
      expect(await openEscrow(c.delivery_key_base64url + "A", c.vault_id, c.recipient_id, c.escrow)).toBeNull();
      expect(await openEscrow(c.delivery_key_base64url.slice(0, -2), c.vault_id, c.recipient_id, c.escrow)).toBeNull();
    });
  }

  for (const r of v.rejects) {
    it(`refuses: ${r.name}`, async () => {
      if (r.kind === "field") {
        expect(await openField(hexToBytes(r.vault_key), r.vault_id, r.item_id, r.path, r.ciphertext)).toBeNull();
      } else if (r.kind === "vault_key") {
        expect(await unwrapVaultKey(hexToBytes(r.key), r.vault_id, r.ciphertext)).toBeNull();
      } else if (r.kind === "escrow") {
        expect(await openCt(hexToBytes(r.key), r.ciphertext, escrowAad(r.vault_id, r.recipient_id))).toBeNull();
      } else {
        throw new Error(`unknown reject kind ${r.kind}`);
      }
    });
  }

  it("seals an item so that it opens again, and reports a swapped label and value as tampered", async () => {
    const key = hexToBytes(v.fields[0].vault_key);
    const vaultId = v.fields[0].vault_id as string;
    const itemId = "0b3e5d7f-9a1c-4e2b-b4d6-f8a0c2e4a6b8";
    const plain = { id: itemId, title: "Bank", notes: "", tags: ["money", "ß"], fields: [{ label: "PIN", value: "1234" }] };
    const sealed = await sealItem(key, vaultId, plain);
    const opened = await openItem(key, vaultId, { id: itemId, ...sealed, files: [] });
    expect({ title: opened.title, notes: opened.notes, tags: opened.tags, fields: opened.fields }).toEqual(
      { title: "Bank", notes: "", tags: ["money", "ß"], fields: [{ label: "PIN", value: "1234" }] });
    const swapped = { id: itemId, ...sealed, files: [], fields: [{ label: sealed.fields[0]!.value, value: sealed.fields[0]!.label }] };
    await expect(openItem(key, vaultId, swapped)).rejects.toBeInstanceOf(VaultTamperedError);
  });

  it("refuses to seal with a non-canonical id or a lone surrogate", async () => {
    const key = new Uint8Array(32);
    await expect(sealField(key, "6F1C2A3B-4D5E-4F60-8A7B-9C0D1E2F3A4B", "", "name", "x")).rejects.toThrow(RangeError);
    await expect(sealField(key, v.fields[0].vault_id, "", "name", "a\uD800")).rejects.toThrow(RangeError);
  });
});
