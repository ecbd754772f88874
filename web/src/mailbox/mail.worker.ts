// The mailbox's Web Worker (issue 21 points 1–3): it holds the unlocked address keys and does every OpenPGP operation,
// so the page stays responsive while thousands of summaries decrypt and nothing in the page's own heap holds a secret
// key. OpenPGP.js (6.3, the profile Veil.Crypto.OpenPgp writes: v4 Ed25519 + Curve25519, SEIPD v1 + MDC) is loaded
// here only, in the mail chunk.
//   unlock     opens each address's chain (user key → token → secret key ring, ../crypto/addresskey.ts) and reads
//              the ring as an OpenPGP private key; the user key copy and the rings are wiped at once.
//   summaries  decrypts sealed summaries in batches, answering each batch as it is done (newest first, as sent).
//   seal       encrypts a composed MIME message and its summary to each recipient key (and the sender's own for
//              the Sent copy), the message signed by the sending address's key (issue 21 point 4).
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
  | { rid: number; type: "read"; addressId: string; sealed: Uint8Array<ArrayBuffer>; verifier: string | null }
  | { rid: number; type: "seal"; addressId: string; mime: Uint8Array<ArrayBuffer>; summary: Uint8Array<ArrayBuffer>; recipients: { recipient: string | null; publicKey: string }[] }
  | { rid: number; type: "base64"; bytes: Uint8Array<ArrayBuffer> };

/** One sealed copy as POST /api/v1/mail/messages takes it; recipient null is the sender's Sent copy. */
export interface SealedCopy { recipient: string | null; sealedMessage: string; sealedSummary: string; size: number }

export type MailWorkerReply =
  | { rid: number; type: "unlocked"; opened: string[]; failed: string[] }
  | { rid: number; type: "summaries"; results: { id: string; summary: Summary | null }[] }
  | { rid: number; type: "read"; message: ReadMessage; signature: SignatureState }
  | { rid: number; type: "sealed"; copies: SealedCopy[] }
  | { rid: number; type: "base64"; text: string }
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
    case "seal": {
      const key = keys.get(request.addressId);
      if (!key) throw new Error("This address's key is not unlocked.");
      const copies: SealedCopy[] = [];
      for (const r of request.recipients) {
        const encryptionKeys = await openpgp.readKey({ armoredKey: r.publicKey });
        copies.push({
          recipient: r.recipient,
          // Veil's profile (spec/mailbox-api.md "Sending"): AES-256, SEIPD v1 + MDC for these v4 keys, signed by the
          // sender's address key, no compression, a binary literal packet with an empty name.
          sealedMessage: toBase64(await seal(request.mime, encryptionKeys, key)),
          sealedSummary: toBase64(await seal(request.summary, encryptionKeys, null)),
          size: request.mime.length,
        });
      }
      request.mime.fill(0);
      request.summary.fill(0);
      scope.postMessage({ rid: request.rid, type: "sealed", copies });
      return;
    }
    case "base64": {
      scope.postMessage({ rid: request.rid, type: "base64", text: toBase64(request.bytes) });
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

const profile = {
  preferredSymmetricAlgorithm: openpgp.enums.symmetric.aes256,
  preferredCompressionAlgorithm: openpgp.enums.compression.uncompressed,
};

async function seal(plaintext: Uint8Array, to: openpgp.PublicKey, signer: openpgp.PrivateKey | null): Promise<Uint8Array> {
  const message = await openpgp.createMessage({ binary: plaintext.slice(), format: "binary", filename: "" });
  return (await openpgp.encrypt({ message, encryptionKeys: to, ...(signer ? { signingKeys: signer } : {}), format: "binary", config: profile })) as Uint8Array;
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
