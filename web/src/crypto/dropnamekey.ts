// The owner's name key of a drop (spec/drop.md §8): the drop's METADATA key wrapped under the account's user key, so
// "Your drops" can show the file's name, type and size. The metadata key opens only the metadata blob (HKDF keeps it
// apart from the content key), so the account gains no way into the file: that still takes the link.
import { decryptMessage, CobblestoneError } from "../lib/cobblestone";
import { context, decodeRecord, type DropMetadata } from "../lib/dropformat";
import { openSealedKey, sealKey } from "./sealedkey";

const aad = new TextEncoder().encode("veil/v1/drop-name-key");

export function wrapNameKey(userKey: Uint8Array, metadataKey: Uint8Array): string {
  return sealKey(userKey, metadataKey, aad);
}

/** The drop's metadata, or null when the name key or the metadata does not open (the page then shows no name). */
export async function openDropName(userKey: Uint8Array, nameKey: string, id: string, metadataBlob: Uint8Array): Promise<DropMetadata | null> {
  const metadataKey = openSealedKey(userKey, nameKey, aad);
  if (!metadataKey) return null;
  try {
    return decodeRecord(await decryptMessage(metadataKey, context(id), metadataBlob));
  } catch (e) {
    if (e instanceof CobblestoneError) return null;
    throw e;
  } finally {
    metadataKey.fill(0);
  }
}
