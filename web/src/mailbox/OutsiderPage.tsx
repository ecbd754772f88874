// The outsider's page for password mail: the notice's link `/app/m/{id}` opens here. The person types the password
// the sender gave them another way; the key is derived in the KDF worker (Argon2id, the cost the package names),
// the package is opened here, and the message is shown — nothing of it, nor the password, ever goes to the server.
// The package is fetched once (that counts one view) and kept in this page's memory, so a mistyped password is tried
// again on the same ciphertext without costing another view. The person may reply: the text is sealed here to the
// reply key that came inside the package, and only the sender can open it.
import { useEffect, useId, useRef, useState } from "preact/hooks";
import { describeError } from "../api/messages";
import { Busy, ErrorBox, Field, Page } from "../app/ui";
import { deriveRawInWorker, warmKdfWorker } from "../crypto/kdf";
import { openPackage, readHeader, sealReply } from "../crypto/outsidermail";
import { ApiError } from "../lib/api";
import { toBase64Url } from "../lib/bytes";
import { offerDownload } from "../lib/sink";
import { outsiderApi, type PackageInfo } from "./api";
import { readMessage, type ReadMessage } from "./mime";
import "./messages";

type Step =
  | { kind: "loading" }
  | { kind: "ask"; info: PackageInfo }
  | { kind: "open"; message: ReadMessage }
  | { kind: "gone"; message: string };

const IdShape = /^[A-Za-z0-9_-]{22}$/;
const MaxReply = 64 * 1024;

