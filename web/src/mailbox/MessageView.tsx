// One message, read safely (issue 21 point 3). The sealed message is fetched and decrypted in the mail worker; its
// signature is checked against the sender's key from the key directory (Inbox) or the address's own key (Sent). HTML
// is shown only sanitised, in a sandboxed iframe with a CSP of its own (./sanitize.ts); remote images stay out until
// the reader asks for them, for this message only. The security panel says how the message travelled: end-to-end
// (signed by a Veil sender) or zero-access (sent in clear, sealed by this server on arrival), with SPF/DKIM/DMARC.
import { useEffect, useMemo, useState } from "preact/hooks";
import { describeError } from "../api/messages";
import { ApiError } from "../api/client";
import { Busy, ErrorBox } from "../app/ui";
import { offerDownload } from "../lib/sink";
import type { MailCrypto } from "./mailCrypto";
import { mailApi, type MailAddressDto, type MessageDto } from "./mailApi";
import type { ReadMessage } from "./mime";
import type { SignatureState } from "./mail.worker";
import { openLargeAttachment, readReference } from "./largeAttachment";
import { sanitizeMail } from "./sanitize";
import type { Authentication, Summary, Verdict } from "./summary";

const AttachmentRef = "application/vnd.veil.attachment-ref+json";

export function MessageView(props: {
  message: MessageDto; summary: Summary | null; address: MailAddressDto | null; crypto: MailCrypto;
  onDelete: () => void; onClose: () => void;
}) {
  const [read, setRead] = useState<{ message: ReadMessage; signature: SignatureState; signer: string | null } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [remote, setRemote] = useState(false);
  const m = props.message;

  useEffect(() => {
    let cancelled = false;
    void (async () => {
      try {
        const sealed = await mailApi.sealed(m.id);
        // Sent copies are signed by the address's own key; an Inbox copy by its sender's published key, looked up
        // only when the message turns out to be signed (mail from outside is sealed by the server and unsigned).
        const own = m.folder === "sent" ? props.address?.publicKey ?? null : null;
        let result = await props.crypto.read(m.addressId, new Uint8Array(sealed), own);
        let signer = own ? props.address!.address : null;
        if (result.signature === "unknown-signer" && !own) {
          const from = addressIn(result.message.from) ?? m.envelopeFrom;
          const published = await mailApi.publishedKey(from).catch((e: unknown) => (e instanceof ApiError && e.status === 404 ? null : Promise.reject(e)));
          if (published) {
            result = await props.crypto.read(m.addressId, sealed, published.publicKey);
            signer = published.address;
          }
        }
        if (!cancelled) setRead({ ...result, signer });
      } catch (caught) {
        if (!cancelled) setError(describeError(caught));
      }
    })();
    return () => { cancelled = true; };
  }, [m.id]);

  const html = useMemo(() => (read?.message.html ? sanitizeMail(read.message.html, remote) : null), [read, remote]);
  const subject = read?.message.subject || props.summary?.subject || "(no subject)";

  return (
    <article class="mail-reader panel" aria-label="Message">
      <div class="mail-reader-actions">
        <button type="button" class="secondary" onClick={props.onClose}>Close</button>
        <button type="button" class="danger" onClick={props.onDelete}>Delete</button>
      </div>
      <h2>{subject}</h2>
      <ErrorBox message={error} />
      {!read && !error && <Busy phase="Decrypting the message in this page…" />}
      {read && (
        <>
          <dl class="mail-headers">
            <dt>From</dt><dd>{read.message.from || m.envelopeFrom || "(no sender)"}</dd>
            <dt>To</dt><dd>{read.message.to || props.address?.address}</dd>
            <dt>Date</dt><dd>{read.message.date || new Date(m.receivedAt).toLocaleString()}</dd>
          </dl>
          <SecurityPanel folder={m.folder} signature={read.signature} signer={read.signer} authentication={props.summary?.authentication ?? null} />
          {html ? (
            <>
              {(html.blockedRemote > 0 || html.trackers > 0) && (
                <div class="mail-remote" role="note">
                  <p>
                    {html.blockedRemote > 0 && !remote && `${html.blockedRemote} remote ${html.blockedRemote === 1 ? "image was" : "images were"} blocked: loading them tells the sender you opened the message. `}
                    {html.trackers > 0 && `${html.trackers} tracking ${html.trackers === 1 ? "pixel was" : "pixels were"} removed.`}
                  </p>
                  {html.blockedRemote > 0 && !remote && <button type="button" class="secondary" onClick={() => setRemote(true)}>Load remote images</button>}
                </div>
              )}
              <iframe class="mail-frame" title="Message content" sandbox="allow-popups allow-popups-to-escape-sandbox" referrerpolicy="no-referrer" srcdoc={html.srcdoc} />
            </>
          ) : (
            <div class="mail-body">{read.message.text ?? "(no text)"}</div>
          )}
          {read.message.attachments.length > 0 && (
            <section aria-label="Attachments">
              <h3>Attachments</h3>
              <ul class="files">
                {read.message.attachments.map((a, i) => (
                  <li key={i}>
                    {a.type === AttachmentRef ? <LargeAttachment bytes={a.bytes} onError={setError} /> : (
                      <>
                        <button type="button" class="secondary" onClick={() => offerDownload(new Blob([a.bytes], { type: "application/octet-stream" }), a.name)}>Download {a.name}</button>
                        {" "}<span class="muted">{formatSize(a.bytes.length)}</span>
                      </>
                    )}
                  </li>
                ))}
              </ul>
            </section>
          )}
        </>
      )}
    </article>
  );
}

