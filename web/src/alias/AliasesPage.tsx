import { useEffect, useState } from "preact/hooks";
import { describeError } from "../api/messages";
import { Link } from "../app/Link";
import { Busy, ErrorBox, Field, Page } from "../app/ui";
import { aliasApi, type Alias, type Recipient, type Usage } from "./api";
import { AliasNav, CopyButton, CounterList } from "./parts";

/** /app/alias: usage against the plan, a new alias, and every alias with its counters. */
export function AliasesPage() {
  const [aliases, setAliases] = useState<Alias[] | null>(null);
  const [recipients, setRecipients] = useState<Recipient[]>([]);
  const [domains, setDomains] = useState<string[]>([]);
  const [usage, setUsage] = useState<Usage | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function load(): Promise<void> {
    try {
      const [a, r, d, u] = await Promise.all([aliasApi.aliases(), aliasApi.recipients(), aliasApi.domains(), aliasApi.usage()]);
      setAliases(a.aliases);
      setRecipients(r.recipients);
      setDomains(d.domains.map((domain) => domain.name));
      setUsage(u);
      setError(null);
    } catch (caught) {
      setError(describeError(caught));
    }
  }

  useEffect(() => {
    void load();
  }, []);

  const verified = recipients.filter((r) => r.verified);
  return (
    <Page title="Aliases" lead="Addresses that forward to your real mailbox without revealing it. Replies go back through the alias.">
      <AliasNav />
      <ErrorBox message={error} />
      {usage && <UsagePanel usage={usage} />}
      {aliases === null && !error && <p role="status" class="muted">Loading your aliases…</p>}
      {aliases !== null && domains.length === 0 && (
        <p class="panel">This server has no alias domain configured, so it cannot create aliases. Ask its operator.</p>
      )}
      {aliases !== null && domains.length > 0 && verified.length === 0 && (
        <div class="panel">
          <h2>First, a mailbox to forward to</h2>
          <p>Aliases forward to mailboxes you confirmed. <Link href="/app/alias/recipients">Add a recipient</Link> and open the link Veil mails to it.</p>
        </div>
      )}
      {aliases !== null && domains.length > 0 && verified.length > 0 && (
        <CreateAliasForm domains={domains} recipients={verified} onCreated={() => void load()} />
      )}
      {aliases !== null && (
        <>
          <h2>Your aliases ({aliases.length})</h2>
          {aliases.length === 0 ? (
            <p class="muted">No aliases yet.</p>
          ) : (
            <ul class="items" aria-label="Aliases">
              {aliases.map((alias) => <AliasItem key={alias.id} alias={alias} />)}
            </ul>
          )}
        </>
      )}
    </Page>
  );
}

function UsagePanel(props: { usage: Usage }) {
  const u = props.usage;
  return (
    <section class="panel" aria-labelledby="usage-heading">
      <h2 id="usage-heading">Today's usage</h2>
      <p class="muted">Plan <strong>{u.plan}</strong>, day {u.day} (UTC). At the forwarding limit, mail to your aliases waits until tomorrow.</p>
      <div class="meter">
        <span id="usage-forwards">Forwarded and replied: {u.forwardsToday} of {u.forwardsLimit}</span>
        <progress aria-labelledby="usage-forwards" max={u.forwardsLimit} value={Math.min(u.forwardsToday, u.forwardsLimit)} />
      </div>
      <div class="meter">
        <span id="usage-creates">New aliases: {u.createdToday} of {u.createsLimit}</span>
        <progress aria-labelledby="usage-creates" max={u.createsLimit} value={Math.min(u.createdToday, u.createsLimit)} />
      </div>
    </section>
  );
}