export default function OutsiderPage(props: { params: Record<string, string> }) {
  const id = props.params.id ?? "";
  const [step, setStep] = useState<Step>(IdShape.test(id) ? { kind: "loading" } : { kind: "gone", message: describeError(new ApiError(404, "message-not-found")) });
  const [password, setPassword] = useState("");
  const [phase, setPhase] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reply, setReply] = useState("");
  const [replied, setReplied] = useState<string | null>(null);
  // The ciphertext (fetched once) and the reply key: this page's memory only, wiped when it closes.
  const held = useRef<{ pkg: Uint8Array | null; replyKey: Uint8Array<ArrayBuffer> | null }>({ pkg: null, replyKey: null });
  const replyId = useId();

  useEffect(() => {
    if (!IdShape.test(id)) return;
    outsiderApi.info(id).then(
      (info) => setStep({ kind: "ask", info }),
      (caught) => setStep({ kind: "gone", message: describeError(caught) }),
    );
    return () => {
      held.current.pkg?.fill(0);
      held.current.replyKey?.fill(0);
      held.current = { pkg: null, replyKey: null };
    };
  }, [id]);

  const open = async (event: Event) => {
    event.preventDefault();
    if (password.length === 0) {
      setError("Enter the password the sender gave you.");
      return;
    }
    setError(null);
    try {
      if (!held.current.pkg) {
        setPhase("Fetching the encrypted message…");
        held.current.pkg = await outsiderApi.fetchPackage(id);
      }
      const pkg = held.current.pkg;
      const header = readHeader(pkg);
      if (!header) {
        setError("This message is not in a format this page can open.");
        return;
      }
      setPhase("Deriving the key from the password (a few seconds)…");
      const key = await deriveRawInWorker(password, toBase64Url(header.salt), header);
      setPhase("Decrypting…");
      const opened = openPackage(pkg, key);
      key.fill(0);
      if (!opened) {
        setError("That password does not open this message. Check it (letters, capitals, spaces) and try again.");
        return;
      }
      held.current.replyKey = opened.replyKey;
      const message = readMessage(opened.mime);
      opened.mime.fill(0);
      setPassword("");
      setStep({ kind: "open", message });
    } catch (caught) {
      if (caught instanceof ApiError && (caught.code === "message-expired" || caught.code === "view-limit-reached" || caught.code === "message-not-found")) {
        setStep({ kind: "gone", message: describeError(caught) });
      } else {
        setError(describeError(caught));
      }
    } finally {
      setPhase(null);
    }
  };

  const send = async (event: Event) => {
    event.preventDefault();
    const text = reply.trim();
    if (text.length === 0) {
      setError("Write a reply first.");
      return;
    }
    if (new TextEncoder().encode(text).length > MaxReply) {
      setError("The reply is too long: at most 64 KiB of text.");
      return;
    }
    if (!held.current.replyKey) return;
    setError(null);
    setPhase("Encrypting your reply for the sender…");
    try {
      const sealed = await sealReply(held.current.replyKey, text);
      let binary = "";
      for (const byte of sealed) binary += String.fromCharCode(byte);
      await outsiderApi.reply(id, btoa(binary));
      setReply("");
      setReplied("Your reply was encrypted in this page and sent. Only the sender can read it.");
    } catch (caught) {
      setError(describeError(caught));
    } finally {
      setPhase(null);
    }
  };

  if (step.kind === "open") {
    const m = step.message;
    return (
      <Page title={m.subject || "(no subject)"} lead="Decrypted in this browser with your password; the server cannot read this message.">
        <ErrorBox message={error} />
        <dl class="panel">
          <dt>From</dt><dd>{m.from}</dd>
          <dt>To</dt><dd>{m.to}</dd>
          {m.date && <><dt>Date</dt><dd>{m.date}</dd></>}
        </dl>
        <div class="panel mail-body" aria-label="Message">{m.text ?? (m.html ? "This message has only an HTML version: download it below." : "(no text)")}</div>
        {(m.attachments.length > 0 || m.html) && (
          <section aria-labelledby={replyId + "-files"}>
            <h2 id={replyId + "-files"}>Attachments</h2>
            <ul>
              {m.attachments.map((a, i) => (
                <li key={i}>
                  <button type="button" class="secondary" onClick={() => offerDownload(new Blob([a.bytes], { type: "application/octet-stream" }), a.name)}>
                    Download {a.name}
                  </button>{" "}
                  <span class="muted">({formatSize(a.bytes.length)})</span>
                </li>
              ))}
              {m.html && (
                <li>
                  <button type="button" class="secondary" onClick={() => offerDownload(new Blob([m.html!], { type: "application/octet-stream" }), "message.html")}>
                    Download the HTML version
                  </button>{" "}
                  <span class="muted">(not shown here: open it only if you trust the sender)</span>
                </li>
              )}
            </ul>
          </section>
        )}
        <form class="panel" onSubmit={send}>
          <h2>Reply</h2>
          <div class="field">
            <label for={replyId}><span>Your reply to {m.from}</span></label>
            <textarea id={replyId} rows={6} value={reply} aria-describedby={replyId + "-hint"}
              onInput={(e) => setReply((e.currentTarget as HTMLTextAreaElement).value)} />
            <small id={replyId + "-hint"} class="muted">Encrypted in this page so that only the sender can read it. Text only.</small>
          </div>
          <Busy phase={phase} />
          {replied && <p class="ok" role="status">{replied}</p>}
          <p class="actions"><button type="submit" disabled={phase !== null}>Send the reply</button></p>
        </form>
      </Page>
    );
  }

  return (
    <Page title="A password-protected message" lead="Someone sent you a message protected by a password. It is decrypted here, in this browser; the server cannot read it.">
      <Busy phase={phase} />
      <ErrorBox message={error} />
      {step.kind === "loading" && <p role="status" class="muted">Looking up the message…</p>}
      {step.kind === "gone" && <p class="error" role="alert">{step.message}</p>}
      {step.kind === "ask" && (
        <form class="panel" onSubmit={open}>
          <Field label="Password" type="password" value={password} onInput={setPassword} autocomplete="off" required autofocus
            hint="The sender gives you the password another way; it is not in the mail. A wrong password can be tried again here." />
          <p class="muted">
            Available until {new Date(step.info.expiresAt).toLocaleString()}
            {step.info.viewsLeft !== null && `; it can be opened ${step.info.viewsLeft} more ${step.info.viewsLeft === 1 ? "time" : "times"} (opening fetches it once)`}.
          </p>
          <p class="actions"><button type="submit" disabled={phase !== null} onFocus={warmKdfWorker}>Open the message</button></p>
        </form>
      )}
    </Page>
  );
}

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
