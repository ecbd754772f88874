// The mailbox's Web Worker (issue 21 points 1–3): it holds the unlocked address keys and does every OpenPGP operation,
// so the page stays responsive while thousands of summaries decrypt and nothing in the page's own heap holds a secret
// key. OpenPGP.js (6.3, the profile Veil.Crypto.OpenPgp writes: v4 Ed25519 + Curve25519, SEIPD v1 + MDC) is loaded
// here only, in the mail chunk.
//   unlock     opens each address's chain (user key → token → secret key ring, ../crypto/addresskey.ts) and reads
//              the ring as an OpenPGP private key; the user key copy and the rings are wiped at once.
//   summaries  decrypts sealed summaries in batches, answering each batch as it is done (newest first, as sent).
//   read       decrypts one sealed message, checks its signature against the key the page found for the sender,
//              and parses the MIME (../mailbox/mime.ts); attachments travel back transferred, not copied.
// The page ends this worker when it locks: the keys go with it.
import * as openpgp from "openpgp";
import { openAddressKey } from "../crypto/addresskey";
import { readMessage, type ReadMessage } from "./mime";
import { parseSummary, type Summary } from "./summary";

export interface SealedAddress { id: string; address: string; wrappedToken: string; wrappedPrivateKey: string }
export interface SealedSummary { id: string; addressId: string; summary: string }
export type SignatureState = "valid" | "invalid" | "unknown-signer" | "none";

export type MailWorkerRequest =
  | { rid: number; type: "unlock"; userKey: Uint8Array<ArrayBuffer>; addresses: SealedAddress[] }
  | { rid: number; type: "summaries"; items: SealedSummary[] }
  | { rid: number; type: "read"; addressId: string; sealed: Uint8Array<ArrayBuffer>; verifier: string | null };

export type MailWorkerReply =
  | { rid: number; type: "unlocked"; opened: string[]; failed: string[] }
  | { rid: number; type: "summaries"; results: { id: string; summary: Summary | null }[] }
  | { rid: number; type: "read"; message: ReadMessage; signature: SignatureState }
  | { rid: number; type: "error"; message: string };

interface Scope {
  onmessage: ((event: MessageEvent<MailWorkerRequest>) => void) | null;
  postMessage(message: MailWorkerReply, transfer?: Transferable[]): void;
}
const scope = self as unknown as Scope;

const keys = new Map<string, openpgp.PrivateKey>();
const decoder = new TextDecoder("utf-8", { fatal: false });

scope.onmessage = (event) => {
  const request = event.data;
  void handle(request).catch((error: unknown) =>
    scope.postMessage({ rid: request.rid, type: "error", message: error instanceof Error ? error.message : String(error) }));
};

async function handle(request: MailWorkerRequest): Promise<void> {
  switch (request.type) {
    case "unlock": {
      const opened: string[] = [];
      const failed: string[] = [];
      try {
        for (const a of request.addresses) {
          const ring = openAddressKey(request.userKey, a.address, a.wrappedToken, a.wrappedPrivateKey);
          if (!ring) {
            failed.push(a.id);
            continue;
          }
          try {
            // OpenPGP.js keeps views into the bytes it parsed, so it gets a copy of its own; this ring is wiped below.
            keys.set(a.id, await openpgp.readPrivateKey({ binaryKey: ring.slice() }));
            opened.push(a.id);
          } catch {
            failed.push(a.id);
          } finally {
            ring.fill(0);
          }
        }
      } finally {
        request.userKey.fill(0);
      }
      scope.postMessage({ rid: request.rid, type: "unlocked", opened, failed });
      return;
    }
    case "summaries": {
      const results: { id: string; summary: Summary | null }[] = [];
      for (const item of request.items) results.push({ id: item.id, summary: await openSummary(item) });
      scope.postMessage({ rid: request.rid, type: "summaries", results });
      return;
    }
    case "read": {
      const key = keys.get(request.addressId);
      if (!key) throw new Error("This address's key is not unlocked.");
      const verificationKeys = request.verifier ? [await openpgp.readKey({ armoredKey: request.verifier })] : [];
      const message = await openpgp.readMessage({ binaryMessage: request.sealed });
      const { data, signatures } = await openpgp.decrypt({ message, decryptionKeys: key, verificationKeys, format: "binary" });
      const read = readMessage(data);
      scope.postMessage({ rid: request.rid, type: "read", message: read, signature: await signatureOf(signatures) },
        read.attachments.map((a) => a.bytes.buffer));
      return;
    }
  }
}

/** A summary the address key opens and that reads as one; null for anything else (shown as "does not decrypt"). */
async function openSummary(item: SealedSummary): Promise<Summary | null> {
  const key = keys.get(item.addressId);
  if (!key || item.summary === "") return null;
  try {
    const binaryMessage = Uint8Array.from(atob(item.summary), (c) => c.charCodeAt(0));
    const message = await openpgp.readMessage({ binaryMessage });
    const { data } = await openpgp.decrypt({ message, decryptionKeys: key, format: "binary" });
    return parseSummary(decoder.decode(data));
  } catch {
    return null;
  }
}

async function signatureOf(signatures: { verified: Promise<unknown> }[]): Promise<SignatureState> {
  if (signatures.length === 0) return "none";
  try {
    await signatures[0]!.verified;
    return "valid";
  } catch (error) {
    // OpenPGP.js says so when none of the verification keys has the signature's key ID.
    return error instanceof Error && /could not find signing key/i.test(error.message) ? "unknown-signer" : "invalid";
  }
}
