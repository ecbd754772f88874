// The one session store. It holds the access token (memory only: never localStorage, sessionStorage or a URL)
// and the user key once the master password has opened it. lock() drops the keys and keeps the session;
// clear() (sign out, a refused refresh) drops everything. Components read these signals and never keep copies.
import { computed, signal } from "@preact/signals";

export interface Account {
  accountId: string;
  email: string;
  recoveryEmail: string | null;
  recoveryEmailVerified: boolean;
  twoFactorEnabled: boolean;
  createdAt: string;
  sessionId: string | null;
}

/** "unknown" until the page has asked whether the refresh cookie still holds a session. */
export type SessionStatus = "unknown" | "signed-out" | "signed-in";

export const status = signal<SessionStatus>("unknown");
export const account = signal<Account | null>(null);
const accessToken = signal<string | null>(null);
/** The 32-byte user key (spec/keys.md); XChaCha20-Poly1305 is not in WebCrypto, so it is bytes, wiped on lock. */
const userKey = signal<Uint8Array | null>(null);

export const isUnlocked = computed(() => userKey.value !== null);

export function currentAccessToken(): string | null {
  return accessToken.value;
}

export function setAccessToken(token: string): void {
  accessToken.value = token;
}

export function signedIn(token: string, who: Account): void {
  accessToken.value = token;
  account.value = who;
  status.value = "signed-in";
  setSessionHint(true);
}

// A hint, not a secret: "this browser signed in and has not signed out". The refresh cookie is HttpOnly, so a
// separate page entry (/drop) cannot see it; the hint lets that page try a refresh only when one can succeed,
// instead of asking the server (and logging a 401) on every anonymous visit.
const hintKey = "veil.signed-in";

function setSessionHint(on: boolean): void {
  try {
    if (on) localStorage.setItem(hintKey, "1");
    else localStorage.removeItem(hintKey);
  } catch {
    // Storage disabled: pages that need the hint treat the visitor as signed out.
  }
}

/** The refresh cookie turned out dead: stop trying it on every load (it is already gone or useless). */
export function forgetSessionHint(): void {
  setSessionHint(false);
}

/** True when this browser may hold a session (a refresh cookie): worth trying a refresh. */
export function mayHaveSession(): boolean {
  try {
    return localStorage.getItem(hintKey) === "1";
  } catch {
    return false;
  }
}

export function setUserKey(key: Uint8Array): void {
  userKey.value?.fill(0);
  userKey.value = key;
}

/** For module code that needs the key (wrapping a vault key, say): null while locked. */
export function currentUserKey(): Uint8Array | null {
  return userKey.value;
}

/** Lock: every key leaves memory; the session (access token) stays, so unlocking needs only the password. */
export function lock(): void {
  userKey.value?.fill(0);
  userKey.value = null;
}

/** Signed out: keys, token and account are gone. */
export function clear(): void {
  lock();
  accessToken.value = null;
  account.value = null;
  status.value = "signed-out";
  setSessionHint(false);
}
