// "Trust this browser" (docs/adr/0007-trusted-browser.md): after a reload the user key opens without the master
// password, from a capsule in IndexedDB that needs two things to open:
//   1. a non-extractable AES-GCM CryptoKey, kept in IndexedDB as the CryptoKey object (never exported: script can
//      use it but never read it), and
//   2. this session's share from the server (GET /account/sessions/current/unlock-share), which the server hands
//      only to this session's access token: ending the session on the sessions page ends the capsule.
// capsule = AES-GCM(cryptoKey, iv, XChaCha20-Poly1305(share, nonce, userKey, aad), aad);
// aad = "veil/v1/trusted-browser" || 0 || accountId || 0 || sessionId. Neither layer alone holds the user key.
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { identityApi } from "../api/identity";
import { fromBase64Url, randomBytes } from "../lib/bytes";

interface Capsule {
  accountId: string;
  sessionId: string;
  key: CryptoKey;
  iv: Uint8Array<ArrayBuffer>;
  nonce: Uint8Array<ArrayBuffer>;
  sealed: Uint8Array<ArrayBuffer>;
  /** Set by Lock (the button or the idle lock): the capsule stays, but only the master password unlocks until then. */
  suspended?: boolean;
}

const databaseName = "veil-trust";
const storeName = "capsules";

function aadFor(accountId: string, sessionId: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(`veil/v1/trusted-browser\0${accountId}\0${sessionId}`);
}

function openDatabase(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(databaseName, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(storeName, { keyPath: "accountId" });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error("IndexedDB is not available."));
  });
}

async function withStore<T>(mode: IDBTransactionMode, act: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await openDatabase();
  try {
    return await new Promise<T>((resolve, reject) => {
      const transaction = db.transaction(storeName, mode);
      const request = act(transaction.objectStore(storeName));
      transaction.oncomplete = () => resolve(request.result);
      transaction.onerror = () => reject(transaction.error ?? new Error("IndexedDB failed."));
    });
  } finally {
    db.close();
  }
}

async function shareOfThisSession(): Promise<Uint8Array<ArrayBuffer>> {
  const share = fromBase64Url((await identityApi.unlockShare()).share);
  if (!share || share.length !== 32) throw new Error("The server's unlock share has the wrong shape.");
  return share;
}

/** Makes (or replaces) this browser's capsule for the signed-in account and session. */
export async function trustThisBrowser(accountId: string, sessionId: string, userKey: Uint8Array): Promise<void> {
  const aad = aadFor(accountId, sessionId);
  const share = await shareOfThisSession();
  const nonce = randomBytes(24);
  let inner: Uint8Array;
  try {
    inner = xchacha20poly1305(share, nonce, aad).encrypt(userKey);
  } finally {
    share.fill(0);
  }
  const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
  const iv = randomBytes(12);
  const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: aad }, key, inner as Uint8Array<ArrayBuffer>));
  await withStore("readwrite", (store) => store.put({ accountId, sessionId, key, iv, nonce, sealed } satisfies Capsule));
}

/**
 * The user key from this browser's capsule, or null (no capsule, another session's, or the server no longer hands out
 * the share: then the capsule is deleted, and the master password is needed).
 */
export async function openTrustedKey(accountId: string, sessionId: string): Promise<Uint8Array<ArrayBuffer> | null> {
  let capsule: Capsule | undefined;
  try {
    capsule = await withStore<Capsule | undefined>("readonly", (store) => store.get(accountId) as IDBRequest<Capsule | undefined>);
  } catch {
    return null; // storage disabled (a private window): nothing was trusted
  }
  if (!capsule || capsule.suspended) return null;
  if (capsule.sessionId !== sessionId) {
    await forgetTrust();
    return null;
  }
  const aad = aadFor(accountId, sessionId);
  let share: Uint8Array | null = null;
  try {
    share = await shareOfThisSession();
    const inner = new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv: capsule.iv, additionalData: aad }, capsule.key, capsule.sealed));
    return new Uint8Array(xchacha20poly1305(share, capsule.nonce, aad).decrypt(inner));
  } catch {
    await forgetTrust();
    return null;
  } finally {
    share?.fill(0);
  }
}

/**
 * Lock means "the password again", trusted or not: otherwise a reload would undo the Lock button and the vault's idle
 * lock on a trusted browser. The capsule is kept (suspended) and the next password unlock in this browser resumes it.
 */
export async function setTrustSuspended(accountId: string, suspended: boolean): Promise<void> {
  try {
    const capsule = await withStore<Capsule | undefined>("readonly", (store) => store.get(accountId) as IDBRequest<Capsule | undefined>);
    if (capsule && (capsule.suspended ?? false) !== suspended) {
      await withStore("readwrite", (store) => store.put({ ...capsule, suspended } satisfies Capsule));
    }
  } catch {
    // No IndexedDB: nothing was trusted.
  }
}

export async function isTrusted(accountId: string): Promise<boolean> {
  try {
    return (await withStore("readonly", (store) => store.count(accountId))) > 0;
  } catch {
    return false;
  }
}

/** Deletes every capsule of this browser (sign out, a refused refresh, "stop trusting"). */
export async function forgetTrust(): Promise<void> {
  try {
    await withStore("readwrite", (store) => store.clear());
  } catch {
    // No IndexedDB: nothing to forget.
  }
}
