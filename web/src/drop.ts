// /drop: choose a file, encrypt it in a Web Worker, upload it in parts, show the link.
import { basePath, DropApi } from "./lib/api";
import { formatLink, passwordProblem } from "./lib/dropformat";
import { fromBase64Url } from "./lib/bytes";
import { describe } from "./messages";
import type { SendRequest, WorkerReply } from "./protocol";
import { clearError, el, formatBytes, setProgress, setText, show, showError } from "./ui";
import { refreshSession } from "./api/client";
import * as session from "./session/store";
import { identityApi } from "./api/identity";
import { deriveInWorker } from "./crypto/kdf";
import { openUserKey } from "./crypto/userkey";

const base = basePath(location.pathname, "drop");
const form = el<HTMLFormElement>("send-form");
const fileInput = el<HTMLInputElement>("file");
const usePassword = el<HTMLInputElement>("use-password");
const passwordInput = el<HTMLInputElement>("password");
let owner: { id: string; token: string } | null = null;

/**
 * A signed-in sender's drop belongs to the account (listed under Your drops, deletable there). This page is its own
 * entry, without the app's memory, so it gets an access token from the HttpOnly refresh cookie itself; the session
 * store's hint says whether that is worth trying. A refused refresh means signed out: the drop is anonymous.
 */
async function accountToken(): Promise<string | null> {
  if (!session.mayHaveSession()) return null;
  if (await refreshSession()) return session.currentAccessToken();
  session.clear();
  return null;
}

function showAccountNote(signedIn: boolean): void {
  setText("account-note", signedIn
    ? "You are signed in: this drop will be listed in your account (Your drops), where you can delete it."
    : "");
  show("account-note", signedIn);
  show("master-row", signedIn);
}

/**
 * The user key, to keep the drop's name for the account (spec/drop.md §8). This page has no unlocked app behind it,
 * so it asks for the master password (optional) and derives the keys here, in a worker, exactly as Unlock does.
 * Null when the field is empty; a wrong password throws before anything is created.
 */
async function ownerUserKey(): Promise<Uint8Array | null> {
  const password = el<HTMLInputElement>("master-password").value;
  if (password === "" || session.currentAccessToken() === null) return null;
  show("progress-box");
  setText("phase", "Opening your keys with the master password (Argon2id, 64 MiB)…");
  const [who, keys] = await Promise.all([identityApi.whoami(), identityApi.keys()]);
  const derived = await deriveInWorker(password, who.email, keys);
  try {
    const userKey = openUserKey(derived.enc, keys.protectedUserKey);
    if (!userKey) throw new Error("That is not your master password: nothing was sent. Correct it, or leave the field empty to keep the name only in the link.");
    return userKey;
  } finally {
    derived.enc.fill(0);
    derived.auth.fill(0);
  }
}

void accountToken().then((token) => showAccountNote(token !== null));

usePassword.addEventListener("change", () => {
  show("password-row", usePassword.checked);
  if (usePassword.checked) passwordInput.focus();
});

form.addEventListener("submit", (event) => {
  event.preventDefault();
  clearError();
  const file = fileInput.files?.[0];
  if (!file) {
    showError("Choose a file first.");
    return;
  }
  let password: string | null = null;
  if (usePassword.checked) {
    password = passwordInput.value;
    const problem = passwordProblem(password);
    if (problem) {
      showError(problem);
      return;
    }
  }
  const downloads = el<HTMLSelectElement>("downloads").value;
  const request: SendRequest = {
    type: "send",
    file,
    base,
    expiresInSeconds: Number(el<HTMLSelectElement>("expires").value),
    maxDownloads: downloads === "" ? null : Number(downloads),
    password,
    accessToken: null,
    userKey: null,
  };
  setFormEnabled(false);
  // A fresh token just before sending (access tokens live 15 minutes; the page may have been open longer).
  void accountToken()
    .then(async (token) => {
      showAccountNote(token !== null);
      const userKey = token === null ? null : await ownerUserKey();
      el<HTMLInputElement>("master-password").value = "";
      start({ ...request, accessToken: token, userKey });
    })
    .catch((error: unknown) => {
      show("progress-box", false);
      showError(describe(error));
      setFormEnabled(true);
    });
});

function start(request: SendRequest): void {
  setFormEnabled(false);
  show("progress-box");
  setText("phase", "Starting…");
  setProgress(0, 1, "");
  const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module", name: "veil-drop" });
  worker.onmessage = (event: MessageEvent<WorkerReply>) => {
    const message = event.data;
    switch (message.type) {
      case "phase":
        setText("phase", message.text);
        break;
      case "progress":
        setProgress(message.uploaded, message.total, `Encrypted ${formatBytes(message.encrypted)}, uploaded ${formatBytes(message.uploaded)} of ${formatBytes(message.total)}`);
        break;
      case "sent":
        worker.terminate();
        finished(request, message.id, message.key, message.ownerToken);
        break;
      case "error":
        worker.terminate();
        show("progress-box", false);
        showError(message.message);
        setFormEnabled(true);
        break;
      case "argon2":
        break;
    }
  };
  worker.onerror = (event) => {
    worker.terminate();
    show("progress-box", false);
    showError("The encryption worker failed: " + (event.message || "unknown error"));
    setFormEnabled(true);
  };
  // The user key moves to the worker (transferred, so no copy stays in this page).
  worker.postMessage(request, request.userKey ? [request.userKey.buffer] : []);
}

function finished(request: SendRequest, id: string, key: string | null, ownerToken: string): void {
  show("progress-box", false);
  form.hidden = true;
  const link = formatLink(location.origin + base, id, key === null ? null : fromBase64Url(key));
  el<HTMLInputElement>("link").value = link;
  el<HTMLInputElement>("owner-token").value = ownerToken;
  owner = { id, token: ownerToken };
  const limit = request.maxDownloads === null ? "no download limit" : `${request.maxDownloads} download${request.maxDownloads === 1 ? "" : "s"}`;
  const expiry = el<HTMLSelectElement>("expires").selectedOptions[0]?.textContent ?? "";
  setText("result-summary", `${request.file.name} (${formatBytes(request.file.size)}) · expires after ${expiry} · ${limit}`);
  show("password-note", key === null);
  show("result");
  el<HTMLInputElement>("link").select();
}

el("copy").addEventListener("click", async () => {
  const input = el<HTMLInputElement>("link");
  try {
    await navigator.clipboard.writeText(input.value);
    setText("copied", "Copied to the clipboard.");
  } catch {
    // The clipboard may be denied (permissions, no focus): select the text so Ctrl+C works.
    input.select();
    setText("copied", "Press Ctrl+C (⌘C) to copy the selected link.");
  }
});

el("delete").addEventListener("click", async () => {
  if (!owner) return;
  try {
    await new DropApi(base).delete(owner.id, owner.token);
    setText("copied", "The drop was deleted. The link no longer works.");
    el<HTMLButtonElement>("delete").disabled = true;
  } catch (error) {
    showError(describe(error));
  }
});

el("again").addEventListener("click", () => {
  show("result", false);
  form.reset();
  show("password-row", false);
  form.hidden = false;
  setFormEnabled(true);
  setText("copied", "");
  owner = null;
});

function setFormEnabled(enabled: boolean): void {
  for (const control of form.querySelectorAll<HTMLInputElement | HTMLSelectElement | HTMLButtonElement>("input, select, button")) {
    control.disabled = !enabled;
  }
}
