// The owner's vaults in the browser (issue 16 point 6), interoperable with `veil vault` both ways: the same format
// (spec/vault.md) sealed and opened in the page. The list opens every vault's key with the user key; a vault page
// opens its items, adds and deletes them, and runs the dead man's switch, its recipients and the rehearsal.
import { useEffect, useRef, useState } from "preact/hooks";
import { describeError } from "../api/messages";
import { Link } from "../app/Link";
import { Busy, ErrorBox, Field, Page } from "../app/ui";
import * as session from "../session/store";
import { toBase64Url, randomBytes } from "../lib/bytes";
import {
  newId, openField, paths, sealEscrow, sealField, sealItem, unwrapVaultKey, wrapVaultKey, wipeItem, type PlainItem,
} from "../crypto/vault";
import { BitwardenPanel } from "./BitwardenPanel";
import { downloadFile, uploadFile } from "./files";
import { openItemsInWorker } from "./vaultWorker";
import { ItemBrowser } from "./ItemBrowser";
import { rememberVaultKey, vaultKey } from "./keyring";
import { UnlockGate } from "./UnlockGate";
import { vaultApi, type RecipientDto, type SwitchDto } from "./vaultApi";
import "./messages";

interface OpenedVault { id: string; name: string; itemCount: number; switchState: string | null }

async function openVaultKey(id: string, wrappedKey: string): Promise<Uint8Array> {
  const held = vaultKey(id);
  if (held) return held;
  const userKey = session.currentUserKey();
  if (!userKey) throw new Error("Your vaults are locked.");
  const key = await unwrapVaultKey(userKey, id, wrappedKey);
  if (!key) throw new Error("This vault's key did not open with your keys: it was changed on the server, or it belongs to another account.");
  rememberVaultKey(id, key);
  return key;
}

function VaultList() {
  const [vaults, setVaults] = useState<OpenedVault[] | null>(null);
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [phase, setPhase] = useState<string | null>(null);

  const load = async () => {
    try {
      const list = await vaultApi.list();
      setVaults(await Promise.all(list.vaults.map(async (v) => {
        const key = await openVaultKey(v.id, v.wrappedKey);
        const opened = await openField(key, v.id, "", paths.name, v.name);
        return { id: v.id, name: opened ?? "(name does not decrypt)", itemCount: v.itemCount, switchState: v.switch?.state ?? null };
      })));
    } catch (caught) {
      setError(describeError(caught));
    }
  };
  useEffect(() => { void load(); }, []);

  const create = async (event: Event) => {
    event.preventDefault();
    const userKey = session.currentUserKey();
    if (!userKey) return;
    setError(null);
    setPhase("Creating the vault…");
    const id = newId();
    const key = randomBytes(32);
    try {
      await vaultApi.create({ id, name: await sealField(key, id, "", paths.name, name.trim()), wrappedKey: await wrapVaultKey(userKey, id, key) });
      rememberVaultKey(id, key);
      setName("");
      await load();
    } catch (caught) {
      key.fill(0);
      setError(describeError(caught));
    } finally {
      setPhase(null);
    }
  };

  return (
    <Page title="Vaults" lead="Everything in a vault is encrypted in this page before it is sent; the server cannot read it.">
      <ErrorBox message={error} />
      {vaults === null && !error && <p role="status" class="muted">Opening your vaults…</p>}
      {vaults !== null && vaults.length === 0 && <p>You have no vault yet.</p>}
      {vaults !== null && vaults.length > 0 && (
        <ul class="cards">
          {vaults.map((v) => (
            <li key={v.id}>
              <Link href={`/app/vault/${v.id}`}>{v.name}</Link>{" "}
              <small class="muted">{v.itemCount} item{v.itemCount === 1 ? "" : "s"}{v.switchState ? ` · switch ${v.switchState}` : ""}</small>
            </li>
          ))}
        </ul>
      )}
      <form class="panel" onSubmit={create}>
        <h2>New vault</h2>
        <Field label="Vault name" value={name} onInput={setName} required />
        <button type="submit" disabled={phase !== null || name.trim() === ""}>Create vault</button>
      </form>
      <Busy phase={phase} />
    </Page>
  );
}

function parseTags(text: string): string[] {
  return text.split(",").map((t) => t.trim()).filter((t) => t !== "");
}

type ItemInput = { title: string; notes: string | null; tags: string[]; fields: { label: string; value: string }[] };

