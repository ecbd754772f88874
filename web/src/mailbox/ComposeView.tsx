// Writing a message (issue 21 point 4): recipients are looked up in the key directory first and the split is shown
// before anything is sent — Veil users get it end-to-end (encrypted to their key and signed in the mail worker),
// outsiders as normal mail (the server must send them the MIME message in clear: SMTP). The sender's Sent copy is
// encrypted to the sender's own key. Nothing but sealed copies, and the outsiders' copy, leaves the page.
import { useState } from "preact/hooks";
import { describeError } from "../api/messages";
import { ApiError } from "../api/client";
import { Busy, ErrorBox } from "../app/ui";
import { buildMime, summaryOf, type DraftAttachment } from "./compose";
import type { MailCrypto } from "./mailCrypto";
import { mailApi, type MailAddressDto } from "./mailApi";

interface Split { veil: { address: string; publicKey: string }[]; outsiders: string[] }

const parse = (text: string) => [...new Set(text.split(/[\s,;]+/).map((s) => s.trim().toLowerCase()).filter(Boolean))];

export function ComposeView(props: { addresses: MailAddressDto[]; crypto: MailCrypto; onSent: (note: string) => void; onClose: () => void }) {
  const [fromId, setFromId] = useState(props.addresses[0]?.id ?? "");
  const [to, setTo] = useState("");
  const [subject, setSubject] = useState("");
  const [body, setBody] = useState("");
  const [files, setFiles] = useState<File[]>([]);
  const [split, setSplit] = useState<Split | null>(null);
  const [phase, setPhase] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const from = props.addresses.find((a) => a.id === fromId) ?? null;

  const check = async () => {
    const recipients = parse(to);
    if (recipients.length === 0) throw new Error("Add at least one recipient.");
    if (recipients.some((r) => !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(r))) throw new Error("Each recipient must be an address like name@example.org.");
    const found = await Promise.all(recipients.map((address) => mailApi.publishedKey(address).then(
      (key) => ({ address, publicKey: key.publicKey as string | null }),
      (e: unknown) => (e instanceof ApiError && e.code === "key-not-found" ? { address, publicKey: null } : Promise.reject(e)))));
    setSplit({
      veil: found.filter((f) => f.publicKey !== null).map((f) => ({ address: f.address, publicKey: f.publicKey! })),
      outsiders: found.filter((f) => f.publicKey === null).map((f) => f.address),
    });
  };

  const send = async () => {
    if (!from || !split) return;
    const attachments: DraftAttachment[] = await Promise.all(files.map(async (f) => ({ name: f.name, type: f.type || "application/octet-stream", bytes: new Uint8Array(await f.arrayBuffer()) })));
    const draft = { from: from.address, to: [...split.veil.map((v) => v.address), ...split.outsiders], subject, body, attachments };
    const { mime, date } = buildMime(draft, new Date());
    const summary = summaryOf(draft, date);
    const sealed = await props.crypto.seal(from.id, mime, summary, [...split.veil.map((v) => ({ recipient: v.address, publicKey: v.publicKey })), { recipient: null, publicKey: from.publicKey }]);
    const result = await mailApi.send({
      fromAddressId: from.id,
      copies: sealed.filter((c) => c.recipient !== null),
      sentCopy: sealed.find((c) => c.recipient === null)!,
      outside: split.outsiders.length > 0 ? { recipients: split.outsiders, message: await props.crypto.base64(mime) } : null,
    });
    props.onSent([
      result.veilRecipients.length > 0 ? `end-to-end to ${result.veilRecipients.join(", ")}` : "",
      result.outsiders.length > 0 ? `as normal mail to ${result.outsiders.join(", ")}` : "",
    ].filter(Boolean).join("; ").replace(/^/, "Sent ") + ".");
  };

  return (
    <form
      class="mail-reader panel mail-compose"
      aria-label="New message"
      onSubmit={async (event) => {
        event.preventDefault();
        setError(null);
        setPhase(split ? "Encrypting and sending in this page…" : "Looking up the recipients' keys…");
        try {
          if (split) await send();
          else await check();
        } catch (caught) {
          setError(describeError(caught));
        } finally {
          setPhase(null);
        }
      }}
    >
      <div class="mail-reader-actions"><button type="button" class="secondary" onClick={props.onClose}>Close</button></div>
      <h2>New message</h2>
      <div class="field">
        <label for="compose-from"><span>From</span></label>
        <select id="compose-from" value={fromId} onChange={(e) => setFromId((e.currentTarget as HTMLSelectElement).value)}>
          {props.addresses.map((a) => <option key={a.id} value={a.id}>{a.address}</option>)}
        </select>
      </div>
      <div class="field">
        <label for="compose-to"><span>To</span></label>
        <input id="compose-to" type="text" value={to} autocomplete="off" onInput={(e) => { setTo((e.currentTarget as HTMLInputElement).value); setSplit(null); }} aria-describedby="compose-to-hint" />
        <small id="compose-to-hint" class="muted">Addresses separated by commas.</small>
      </div>
      <div class="field">
        <label for="compose-subject"><span>Subject</span></label>
        <input id="compose-subject" type="text" value={subject} onInput={(e) => setSubject((e.currentTarget as HTMLInputElement).value)} />
      </div>
      <div class="field">
        <label for="compose-body"><span>Message</span></label>
        <textarea id="compose-body" rows={10} value={body} onInput={(e) => setBody((e.currentTarget as HTMLTextAreaElement).value)} />
      </div>
      <div class="field">
        <label for="compose-files"><span>Attach files</span></label>
        <input id="compose-files" type="file" multiple onChange={(e) => setFiles([...((e.currentTarget as HTMLInputElement).files ?? [])])} />
      </div>
      {split && (
        <div class="mail-security" role="status">
          {split.veil.length > 0 && <p class="ok">End-to-end (Veil users, encrypted in this page and signed): {split.veil.map((v) => v.address).join(", ")}</p>}
          {split.outsiders.length > 0 && <p class="error">Normal mail (no Veil key: the server sends them the message in clear): {split.outsiders.join(", ")}</p>}
        </div>
      )}
      <ErrorBox message={error} />
      <Busy phase={phase} />
      <div class="actions"><button type="submit" disabled={phase !== null || !from}>{split ? "Send" : "Check recipients"}</button></div>
    </form>
  );
}
