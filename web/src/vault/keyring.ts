// The vault keys this page holds while unlocked, and the two ways they leave: Lock (the shell's button, which wipes
// the user key) and auto-lock after 60 idle minutes. Vault keys are unwrapped from the user key, so whenever the
// user key goes, every vault key is wiped with it (fill(0)) — nothing stays that could open a vault.
import { effect } from "@preact/signals";
import * as session from "../session/store";
import { lock } from "../identity/service";

const vaultKeys = new Map<string, Uint8Array>();

export function rememberVaultKey(vaultId: string, key: Uint8Array): void {
  vaultKeys.get(vaultId)?.fill(0);
  vaultKeys.set(vaultId, key);
}

export function vaultKey(vaultId: string): Uint8Array | null {
  return vaultKeys.get(vaultId) ?? null;
}

function wipeVaultKeys(): void {
  for (const key of vaultKeys.values()) key.fill(0);
  vaultKeys.clear();
}

/** Idle minutes after which the page locks (issue 16: 60). */
export const AutoLockMinutes = 60;
let idleTimer: ReturnType<typeof setTimeout> | null = null;

function armIdleTimer(): void {
  if (idleTimer !== null) clearTimeout(idleTimer);
  idleTimer = session.isUnlocked.value ? setTimeout(lock, AutoLockMinutes * 60 * 1000) : null;
}

if (typeof window !== "undefined") {
  // Any input counts as activity; a background tab that nobody touches locks after the hour like any other.
  for (const type of ["pointerdown", "keydown", "wheel", "touchstart"] as const) {
    window.addEventListener(type, () => { if (session.isUnlocked.value) armIdleTimer(); }, { passive: true, capture: true });
  }
  effect(() => {
    if (!session.isUnlocked.value) wipeVaultKeys();
    armIdleTimer();
  });
}