/** New item, or an existing one edited in place (title, fields, notes, tags; more files attached). */
function ItemForm(props: { item?: PlainItem; onSave: (item: ItemInput, files: File[], removeFiles: string[]) => Promise<boolean>; onCancel?: () => void }) {
  const editing = props.item;
  const [title, setTitle] = useState(editing?.title ?? "");
  const [notes, setNotes] = useState(editing?.notes ?? "");
  const [tags, setTags] = useState(editing?.tags.join(", ") ?? "");
  const [fields, setFields] = useState<{ label: string; value: string }[]>(editing && editing.fields.length > 0 ? editing.fields.map((f) => ({ ...f })) : [{ label: "", value: "" }]);
  const [files, setFiles] = useState<File[]>([]);
  const [removeFiles, setRemoveFiles] = useState<string[]>([]);
  const [reveal, setReveal] = useState(false);
  const [busy, setBusy] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);
  const prefix = editing ? "Edit: " : "";
  return (
    <form
      class="panel vault-form"
      aria-label={editing ? `Edit ${editing.title}` : "New item"}
      onSubmit={async (event) => {
        event.preventDefault();
        setBusy(true);
        try {
          // Notes that were absent stay absent (null); notes emptied by hand stay an empty value (spec/vault.md §4).
          const keptNotes = notes === "" && (editing?.notes ?? null) === null ? null : notes;
          const saved = await props.onSave({ title, notes: keptNotes, tags: parseTags(tags), fields: fields.filter((f) => f.label !== "" || f.value !== "") }, files, removeFiles);
          if (saved && !editing) {
            setTitle(""); setNotes(""); setTags(""); setFields([{ label: "", value: "" }]); setFiles([]);
            if (fileInput.current) fileInput.current.value = "";
          }
        } finally {
          setBusy(false);
        }
      }}
    >
      <h2>{editing ? `Edit “${editing.title}”` : "New item"}</h2>
      <Field label={`${prefix}Title`} value={title} onInput={setTitle} required />
      {fields.map((f, i) => (
        <div class="row" key={i}>
          <Field label={`${prefix}Field ${i + 1} name`} value={f.label} onInput={(v) => setFields(fields.map((x, j) => (j === i ? { ...x, label: v } : x)))} />
          <Field label={`${prefix}Field ${i + 1} value`} type={reveal ? "text" : "password"} autocomplete="off" value={f.value} onInput={(v) => setFields(fields.map((x, j) => (j === i ? { ...x, value: v } : x)))} />
          <p><button type="button" class="secondary" aria-label={`Remove field ${i + 1}`} onClick={() => setFields(fields.filter((_, j) => j !== i))}>Remove</button></p>
        </div>
      ))}
      <p><button type="button" class="secondary" onClick={() => setFields([...fields, { label: "", value: "" }])}>Add a field</button></p>
      <label class="check">
        <input type="checkbox" checked={reveal} onChange={(e) => setReveal((e.currentTarget as HTMLInputElement).checked)} />
        <span>{prefix}Show the values while I edit</span>
      </label>
      <label>
        <span>{prefix}Notes</span>
        <textarea rows={3} value={notes} onInput={(e) => setNotes((e.currentTarget as HTMLTextAreaElement).value)} />
      </label>
      <Field label={`${prefix}Tags, separated by commas`} value={tags} onInput={setTags} />
      {editing && editing.files.length > 0 && (
        <fieldset>
          <legend>Files to keep</legend>
          {editing.files.map((f) => (
            <label class="check" key={f.id}>
              <input type="checkbox" checked={!removeFiles.includes(f.id)}
                onChange={(e) => setRemoveFiles((e.currentTarget as HTMLInputElement).checked ? removeFiles.filter((x) => x !== f.id) : [...removeFiles, f.id])} />
              <span>Keep {f.name}</span>
            </label>
          ))}
        </fieldset>
      )}
      <label>
        <span>{prefix}Attach files</span>
        <input ref={fileInput} type="file" multiple onChange={(e) => setFiles(Array.from((e.currentTarget as HTMLInputElement).files ?? []))} />
      </label>
      <p class="muted">Files are encrypted in this browser before they are uploaded; the server stores only ciphertext.</p>
      <p class="actions">
        <button type="submit" disabled={busy || title.trim() === ""}>{editing ? "Save changes" : "Save item"}</button>{" "}
        {props.onCancel && <button type="button" class="secondary" onClick={props.onCancel}>Cancel</button>}
      </p>
    </form>
  );
}

const Day = 86400;

