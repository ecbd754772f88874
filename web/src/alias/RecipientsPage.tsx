import { useEffect, useState } from "preact/hooks";
import { describeError } from "../api/messages";
import { ErrorBox, Field, Page } from "../app/ui";
import { aliasApi, type Recipient } from "./api";
import { AliasNav, Time } from "./parts";

/** /app/alias/recipients: the real mailboxes aliases forward to; each is confirmed through a mailed link. */
export function RecipientsPage() {
  const [recipients, setRecipients] = useState<Recipient[] | null>(null);
  const [email, setEmail] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [removing, setRemoving] = useState<string | null>(null);

  async function load(): Promise<void> {
    try {
      setRecipients((await aliasApi.recipients()).recipients);
    } catch (caught) {
      setError(describeError(caught));
    }
  }

  async function act(action: () => Promise<unknown>, done: string): Promise<void> {
    setError(null);
    setNotice(null);
    try {
      await action();
      setNotice(done);
      await load();
    } catch (caught) {
      setError(describeError(caught));
    }
  }

  useEffect(() => {
    void load();
  }, []);

  return (
    <Page title="Recipients" lead="The mailboxes your aliases forward to. Veil forwards to a mailbox only after someone opened the link it mails there.">
      <AliasNav />
      <form
        class="panel"
        aria-labelledby="add-heading"
        onSubmit={async (event) => {
          event.preventDefault();
          const address = email.trim();
          await act(async () => {
            await aliasApi.addRecipient(address);
            setEmail("");
          }, `Veil mailed a confirmation link to ${address}. Open it there to start forwarding.`);
        }}
      >
        <h2 id="add-heading">Add a mailbox</h2>
        <Field label="Email address" name="recipient" type="email" autocomplete="email" value={email} onInput={setEmail} required />
        <button type="submit">Add and send the link</button>
      </form>
      {notice && <p class="ok" role="status">{notice}</p>}
      <ErrorBox message={error} />
      {recipients === null && !error && <p role="status" class="muted">Loading…</p>}
      {recipients !== null && recipients.length === 0 && <p class="muted">No recipients yet.</p>}
      {recipients !== null && recipients.length > 0 && (
        <ul class="items" aria-label="Recipients">
          {recipients.map((r) => (
            <li class="item" key={r.id} data-recipient={r.email}>
              <h3>
                <span class="address">{r.email}</span>
                {r.verified ? <span class="badge on">confirmed</span> : <span class="badge off">waiting for confirmation</span>}
                {r.paused && <span class="badge off">paused</span>}
              </h3>
              <p class="meta muted">
                Added <Time at={r.createdAt} />
                {r.verifiedAt && <>, confirmed <Time at={r.verifiedAt} /></>}.
                {r.paused && r.pausedReason === "hard-bounces" && " Forwarding stopped because mail to it bounced repeatedly."}
              </p>
              <div class="tools">
                {!r.verified && (
                  <button type="button" class="secondary small" onClick={() => act(() => aliasApi.resendVerification(r.id), `A new link was mailed to ${r.email}.`)}>
                    Send the link to {r.email} again
                  </button>
                )}
                {r.paused && (
                  <button type="button" class="secondary small" onClick={() => act(() => aliasApi.resumeRecipient(r.id), `Forwarding to ${r.email} resumed.`)}>
                    Resume {r.email}
                  </button>
                )}
                {removing === r.id ? (
                  <>
                    <span>Remove it from every alias?</span>
                    <button type="button" class="danger small" onClick={() => act(() => aliasApi.removeRecipient(r.id), `${r.email} was removed.`)}>
                      Yes, remove {r.email}
                    </button>
                    <button type="button" class="secondary small" onClick={() => setRemoving(null)}>Keep it</button>
                  </>
                ) : (
                  <button type="button" class="secondary small" onClick={() => setRemoving(r.id)}>Remove {r.email}…</button>
                )}
              </div>
            </li>
          ))}
        </ul>
      )}
    </Page>
  );
}
