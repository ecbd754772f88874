// Import from and export to Bitwarden's unencrypted JSON (issue 16 point 6), on the vault page. The mapping is in
// ./bitwarden.ts. Import is all or nothing: the file is checked and every item sealed before the first request,
// and if the server refuses one item the ones already stored are deleted again. Export writes every secret in
// clear text to a file, so it sits behind a warning and a typed confirmation.
import { useState } from "preact/hooks";
import { describeError } from "../api/messages";
import { Busy, ErrorBox, Field } from "../app/ui";
import { newId, sealItem, type PlainItem } from "../crypto/vault";
import { BitwardenFormatError, fromBitwarden, toBitwarden } from "./bitwarden";
import { offerDownload } from "../lib/sink";
import { vaultKey } from "./keyring";
import { vaultApi } from "./vaultApi";

/** What the owner types to confirm an unencrypted export. */
export const ExportConfirmation = "export unencrypted";

async function importAll(vaultId: string, key: Uint8Array, text: string, onProgress: (done: number, total: number) => void): Promise<number> {
  const plain = fromBitwarden(text);
  const sealed = await Promise.all(plain.map(async (item) => {
    const id = newId();
    return { id, body: await sealItem(key, vaultId, { id, ...item }) };
  }));
  const stored: string[] = [];
  try {
    // One at a time, in the file's order: the server lists items in creation order, so the vault (and a later
    // export) keeps Bitwarden's order. The sealing above already ran in parallel.
    for (const item of sealed) {
      await vaultApi.putItem(vaultId, item.id, item.body);
      stored.push(item.id);
      onProgress(stored.length, sealed.length);
    }
  } catch (error) {
    await Promise.allSettled(stored.map((id) => vaultApi.deleteItem(vaultId, id)));
    throw error;
  }
  return sealed.length;
}

export function BitwardenPanel(props: { vaultId: string; items: PlainItem[]; onImported: () => Promise<void> }) {
  const [file, setFile] = useState<File | null>(null);
  const [phase, setPhase] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [confirm, setConfirm] = useState("");

  const runImport = async (event: Event) => {
    event.preventDefault();
    const key = vaultKey(props.vaultId);
    if (!file || !key) return;
    setError(null);
    setNote(null);
    setPhase("Reading the export…");
    try {
      const count = await importAll(props.vaultId, key, await file.text(), (done, total) => setPhase(`Encrypting and storing item ${done} of ${total}…`));
      setNote(`Imported ${count} item${count === 1 ? "" : "s"}. Delete the Bitwarden export file now: it holds your passwords unencrypted.`);
      await props.onImported();
    } catch (caught) {
      setError(caught instanceof BitwardenFormatError ? `Nothing was imported. ${caught.message}` : `Nothing was imported. ${describeError(caught)}`);
    } finally {
      setPhase(null);
    }
  };

  const runExport = () => {
    offerDownload(new Blob([toBitwarden(props.items, newId)], { type: "application/json" }), "veil-vault-bitwarden-export.json");
    setConfirm("");
    setNote("The export was saved. It is not encrypted: keep it offline and delete it when you are done.");
  };

  return (
    <section class="panel" aria-labelledby="bitwarden-heading">
      <h2 id="bitwarden-heading">Bitwarden import and export</h2>
      <ErrorBox message={error} />
      {note && <p class="ok" role="status">{note}</p>}
      <Busy phase={phase} />
      <form onSubmit={runImport}>
        <label>
          <span>Bitwarden export (.json, unencrypted)</span>
          <input type="file" accept=".json,application/json" onChange={(e) => setFile((e.currentTarget as HTMLInputElement).files?.[0] ?? null)} />
        </label>
        <p class="muted">Folders become tags; logins, cards and identities become fields. The file is read and encrypted in this page.</p>
        <button type="submit" disabled={file === null || phase !== null}>Import into this vault</button>
      </form>
      <div class="warning" role="note" aria-labelledby="export-warning">
        <h3 id="export-warning">Export: every password in clear text</h3>
        <p>
          The export file is <strong>not encrypted</strong>. Anyone who gets it — a backup, a synced folder, a shared
          computer — can read every password, card and note of this vault. Export only to move to another password
          manager, and delete the file right after.
        </p>
        <Field label={`Type “${ExportConfirmation}” to confirm`} value={confirm} onInput={setConfirm} autocomplete="off" />
        <button type="button" class="danger" disabled={confirm.trim().toLowerCase() !== ExportConfirmation} onClick={runExport}>
          Export {props.items.length} item{props.items.length === 1 ? "" : "s"} unencrypted
        </button>
      </div>
    </section>
  );
}