function AliasItem(props: { alias: Alias }) {
  const a = props.alias;
  return (
    <li class="item" data-alias={a.address}>
      <h3>
        <span class="address">{a.address}</span>
        <span class={a.enabled ? "badge on" : "badge off"}>{a.enabled ? "on" : a.disabledAction === "discard" ? "off: discards" : "off: rejects"}</span>
      </h3>
      {(a.label || a.note) && (
        <p class="meta">
          {a.label && <strong>{a.label}</strong>}
          {a.label && a.note && " · "}
          {a.note && <span>{a.note}</span>}
        </p>
      )}
      <CounterList counters={a.counters} />
      <div class="tools">
        <CopyButton value={a.address} label={`Copy ${a.address}`} />
        <Link href={`/app/alias/a/${a.id}`} class="button small secondary">Manage {a.address}</Link>
      </div>
    </li>
  );
}

function CreateAliasForm(props: { domains: string[]; recipients: Recipient[]; onCreated: () => void }) {
  const [kind, setKind] = useState<"random" | "prefix">("random");
  const [prefix, setPrefix] = useState("");
  const [domain, setDomain] = useState(props.domains[0] ?? "");
  const [label, setLabel] = useState("");
  const [note, setNote] = useState("");
  const [chosen, setChosen] = useState<Set<string>>(new Set(props.recipients.map((r) => r.id)));
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<Alias | null>(null);

  return (
    <form
      class="panel"
      aria-labelledby="create-heading"
      onSubmit={async (event) => {
        event.preventDefault();
        setError(null);
        setCreated(null);
        if (chosen.size === 0) {
          setError("Choose at least one mailbox to forward to.");
          return;
        }
        setBusy("Creating the alias…");
        try {
          const alias = await aliasApi.create({
            prefix: kind === "prefix" ? prefix.trim() : null,
            domain: domain || null,
            label: label.trim() || null,
            note: note.trim() || null,
            recipientIds: [...chosen],
          });
          setCreated(alias);
          setPrefix("");
          setLabel("");
          setNote("");
          props.onCreated();
        } catch (caught) {
          setError(describeError(caught));
        } finally {
          setBusy(null);
        }
      }}
    >
      <h2 id="create-heading">New alias</h2>
      <fieldset>
        <legend>Address</legend>
        <label class="check">
          <input type="radio" name="kind" checked={kind === "random"} onChange={() => setKind("random")} />
          <span>Random words (like amber.river42)</span>
        </label>
        <label class="check">
          <input type="radio" name="kind" checked={kind === "prefix"} onChange={() => setKind("prefix")} />
          <span>Starting with a word of mine (like shop.x7k2q)</span>
        </label>
        {kind === "prefix" && (
          <Field label="Prefix" name="prefix" value={prefix} onInput={setPrefix} required
            hint="1 to 32 letters, digits, - or _; random characters are added after it." />
        )}
      </fieldset>
      {props.domains.length > 1 ? (
        <label>
          <span>Domain</span>
          <select name="domain" value={domain} onChange={(e) => setDomain((e.currentTarget as HTMLSelectElement).value)}>
            {props.domains.map((d) => <option key={d} value={d}>{d}</option>)}
          </select>
        </label>
      ) : (
        <p>Domain: <strong>{domain}</strong></p>
      )}
      <Field label="Label (optional)" name="label" value={label} onInput={setLabel} hint="Up to 64 characters, to find it again." />
      <label>
        <span>Note (optional)</span>
        <textarea name="note" rows={2} maxLength={1000} value={note} onInput={(e) => setNote((e.currentTarget as HTMLTextAreaElement).value)} />
        <small class="muted">Up to 1000 characters. Stored encrypted on the server, which can read it when you ask for it.</small>
      </label>
      <fieldset>
        <legend>Forward to</legend>
        {props.recipients.map((r) => (
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
            <span>{r.email}</span>
          </label>
        ))}
      </fieldset>
      <button type="submit" disabled={busy !== null}>Create alias</button>
      <Busy phase={busy} />
      <ErrorBox message={error} />
      {created && (
        <p class="ok" role="status">
          Created <span class="address" id="created-address">{created.address}</span>.
        </p>
      )}
    </form>
  );
}