function SwitchPanel(props: { vaultId: string }) {
  const [state, setState] = useState<SwitchDto | null | undefined>(undefined);
  const [days, setDays] = useState("30");
  const [graceDays, setGraceDays] = useState("7");
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    vaultApi.getSwitch(props.vaultId).then(setState, (caught) => {
      if ((caught as { code?: string }).code === "switch-not-found") setState(null);
      else setError(describeError(caught));
    });
  }, [props.vaultId]);
  const run = async (work: () => Promise<SwitchDto>) => {
    setError(null);
    try {
      setState(await work());
    } catch (caught) {
      setError(describeError(caught));
    }
  };
  const when = (at: string | null) => (at ? new Date(at).toLocaleString() : "—");
  return (
    <section class="panel" aria-labelledby="switch-heading">
      <h2 id="switch-heading">Dead man's switch</h2>
      <ErrorBox message={error} />
      {state === null && <p>No switch: this vault is never released. Set one to deliver it to your recipients if you stop checking in.</p>}
      {state && (
        <dl>
          <dt>State</dt><dd data-testid="switch-state">{state.state}</dd>
          <dt>Check in every</dt><dd>{Math.round(state.intervalSeconds / Day)} days, then {Math.round(state.graceSeconds / 3600)} hours of grace</dd>
          <dt>Next deadline</dt><dd>{when(state.deadline)}</dd>
          <dt>Released on</dt><dd>{when(state.releaseAt)}</dd>
          <dt>Next reminder</dt><dd>{when(state.nextReminderAt)}</dd>
        </dl>
      )}
      <div class="row">
        <Field label="Check-in interval (days)" inputMode="numeric" value={days} onInput={setDays} />
        <Field label="Grace period (days)" inputMode="numeric" value={graceDays} onInput={setGraceDays} />
      </div>
      <p class="muted">Reminders are mailed at the deadline, half-way through the grace, and a day before release.</p>
      <p class="actions">
        <button type="button" onClick={() => run(() => vaultApi.setSwitch(props.vaultId, Math.round(Number(days) * Day), Math.round(Number(graceDays) * Day)))}>Set the switch</button>{" "}
        {state && state.state !== "released" && <button type="button" class="secondary" onClick={() => run(() => vaultApi.switchAction(props.vaultId, "checkin"))}>Check in now</button>}{" "}
        {state && state.state !== "released" && state.state !== "paused" && <button type="button" class="secondary" onClick={() => run(() => vaultApi.switchAction(props.vaultId, "pause"))}>Pause</button>}
        {state && state.state === "paused" && <button type="button" class="secondary" onClick={() => run(() => vaultApi.switchAction(props.vaultId, "resume"))}>Resume</button>}
      </p>
    </section>
  );
}

function RecipientsPanel(props: { vaultId: string }) {
  const [list, setList] = useState<RecipientDto[]>([]);
  const [email, setEmail] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const load = () => vaultApi.recipients(props.vaultId).then((r) => setList(r.recipients), (caught) => setError(describeError(caught)));
  useEffect(() => { void load(); }, [props.vaultId]);
  const add = async (event: Event) => {
    event.preventDefault();
    const key = vaultKey(props.vaultId);
    if (!key) return;
    setError(null);
    // spec/vault.md §6: a fresh delivery key per recipient, the vault key sealed under it; the page forgets it after sending.
    const id = newId();
    const deliveryKey = randomBytes(32);
    try {
      const escrow = await sealEscrow(deliveryKey, props.vaultId, id, key);
      await vaultApi.addRecipient(props.vaultId, { id, email: email.trim(), escrow, deliveryKey: toBase64Url(deliveryKey) });
      setEmail("");
      await load();
    } catch (caught) {
      setError(describeError(caught));
    } finally {
      deliveryKey.fill(0);
    }
  };
  return (
    <section class="panel" aria-labelledby="recipients-heading">
      <h2 id="recipients-heading">Recipients</h2>
      <p class="muted">When the switch releases, each recipient is mailed a personal link and opens the vault in their browser.</p>
      <ErrorBox message={error} />
      {note && <p class="ok" role="status">{note}</p>}
      <ul>
        {list.map((r) => (
          <li key={r.id}>
            {r.email} <small class="muted">({r.state})</small>{" "}
            <button type="button" class="secondary" aria-label={`Remove ${r.email}`} onClick={async () => {
              try { await vaultApi.removeRecipient(props.vaultId, r.id); await load(); } catch (caught) { setError(describeError(caught)); }
            }}>Remove</button>
          </li>
        ))}
      </ul>
      <form onSubmit={add}>
        <Field label="Recipient's email address" type="email" inputMode="email" value={email} onInput={setEmail} required />
        <p class="actions">
          <button type="submit">Add recipient</button>{" "}
          <button type="button" class="secondary" onClick={async () => {
            setError(null);
            try {
              const r = await vaultApi.rehearse(props.vaultId);
              setNote(`Rehearsal sent to you; the link works until ${new Date(r.expiresAt).toLocaleString()}. Nothing was released.`);
            } catch (caught) { setError(describeError(caught)); }
          }}>Rehearse the delivery</button>
        </p>
      </form>
    </section>
  );
}

