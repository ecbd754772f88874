// The account-security use cases of the Account page (loaded with that page only). Like service.ts, the master
// password and `enc` stay in this module's locals: the server receives `auth` values, new KDF parameters and the
// user key wrapped under the new `enc` (spec/keys.md, "Password change"), never the password or a key.
import { identityApi, type KdfChange } from "../api/identity";
import { ApiError } from "../api/client";
import { deriveInWorker } from "../crypto/kdf";
import { DefaultKdf, type ClientKeys, type KdfParameters } from "../crypto/keys";
import { openUserKey, wrapUserKey } from "../crypto/userkey";
import { randomBytes, toBase64Url } from "../lib/bytes";
import * as session from "../session/store";
import { forgetTrust } from "../session/trust";
import type { Progress } from "./service";

/** True for the answer that asks the user to prove the password again (spec/identity-api.md, step-up). */
export function needsStepUp(error: unknown): boolean {
  return error instanceof ApiError && error.code === "step-up-required";
}

function signedInEmail(): string {
  const who = session.account.value;
  if (!who) throw new Error("Sign in first.");
  return who.email;
}

/** Derives the current keys and opens the user key with them; a wrong password is said locally, before any request. */
async function deriveCurrent(password: string, progress: Progress): Promise<{ keys: ClientKeys; userKey: Uint8Array }> {
  const stored = await identityApi.keys();
  progress("Checking your master password (Argon2id)…");
  const keys = await deriveInWorker(password, signedInEmail(), stored);
  const userKey = openUserKey(keys.enc, stored.protectedUserKey);
  if (!userKey) {
    wipe(keys);
    throw new Error("Wrong master password.");
  }
  return { keys, userKey };
}

/** New credentials for `password` + `email` under a fresh salt, carrying the same user key (spec/keys.md). */
async function rederive(password: string, email: string, userKey: Uint8Array, progress: Progress): Promise<KdfChange> {
  const newKdf: KdfParameters = { kdf: "argon2id", ...DefaultKdf, salt: toBase64Url(randomBytes(16)) };
  progress("Deriving your new keys (Argon2id, 64 MiB)…");
  const next = await deriveInWorker(password, email, newKdf);
  try {
    return { newAuthToken: toBase64Url(next.auth), newKdf, newProtectedUserKey: wrapUserKey(next.enc, userKey) };
  } finally {
    wipe(next);
  }
}

function wipe(keys: ClientKeys): void {
  keys.enc.fill(0);
  keys.auth.fill(0);
}

/** Step-up: proves the master password (and the second factor when on) so the session may do a sensitive thing. */
export async function stepUp(password: string, totpCode: string, progress: Progress): Promise<void> {
  const { keys, userKey } = await deriveCurrent(password, progress);
  try {
    progress("Confirming…");
    await proveFresh(keys, totpCode);
    // The password just proved itself: the keys may as well be open (the same as Unlock).
    if (!session.isUnlocked.value) session.setUserKey(userKey.slice());
  } finally {
    wipe(keys);
    userKey.fill(0);
  }
}

/** Password change: the same user key, rewrapped under the new password's `enc` with a new salt. */
export async function changePassword(current: string, next: string, progress: Progress): Promise<void> {
  const { keys, userKey } = await deriveCurrent(current, progress);
  try {
    const change = await rederive(next, signedInEmail(), userKey, progress);
    progress("Saving the new password…");
    await identityApi.changePassword({ currentAuthToken: toBase64Url(keys.auth), ...change });
    session.setUserKey(userKey.slice());
  } finally {
    wipe(keys);
    userKey.fill(0);
  }
}

/**
 * Email change (a step-up endpoint): the address is part of the KDF input, so the same password derives new
 * credentials with the new address. One derivation of the current keys serves the step-up and opens the user key.
 * Nothing changes until the link mailed to the new address is opened.
 */
export async function changeEmail(newEmail: string, password: string, totpCode: string, progress: Progress): Promise<void> {
  const { keys, userKey } = await deriveCurrent(password, progress);
  try {
    await proveFresh(keys, totpCode);
    const change = await rederive(password, newEmail.trim(), userKey, progress);
    progress("Sending the confirmation link…");
    await identityApi.changeEmail({ newEmail: newEmail.trim(), ...change });
  } finally {
    wipe(keys);
    userKey.fill(0);
  }
}

/** Account deletion: always a fresh proof of the password, then every row of the account is gone. */
export async function deleteAccount(password: string, totpCode: string, progress: Progress): Promise<void> {
  const { keys, userKey } = await deriveCurrent(password, progress);
  userKey.fill(0);
  try {
    await proveFresh(keys, totpCode);
  } finally {
    wipe(keys);
  }
  progress("Deleting the account…");
  await identityApi.deleteAccount();
  session.clear();
  await forgetTrust();
}

async function proveFresh(keys: ClientKeys, totpCode: string): Promise<void> {
  const answer = await identityApi.stepUp(toBase64Url(keys.auth), totpCode.trim() || null);
  session.setAccessToken(answer.accessToken);
}
