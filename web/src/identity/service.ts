// The identity use cases the pages call: each derives keys in the worker, talks to the API and updates the session
// store. The master password and `enc` never leave this module's locals; only `auth` (base64url) is sent.
import { identityApi, type SignInAnswer, type TwoFactorChallenge } from "../api/identity";
import { refreshSession } from "../api/client";
import { deriveInWorker } from "../crypto/kdf";
import { DefaultKdf, type KdfParameters } from "../crypto/keys";
import { newUserKey, openUserKey, wrapUserKey } from "../crypto/userkey";
import { randomBytes, toBase64Url } from "../lib/bytes";
import * as session from "../session/store";
import { forgetTrust, openTrustedKey, setTrustSuspended, trustThisBrowser } from "../session/trust";

export type Progress = (phase: string) => void;

export async function register(email: string, password: string, progress: Progress): Promise<void> {
  const kdf: KdfParameters = { kdf: "argon2id", ...DefaultKdf, salt: toBase64Url(randomBytes(16)) };
  progress("Deriving your keys from the master password (Argon2id, 64 MiB)…");
  const keys = await deriveInWorker(password, email, kdf);
  const userKey = newUserKey();
  try {
    const protectedUserKey = wrapUserKey(keys.enc, userKey);
    progress("Creating the account…");
    await identityApi.register({ email: email.trim(), authToken: toBase64Url(keys.auth), kdf, protectedUserKey });
  } finally {
    keys.enc.fill(0);
    userKey.fill(0);
  }
}

/** Password sign-in. Returns a challenge when the account has 2FA; the keys are opened once the tokens exist. */
export async function signInWithPassword(email: string, password: string, progress: Progress): Promise<TwoFactorChallenge | null> {
  progress("Asking the server for your key parameters…");
  const kdf = await identityApi.prelogin(email.trim());
  progress("Deriving your keys from the master password (Argon2id)…");
  const keys = await deriveInWorker(password, email, kdf);
  try {
    progress("Signing in…");
    const answer = await identityApi.login(email.trim(), toBase64Url(keys.auth));
    pendingEnc?.fill(0);
    pendingEnc = keys.enc.slice();
    return await finish(answer);
  } finally {
    keys.enc.fill(0);
    keys.auth.fill(0);
  }
}

// Between a password and its 2FA code, `enc` waits here (memory only) so the user key opens after the code.
let pendingEnc: Uint8Array | null = null;

export async function answerChallenge(challenge: TwoFactorChallenge, method: string, code: string): Promise<void> {
  const tokens = await identityApi.answerChallenge(challenge.challengeToken, method, code.trim());
  await finish(tokens);
}

export async function signInWithMagicLink(token: string): Promise<TwoFactorChallenge | null> {
  pendingEnc?.fill(0);
  pendingEnc = null;
  return finish(await identityApi.consumeMagicLink(token));
}

async function finish(answer: SignInAnswer): Promise<TwoFactorChallenge | null> {
  if ("twoFactorRequired" in answer && answer.twoFactorRequired) return answer;
  const tokens = answer as Exclude<SignInAnswer, TwoFactorChallenge>;
  session.setAccessToken(tokens.accessToken);
  session.signedIn(tokens.accessToken, await identityApi.whoami());
  if (pendingEnc) {
    const enc = pendingEnc;
    pendingEnc = null;
    try {
      await openKeys(enc);
    } finally {
      enc.fill(0);
    }
  }
  return null;
}

async function openKeys(enc: Uint8Array): Promise<void> {
  const keys = await identityApi.keys();
  const userKey = openUserKey(enc, keys.protectedUserKey);
  if (!userKey) throw new Error("Your master password did not open your keys. Sign out and in again.");
  session.setUserKey(userKey);
}

/** Unlock after a reload, a magic link or Lock: the session exists, the keys need the master password again. */
export async function unlock(password: string, progress: Progress, trust = false): Promise<void> {
  const who = session.account.value;
  if (!who) throw new Error("Sign in first.");
  const keys = await identityApi.keys();
  progress("Deriving your keys from the master password (Argon2id)…");
  const derived = await deriveInWorker(password, who.email, keys);
  try {
    const userKey = openUserKey(derived.enc, keys.protectedUserKey);
    if (!userKey) throw new Error("Wrong master password.");
    // The capsule first: the pages that appear on unlock then see this browser as trusted. If storing it fails,
    // the keys stay locked and the error says why (unticking the box unlocks without it).
    if (trust && who.sessionId) {
      progress("Remembering this browser…");
      try {
        await trustThisBrowser(who.accountId, who.sessionId, userKey);
      } catch (caught) {
        userKey.fill(0);
        throw caught instanceof Error && !(caught instanceof DOMException) ? caught : new Error("This browser could not store the key capsule (storage refused). Unlock without trusting it.");
      }
    }
    // The password was given: a capsule suspended by Lock may open the keys after a reload again.
    if (!trust) await setTrustSuspended(who.accountId, false);
    session.setUserKey(userKey);
  } finally {
    derived.enc.fill(0);
    derived.auth.fill(0);
  }
}

/** On page load: a live refresh cookie resumes the session (keys stay locked until the password is entered). */
export async function resume(): Promise<void> {
  // No hint, no session: a browser that never signed in (or signed out) has no refresh cookie, so asking would only
  // earn a 401 that Chromium logs in the console on every anonymous visit. The hint is not trusted the other way:
  // when it is set, the refresh decides.
  const worthAsking = session.mayHaveSession();
  // A page that signs in by itself (magic link) may finish first; only an undecided session is decided here.
  if (!worthAsking || !(await refreshSession())) {
    if (session.status.value === "unknown") {
      session.status.value = "signed-out";
      // A refused refresh (expired, revoked elsewhere): the next load need not ask again.
      if (worthAsking) session.forgetSessionHint();
    }
    // The session is gone (ended on the sessions page, expired): so is any capsule made under it.
    if (worthAsking) await forgetTrust();
    return;
  }
  try {
    const who = await identityApi.whoami();
    // A trusted browser (ADR 0007) opens the user key from its capsule, before the pages show (no flash of the
    // unlock form); otherwise the password is asked for.
    const trusted = !session.isUnlocked.value && who.sessionId ? await openTrustedKey(who.accountId, who.sessionId) : null;
    if (session.status.value !== "signed-in") session.signedIn(session.currentAccessToken()!, who);
    if (trusted && !session.isUnlocked.value) session.setUserKey(trusted);
    else trusted?.fill(0);
  } catch {
    if (session.status.value === "unknown") session.status.value = "signed-out";
  }
}

/** Lock (the button, the idle lock): every key leaves memory, and a trusted browser needs the password once more. */
export function lock(): void {
  const who = session.account.value;
  session.lock();
  if (who) void setTrustSuspended(who.accountId, true);
}

export async function signOut(): Promise<void> {
  try {
    await identityApi.logout();
  } finally {
    // Even if the server is unreachable, nothing of the session stays in this page, nor a capsule in this browser.
    session.clear();
    await forgetTrust();
  }
}
