import { useEffect, useState } from "preact/hooks";
import { ApiError } from "../api/client";
import { describeError } from "../api/messages";
import { Link } from "../app/Link";
import type { RouteProps } from "../app/router";
import { navigate } from "../app/router";
import { ErrorBox, Field, Page } from "../app/ui";
import { aliasApi, type Alias, type Contact, type DisabledAction, type Recipient } from "./api";
import { AliasNav, CopyButton, CounterList, Time } from "./parts";

/** /app/alias/a/:id: one alias: counters, settings (on/off, label, note, mailboxes), contacts, delete. */
export function AliasPage(props: RouteProps) {
  const id = props.params.id!;
  const [alias, setAlias] = useState<Alias | null>(null);
  const [recipients, setRecipients] = useState<Recipient[]>([]);
  const [contacts, setContacts] = useState<Contact[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [missing, setMissing] = useState(false);

  async function load(): Promise<void> {
    try {
      const [a, r, c] = await Promise.all([aliasApi.alias(id), aliasApi.recipients(), aliasApi.contacts(id)]);
      setAlias(a);
      setRecipients(r.recipients);
      setContacts(c.contacts);
      setError(null);
    } catch (caught) {
      if (caught instanceof ApiError && caught.code === "not-found") setMissing(true);
      else setError(describeError(caught));
    }
  }

  useEffect(() => {
    void load();
  }, [id]);

  if (missing) {
    return (
      <Page title="Alias not found" lead="This alias does not exist (any more) in your account.">
        <p><Link href="/app/alias">Back to your aliases</Link></p>
      </Page>
    );
  }
  return (
    <Page title={alias ? alias.address : "Alias"}>
      <AliasNav />
      <ErrorBox message={error} />
      {!alias && !error && <p role="status" class="muted">Loading…</p>}
      {alias && (
        <>
          <p>
            <span class="address">{alias.address}</span> <CopyButton value={alias.address} label={`Copy ${alias.address}`} />
          </p>
          <p class="muted">Created <Time at={alias.createdAt} />.</p>
          <h2>Counters</h2>
          <CounterList counters={alias.counters} />
          <Settings alias={alias} recipients={recipients} onSaved={setAlias} />
          <Contacts alias={alias} contacts={contacts} onChanged={() => void load()} />
          <DeleteAlias alias={alias} />
        </>
      )}
    </Page>
  );
}

function Settings(props: { alias: Alias; recipients: Recipient[]; onSaved: (alias: Alias) => void }) {
  const a = props.alias;
  const [enabled, setEnabled] = useState(a.enabled);
  const [action, setAction] = useState<DisabledAction>(a.disabledAction);
  const [label, setLabel] = useState(a.label ?? "");
  const [note, setNote] = useState(a.note ?? "");
  const [chosen, setChosen] = useState<Set<string>>(new Set(a.recipientIds));
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const usable = props.recipients.filter((r) => r.verified || chosen.has(r.id));

  return (
    <form
      class="panel"
      aria-labelledby="settings-heading"
      onSubmit={async (event) => {
        event.preventDefault();
        setError(null);
        setSaved(false);
        if (chosen.size === 0) {
          setError("Choose at least one mailbox to forward to.");
          return;
        }
        setBusy(true);
        try {
          const next = await aliasApi.change(a.id, { enabled, disabledAction: action, label: label.trim(), note: note.trim(), recipientIds: [...chosen] });
          props.onSaved(next);
          setSaved(true);
        } catch (caught) {
          setError(describeError(caught));
        } finally {
          setBusy(false);
        }
      }}
    >
      <h2 id="settings-heading">Settings</h2>
      <label class="check">
        <input type="checkbox" name="enabled" checked={enabled} onChange={(e) => setEnabled((e.currentTarget as HTMLInputElement).checked)} />
        <span>Forward mail sent to this alias</span>
      </label>
      {!enabled && (
        <fieldset>
          <legend>While it is off</legend>
          <label class="check">
            <input type="radio" name="action" checked={action === "reject"} onChange={() => setAction("reject")} />
            <span>Reject: senders get a bounce saying the address does not exist</span>
          </label>
          <label class="check">
            <input type="radio" name="action" checked={action === "discard"} onChange={() => setAction("discard")} />
            <span>Discard: accept and drop it silently (counted as blocked)</span>
          </label>
        </fieldset>
      )}
      <Field label="Label" name="label" value={label} onInput={setLabel} hint="Up to 64 characters; empty removes it." />
      <label>
        <span>Note</span>
        <textarea name="note" rows={2} maxLength={1000} value={note} onInput={(e) => setNote((e.currentTarget as HTMLTextAreaElement).value)} />
      </label>
      <fieldset>
        <legend>Forward to</legend>
        {usable.map((r) => (
          <label class="check" key={r.id}>
            <input
              type="checkbox"
              checked={chosen.has(r.id)}
              onChange={(e) => {
                const next = new Set(chosen);
                if ((e.currentTarget as HTMLInputElement).checked) next.add(r.id);
                else next.delete(r.id);
                setChosen(next);
              }}
            />
            <span>{r.email}{!r.verified && " (not confirmed)"}{r.paused && " (paused)"}</span>
          </label>
        ))}
      </fieldset>
      <button type="submit" disabled={busy}>Save</button>
      {saved && <p class="ok" role="status">Saved.</p>}
      <ErrorBox message={error} />
    </form>
  );
}

function Contacts(props: { alias: Alias; contacts: Contact[]; onChanged: () => void }) {
  const [address, setAddress] = useState("");
  const [error, setError] = useState<string | null>(null);

  async function act(action: () => Promise<unknown>): Promise<void> {
    setError(null);
    try {
      await action();
      props.onChanged();
    } catch (caught) {
      setError(describeError(caught));
    }
  }

  return (
    <section aria-labelledby="contacts-heading">
      <h2 id="contacts-heading">Contacts ({props.contacts.length})</h2>
      <p class="muted">
        Everyone who wrote to this alias. To write to a contact, send from one of your confirmed mailboxes to its reverse
        address: it leaves from {props.alias.address}.
      </p>
      <ErrorBox message={error} />
      {props.contacts.length > 0 && (
        <ul class="items" aria-label="Contacts">
          {props.contacts.map((c) => (
            <li class="item" key={c.id} data-contact={c.address}>
              <h3>
                <span class="address">{c.address}</span>
                {c.blocked && <span class="badge off">blocked</span>}
              </h3>
              <p class="meta">
                Reverse address: <span class="address">{c.reverseAddress}</span>{" "}
                <CopyButton value={c.reverseAddress} label={`Copy the reverse address for ${c.address}`} />
              </p>
              <p class="meta muted">
                Forwarded {c.forwarded} · blocked {c.blockedCount} · replied {c.replied}
                {c.lastEmailAt && <> · last mail <Time at={c.lastEmailAt} /></>}
              </p>
              <div class="tools">
                <button type="button" class="secondary small" onClick={() => act(() => aliasApi.blockContact(c.id, !c.blocked))}>
                  {c.blocked ? `Unblock ${c.address}` : `Block ${c.address}`}
                </button>
                <button type="button" class="secondary small" onClick={() => act(() => aliasApi.removeContact(c.id))}>
                  Remove {c.address}
                </button>
              </div>
            </li>
          ))}
        </ul>
      )}
      <form
        class="row"
        onSubmit={async (event) => {
          event.preventDefault();
          await act(async () => {
            await aliasApi.addContact(props.alias.id, address.trim());
            setAddress("");
          });
        }}
      >
        <Field label="Start a conversation with" name="contact" type="email" value={address} onInput={setAddress} required />
        <button type="submit">Add contact</button>
      </form>
    </section>
  );
}

/** Deleting is final (the address is never issued again), so it takes a second, explicit click. */
function DeleteAlias(props: { alias: Alias }) {
  const [asking, setAsking] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <section aria-labelledby="delete-heading">
      <h2 id="delete-heading">Delete</h2>
      {!asking ? (
        <button type="button" class="secondary" onClick={() => setAsking(true)}>Delete this alias…</button>
      ) : (
        <div class="confirm" role="group" aria-labelledby="delete-question">
          <p id="delete-question">
            Delete <strong>{props.alias.address}</strong> for good? Mail to it and to its contacts' reverse addresses will
            bounce, and the address can never be used again. To stop mail for a while, turn forwarding off instead.
          </p>
          <div class="actions">
            <button
              type="button"
              class="danger"
              onClick={async () => {
                try {
                  await aliasApi.remove(props.alias.id);
                  navigate("/app/alias");
                } catch (caught) {
                  setError(describeError(caught));
                }
              }}
            >
              Yes, delete {props.alias.address}
            </button>
            <button type="button" class="secondary" onClick={() => setAsking(false)}>Keep it</button>
          </div>
          <ErrorBox message={error} />
        </div>
      )}
    </section>
  );
}