/** A large attachment (a reference part): fetched, decrypted and verified only when the reader asks for it. */
function LargeAttachment(props: { bytes: Uint8Array; onError: (message: string | null) => void }) {
  const reference = useMemo(() => readReference(props.bytes), [props.bytes]);
  const [busy, setBusy] = useState(false);
  if (!reference) return <span class="error">An attachment reference that does not read: it was not saved.</span>;
  const name = reference.name.replace(/^.*[\\/]/, "") || "attachment";
  return (
    <>
      <button
        type="button"
        class="secondary"
        disabled={busy}
        onClick={async () => {
          props.onError(null);
          setBusy(true);
          try {
            offerDownload(await openLargeAttachment(reference), name);
          } catch (caught) {
            props.onError(describeError(caught));
          } finally {
            setBusy(false);
          }
        }}
      >
        Download {name}
      </button>
      {" "}<span class="muted">{formatSize(reference.size)}{busy ? " — decrypting in this page…" : ""}</span>
    </>
  );
}

function SecurityPanel(props: { folder: string; signature: SignatureState; signer: string | null; authentication: Authentication | null }) {
  const e2e = props.signature === "valid"
    ? { cls: "ok", text: `End-to-end encrypted and signed by ${props.signer ?? "the sender"}: the server never had the plaintext.` }
    : props.signature === "invalid"
      ? { cls: "error", text: "The signature does NOT verify: the message was changed, or it is not from whom it says." }
      : props.signature === "unknown-signer"
        ? { cls: "error", text: "Signed by a key the key directory does not list for the sender: treat the sender as unverified." }
        : props.folder === "sent"
          ? { cls: "muted", text: "Zero-access: your Sent copy is encrypted to your key." }
          : { cls: "muted", text: "Zero-access: the sender sent this in clear; this server encrypted it to your key on arrival and keeps no plaintext." };
  const verdict = (name: string, v: Verdict) => `${name} ${v.result}${v.domain ? ` (${v.domain})` : ""}`;
  const auth = props.authentication;
  return (
    <div class="mail-security" role="group" aria-label="Security">
      <p class={e2e.cls}>{e2e.text}</p>
      {props.folder === "inbox" && (
        <p class="muted">
          {auth
            ? [verdict("SPF", auth.spf), ...(auth.dkim.length === 0 ? ["DKIM none"] : auth.dkim.map((d) => verdict("DKIM", d))), verdict("DMARC", auth.dmarc) + (auth.dmarc.result === "fail" && auth.dmarcPolicy ? ` — policy ${auth.dmarcPolicy}` : "")].join(" · ")
            : "SPF, DKIM and DMARC: not recorded for this message."}
        </p>
      )}
    </div>
  );
}

/** The address in a From header ("Name <a@b>" or "a@b"). */
function addressIn(header: string): string | null {
  const angle = /<([^<>@\s]+@[^<>@\s]+)>/.exec(header);
  if (angle) return angle[1]!.toLowerCase();
  const bare = /^\s*([^<>@\s]+@[^<>@\s]+)\s*$/.exec(header);
  return bare ? bare[1]!.toLowerCase() : null;
}

function formatSize(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