function VaultView(props: { id: string }) {
  const [name, setName] = useState<string | null>(null);
  const [items, setItems] = useState<PlainItem[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [phase, setPhase] = useState<string | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const held = useRef<PlainItem[] | null>(null);
  const id = props.id;

  const load = async () => {
    try {
      const v = await vaultApi.get(id);
      const key = await openVaultKey(id, v.wrappedKey);
      setName((await openField(key, id, "", paths.name, v.name)) ?? "(name does not decrypt)");
      const sealed = await vaultApi.items(id);
      // One batch to the vault worker for the whole vault: thousands of items open without freezing the page.
      const opened = await openItemsInWorker(key, id, sealed.items);
      held.current?.forEach(wipeItem);
      held.current = opened;
      setItems(opened);
    } catch (caught) {
      setError(describeError(caught));
    }
  };
  useEffect(() => { void load(); }, [id]);
  // Leaving the page (or Lock, which unmounts it) wipes the file keys the opened items hold.
  useEffect(() => () => { held.current?.forEach(wipeItem); held.current = null; }, []);

  /** Seals and stores an item (new, or the next revision of an existing one), then uploads its new files. */
  const save = async (itemId: string, revision: number | undefined, plain: ItemInput, files: File[], removeFiles: string[] = []): Promise<boolean> => {
    const key = vaultKey(id);
    if (!key) return false;
    setError(null);
    try {
      await vaultApi.putItem(id, itemId, { ...(await sealItem(key, id, { id: itemId, ...plain })), ...(revision === undefined ? {} : { revision }) });
      for (const fileId of removeFiles) await vaultApi.deleteFile(id, itemId, fileId);
      for (const file of files) {
        setPhase(`Encrypting and uploading ${file.name}…`);
        await uploadFile(key, id, itemId, file, (done, total) => setPhase(`Encrypting ${file.name}: ${Math.floor((done / Math.max(total, 1)) * 100)} %`));
      }
      setEditing(null);
      await load();
      return true;
    } catch (caught) {
      setError(describeError(caught));
      await load();
      return false;
    } finally {
      setPhase(null);
    }
  };

  return (
    <Page title={name ?? "Vault"}>
      <p><Link href="/app/vault">All vaults</Link></p>
      <ErrorBox message={error} />
      <Busy phase={phase} />
      {items === null && !error && <p role="status" class="muted">Decrypting…</p>}
      {items !== null && (
        <ItemBrowser
          items={items}
          onDownload={async (file) => {
            const token = session.currentAccessToken();
            const item = items.find((i) => i.files.some((f) => f.id === file.id))!;
            try {
              await downloadFile(`/api/v1/vault/vaults/${id}/items/${item.id}/files/${file.id}`, `Bearer ${token}`, file.id, file.key, file.name);
            } catch (caught) {
              setError(describeError(caught));
            }
          }}
          actions={(item) => editing === item.id
            ? <ItemForm item={item} onSave={(plain, files, removed) => save(item.id, item.revision, plain, files, removed)} onCancel={() => setEditing(null)} />
            : (
              <p class="actions">
                <button type="button" class="secondary" aria-label={`Edit ${item.title}`} onClick={() => setEditing(item.id)}>Edit</button>{" "}
                <button type="button" class="secondary" aria-label={`Delete ${item.title}`} onClick={async () => {
                  if (!window.confirm(`Delete “${item.title}” for good?`)) return;
                  try { await vaultApi.deleteItem(id, item.id); await load(); } catch (caught) { setError(describeError(caught)); }
                }}>Delete</button>
              </p>
            )}
        />
      )}
      <ItemForm onSave={(plain, files) => save(newId(), undefined, plain, files)} />
      {items !== null && <BitwardenPanel vaultId={id} items={items} onImported={load} />}
      <SwitchPanel vaultId={id} />
      <RecipientsPanel vaultId={id} />
    </Page>
  );
}

export function VaultsPage() {
  return <UnlockGate><VaultList /></UnlockGate>;
}

export function VaultPage(props: { params: Record<string, string> }) {
  return <UnlockGate><VaultView id={props.params.id ?? ""} /></UnlockGate>;
}
