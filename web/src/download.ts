// /d/{id}#{key}: open a drop in the browser. The key is read from the fragment, which the browser never sends
// to the server; everything is decrypted here and the file is saved only once every chunk authenticated.
import { ApiError, basePath, DropApi, type DropInfo } from "./lib/api";
import { fromBase64Url } from "./lib/bytes";
import { openSink, type Sink } from "./lib/sink";
import { CobblestoneDecryptor, CobblestoneError } from "./lib/cobblestone";
import { context, contentBlobLength, decryptMetadata, parseLink, sanitizeName, subkeys, unwrapKey, type DropMetadata } from "./lib/dropformat";
import { describe, Messages } from "./messages";
import type { WorkerReply } from "./protocol";
import { clearError, el, formatBytes, formatDate, setProgress, setText, show, showError } from "./ui";

const base = basePath(location.pathname, "download");
const api = new DropApi(base);

interface Opened {
  id: string;
  key: Uint8Array<ArrayBuffer>;
  info: DropInfo;
  metadata: DropMetadata;
}

let opened: Opened | null = null;

void main();

async function main(): Promise<void> {
  const link = parseLink(location.pathname.replace(/\/+$/, "") + location.hash);
  if (!link) {
    fail(location.hash.length > 1 ? Messages.wrongKey : Messages.invalidLink);
    return;
  }
  let info: DropInfo;
  try {
    info = await api.info(link.id);
  } catch (error) {
    fail(describe(error));
    return;
  }
  if (link.key) {
    await openWithKey(link.id, link.key, info);
  } else if (info.password) {
    askPassword(link.id, info);
  } else {
    fail(Messages.missingKey);
  }
}

async function openWithKey(id: string, key: Uint8Array<ArrayBuffer>, info: DropInfo): Promise<boolean> {
  const blob = fromBase64Url(info.metadata);
  if (!blob) {
    fail(Messages.malformed);
    return false;
  }
  const result = await decryptMetadata(key, id, blob);
  if (!result.ok) {
    fail(result.reason === "wrong-key" ? Messages.wrongKey : result.reason === "tampered" ? Messages.tampered : Messages.malformed);
    return false;
  }
  // The content blob length fixes the plaintext length: check it against the metadata before downloading.
  if (info.contentSize !== contentBlobLength(result.metadata.size)) {
    fail(Messages.malformed);
    return false;
  }
  opened = { id, key, info, metadata: result.metadata };
  setText("status", "Ready to download.");
  setText("name", result.metadata.name);
  setText("size", formatBytes(result.metadata.size));
  setText("expires", formatDate(info.expiresAt));
  show("file");
  return true;
}

function askPassword(id: string, info: DropInfo): void {
  setText("status", "This drop needs a password.");
  show("password-form");
  const form = el<HTMLFormElement>("password-form");
  const input = el<HTMLInputElement>("password");
  input.focus();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError();
    const salt = fromBase64Url(info.password!.salt);
    const wrapped = fromBase64Url(info.password!.wrappedKey);
    if (!salt || !wrapped) {
      fail(Messages.malformed);
      return;
    }
    setBusy(form, true);
    setText("status", "Checking the password…");
    try {
      const wrapping = await argon2(input.value, salt);
      const unwrapped = await unwrapKey(wrapping, wrapped);
      wrapping.fill(0);
      if (!unwrapped.ok) {
        setText("status", "This drop needs a password.");
        showError(unwrapped.reason === "unsupported" ? Messages.unsupported : Messages.wrongPassword);
        setBusy(form, false);
        input.select();
        return;
      }
      form.hidden = true;
      await openWithKey(id, unwrapped.key, info);
    } catch (error) {
      setBusy(form, false);
      showError(describe(error));
    }
  });
}

/** Argon2id in the worker: 64 MiB and about a second of work must not freeze the page. */
function argon2(password: string, salt: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module", name: "veil-argon2" });
    worker.onmessage = (event: MessageEvent<WorkerReply>) => {
      worker.terminate();
      if (event.data.type === "argon2") resolve(event.data.key);
      else reject(new Error(event.data.type === "error" ? event.data.message : "unexpected worker reply"));
    };
    worker.onerror = (event) => {
      worker.terminate();
      reject(new Error("The password worker failed: " + (event.message || "unknown error")));
    };
    worker.postMessage({ type: "argon2", password, salt });
  });
}

el("save").addEventListener("click", () => {
  if (opened) void save(opened);
});

async function save(drop: Opened): Promise<void> {
  clearError();
  show("done", false);
  const button = el<HTMLButtonElement>("save");
  button.disabled = true;
  const name = sanitizeName(drop.metadata.name, drop.id);
  let sink: Sink | null;
  try {
    sink = await openSink(name);
  } catch (error) {
    button.disabled = false;
    showError(describe(error));
    return;
  }
  if (!sink) {
    button.disabled = false;
    return;
  }

  show("progress-box");
  const total = drop.info.contentSize;
  setProgress(0, total, "Starting the download…");
  try {
    await downloadInto(drop, sink, total);
    await sink.close();
    show("progress-box", false);
    setText("status", "Done.");
    const done = el("done");
    done.textContent = `Saved “${name}” (${formatBytes(drop.metadata.size)}). It was decrypted in this browser and passed the integrity check.`;
    done.hidden = false;
    button.disabled = false;
  } catch (error) {
    await sink.abort();
    show("progress-box", false);
    show("file", false);
    if (error instanceof CobblestoneError) fail(Messages.tampered);
    else {
      fail(describe(error));
      if (!(error instanceof ApiError)) {
        show("file");
        button.disabled = false;
      }
    }
  }
}

async function downloadInto(drop: Opened, sink: Sink, total: number): Promise<void> {
  const keys = await subkeys(drop.key);
  keys.metadata.fill(0);
  const decryptor = new CobblestoneDecryptor(keys.content, context(drop.id));
  const ticket = await api.startDownload(drop.id); // counts one download, atomically, on the server
  let received = 0;
  let plain = 0;
  for (let attempt = 1; received < total; attempt++) {
    try {
      const response = await api.content(drop.id, ticket.ticket, received);
      // A server that ignored the Range sends everything again: skip what is already here.
      let skip = received > 0 && response.status === 200 ? received : 0;
      const reader = response.body!.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        let bytes = value;
        if (skip > 0) {
          const n = Math.min(skip, bytes.length);
          bytes = bytes.subarray(n);
          skip -= n;
        }
        if (received + bytes.length > total) throw new CobblestoneError("trailing");
        received += bytes.length;
        for (const chunk of await decryptor.push(bytes)) {
          plain += chunk.length;
          await sink.write(chunk);
        }
        setProgress(received, total, `Downloaded and decrypted ${formatBytes(plain)} of ${formatBytes(drop.metadata.size)}`);
      }
      if (received < total) throw new TypeError("the connection closed early");
    } catch (error) {
      // A broken connection resumes with a Range under the same ticket (no second download is counted).
      if (!(error instanceof TypeError) || attempt >= 4) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
    }
  }
  const last = await decryptor.finish();
  await sink.write(last);
  keys.content.fill(0);
}

function fail(message: string): void {
  setText("status", "");
  show("password-form", false);
  showError(message);
}

function setBusy(form: HTMLFormElement, busy: boolean): void {
  for (const control of form.querySelectorAll<HTMLInputElement | HTMLButtonElement>("input, button")) control.disabled = busy;
}
