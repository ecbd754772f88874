// spec/drop.md §8: the owner's name key opens the metadata (name, type, size) with the user key, and nothing else.
import { describe, expect, it } from "vitest";
import { openDropName, wrapNameKey } from "../src/crypto/dropnamekey";
import { wrapUserKey } from "../src/crypto/userkey";
import { randomBytes } from "../src/lib/bytes";
import { encryptMetadata, subkeys } from "../src/lib/dropformat";

const id = "q3T8Jm0c7m3Wl8n9dQv0sA";
const meta = { name: "canary-report.pdf", type: "application/pdf", size: 12345 };

describe("drop name key", () => {
  it("opens the metadata with the user key that wrapped it", async () => {
    const dropKey = randomBytes(32);
    const userKey = randomBytes(32);
    const blob = await encryptMetadata(dropKey, id, meta, randomBytes(24));
    const nameKey = wrapNameKey(userKey, (await subkeys(dropKey)).metadata);
    expect(nameKey).toMatch(/^v1\.[A-Za-z0-9_-]{96}$/);
    expect(await openDropName(userKey, nameKey, id, blob)).toEqual(meta);
  });

  it("refuses another user key, another drop's id, a user-key wrap passed off as a name key, and tampering", async () => {
    const dropKey = randomBytes(32);
    const userKey = randomBytes(32);
    const blob = await encryptMetadata(dropKey, id, meta, randomBytes(24));
    const metadataKey = (await subkeys(dropKey)).metadata;
    const nameKey = wrapNameKey(userKey, metadataKey);
    expect(await openDropName(randomBytes(32), nameKey, id, blob)).toBeNull();
    expect(await openDropName(userKey, nameKey, "AAAAAAAAAAAAAAAAAAAAAA", blob)).toBeNull();
    // Same key, same shape, other purpose (AAD "veil/v1/user-key"): must not open as a name key.
    expect(await openDropName(userKey, wrapUserKey(userKey, metadataKey), id, blob)).toBeNull();
    const flipped = nameKey.slice(0, -2) + (nameKey.at(-2) === "A" ? "B" : "A") + nameKey.at(-1);
    expect(await openDropName(userKey, flipped, id, blob)).toBeNull();
    expect(await openDropName(userKey, "v2." + nameKey.slice(3), id, blob)).toBeNull();
  });
});
