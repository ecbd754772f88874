// Where a decrypted download goes, shared by the drop page and the Vault (owner and heir). With File System Access
// (Chromium) the plaintext streams to disk as it authenticates, so a large file is never held in memory; elsewhere
// it is collected in memory and handed to the browser as a download only after the last chunk authenticated.
/** Where the plaintext goes. Nothing that looks like the complete file exists until `close`. */
export interface Sink {
  write(chunk: Uint8Array<ArrayBuffer>): Promise<void>;
  close(): Promise<void>;
  abort(): Promise<void>;
}

interface SaveFilePicker {
  (options: { suggestedName: string }): Promise<FileSystemFileHandle & { remove?: () => Promise<void> }>;
}

export async function openSink(name: string): Promise<Sink | null> {
  const picker = (window as unknown as { showSaveFilePicker?: SaveFilePicker }).showSaveFilePicker;
  if (picker) {
    // File System Access: stream to disk. Chrome writes to a swap file and moves it into place on close(),
    // so an aborted download leaves no file that looks complete.
    let handle: Awaited<ReturnType<SaveFilePicker>>;
    try {
      handle = await picker.call(window, { suggestedName: name });
    } catch (error) {
      if (error instanceof DOMException && error.name === "AbortError") return null; // the person cancelled
      throw error;
    }
    const writable = await handle.createWritable();
    return {
      write: (chunk) => writable.write(chunk),
      close: () => writable.close(),
      abort: async () => {
        await writable.abort();
        // The picker may have created an empty file; remove it where the browser allows.
        await handle.remove?.().catch(() => undefined);
      },
    };
  }
  // No streaming to disk in this browser: keep the plaintext in memory and hand it over only after the last
  // chunk authenticated.
  const parts: Uint8Array<ArrayBuffer>[] = [];
  return {
    write: async (chunk) => {
      if (chunk.length > 0) parts.push(chunk);
    },
    close: async () => {
      const blob = new Blob(parts, { type: "application/octet-stream" });
      parts.length = 0;
      offerDownload(blob, name);
    },
    abort: async () => {
      parts.length = 0;
    },
  };
}


/** Hands a finished Blob to the browser as a download under `name` (an already sanitised file name). */
export function offerDownload(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.rel = "noopener";
  document.body.append(a);
  a.click();
  a.remove();
  // The browser has started the download; the URL stays valid a minute for slow save dialogs, then goes.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
