// The Bitwarden mapping (web/src/vault/bitwarden.ts): the fixture spec/vectors/bitwarden-unencrypted.json imports,
// exports back to the same items (ids of folders aside), and anything that is not such an export is refused whole.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BitwardenFormatError, fromBitwarden, toBitwarden } from "../src/vault/bitwarden";
import { repoFile } from "./paths";

const fixture = readFileSync(repoFile("spec", "vectors", "bitwarden-unencrypted.json"), "utf8");

/** What must survive a round trip: everything but ids (folder ids are new) and the fields Veil does not keep. */
function comparable(text: string) {
  const root = JSON.parse(text) as { folders: { id: string; name: string }[]; items: Record<string, unknown>[] };
  const folder = new Map(root.folders.map((f) => [f.id, f.name]));
  return root.items.map((i) => ({
    type: i.type, name: i.name, notes: i.notes, folder: i.folderId === null ? null : folder.get(i.folderId as string),
    fields: i.fields, login: i.login, card: i.card, identity: i.identity, secureNote: i.secureNote,
  }));
}

describe("Bitwarden import and export", () => {
  it("imports every kind with folders as tags and custom fields marked by kind", () => {
    const items = fromBitwarden(fixture);
    expect(items.map((i) => i.title)).toEqual(["Example Bank", "Forum", "Passport scan location", "Visa", "Me"]);
    expect(items[0]!.tags).toEqual(["Banking"]);
    expect(items[0]!.fields).toContainEqual({ label: "login.password", value: "bw-canary-password-9f2c" });
    expect(items[0]!.fields.filter((f) => f.label === "login.uri").map((f) => f.value)).toEqual(["https://bank.example.com/login", "androidapp://com.example.bank"]);
    expect(items[0]!.fields).toContainEqual({ label: "PIN (hidden)", value: "bw-canary-pin-4711" });
    expect(items[0]!.fields).toContainEqual({ label: "Paperless (boolean)", value: "true" });
    expect(items[2]!.notes).toBe("In the blue folder, top shelf. Ünïcødé ✓");
    expect(items[3]!.fields).toContainEqual({ label: "card.number", value: "4111111111111111" });
    expect(items[4]!.fields).toContainEqual({ label: "Username (linked)", value: "100" });
    expect(items[4]!.notes).toBe("");
  });

  it("exports an import back to the same items", () => {
    const items = fromBitwarden(fixture).map((item, i) => ({ ...item, id: `id-${i}` }));
    let n = 0;
    const exported = toBitwarden(items, () => `folder-${n++}`);
    expect(comparable(exported)).toEqual(comparable(fixture));
    // And importing the export gives the very same plain items.
    expect(fromBitwarden(exported)).toEqual(fromBitwarden(fixture));
  });

  it.each([
    ["not JSON", "{ items: [", "not valid JSON"],
    ["no items", "{\"folders\": []}", "no list of items"],
    ["encrypted", "{\"encrypted\": true, \"items\": []}", "encrypted"],
    ["a bad item late in the file", JSON.stringify({ items: [{ type: 2, name: "ok", secureNote: { type: 0 } }, { type: 1, name: "Broken" }] }), "Item 2 (“Broken”) is a login without login details."],
    ["an unknown type", JSON.stringify({ items: [{ type: 9, name: "x" }] }), "type this import does not know"],
    ["a number for a password", JSON.stringify({ items: [{ type: 1, name: "x", login: { password: 5 } }] }), "\"password\" is not text"],
    ["an unknown folder", JSON.stringify({ folders: [], items: [{ type: 2, name: "x", folderId: "nope" }] }), "folder the export does not list"],
  ])("refuses %s with one sentence", (_, text, message) => {
    expect(() => fromBitwarden(text)).toThrowError(BitwardenFormatError);
    expect(() => fromBitwarden(text)).toThrowError(message);
  });
});
