import { useEffect, useState } from "preact/hooks";
import { describeError } from "../api/messages";
import { ErrorBox, Field, Page } from "../app/ui";
import { openDropName } from "../crypto/dropnamekey";
import { UnlockForm } from "../identity/UnlockForm";
import * as session from "../session/store";
import { fromBase64Url } from "../lib/bytes";
import { decryptMetadata, parseLink } from "../lib/dropformat";
import { formatBytes } from "../ui";
import { Time } from "../alias/parts";
import { dropApi, type OwnedDrop } from "./api";

const stateText: Record<OwnedDrop["state"], string> = {
  uploading: "upload not finished",
  available: "available",
  expired: "expired",
  exhausted: "download limit reached",
  "taken-down": "taken down",
};

/** What the page knows of a drop's name: read with the user key or a pasted link, locked, or only in the link. */
interface Named {
  name: string;
  size: number | null;
}

/**
 * /app/drops: the drops this account sent while signed in. The server has each drop's size, limits and expiry, but
 * not its name: the name is inside the metadata ciphertext. A drop sent with the master password at hand carries the
 * name key wrapped under the user key (spec/drop.md §8), so once unlocked this page opens those names itself; for
 * older drops (and ones sent without it) pasting the link decrypts the name here, in the page.
 */
export function DropsPage() {
  const [drops, setDrops] = useState<OwnedDrop[] | null>(null);
  const [names, setNames] = useState<Map<string, Named>>(new Map());
  const unlocked = session.isUnlocked.value;
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<string | null>(null);

  async function load(): Promise<void> {
    try {
      setDrops((await dropApi.mine()).drops);
    } catch (caught) {
      setError(describeError(caught));
    }
  }

  useEffect(() => {
    void load();
  }, []);

  // Names kept for the account open here with the user key; nothing about them is sent anywhere.
  useEffect(() => {
    const userKey = session.currentUserKey();
    if (!drops || !userKey) return;
    let current = true;
    void (async () => {
      const opened = new Map(names);
      for (const d of drops) {
        const blob = d.nameKey && d.metadata ? fromBase64Url(d.metadata) : null;
        const metadata = blob ? await openDropName(userKey, d.nameKey!, d.id, blob) : null;
        if (metadata) opened.set(d.id, { name: metadata.name, size: metadata.size });
      }
      if (current) setNames(opened);
    })();
    return () => {
      current = false;
    };
  }, [drops, unlocked]);

  const locked = !unlocked && (drops ?? []).some((d) => d.nameKey !== null);

  return (
    <Page title="Your drops" lead="Files you sent while signed in. Only people with a drop's link can open it; deleting it here makes the link stop working at once.">
      <p><a href="/drop" class="button">Send a drop</a></p>
      <ErrorBox message={error} />
      {notice && <p class="ok" role="status">{notice}</p>}
      {drops === null && !error && <p role="status" class="muted">Loading…</p>}
      {drops !== null && drops.length === 0 && <p class="muted">No drops. Drops sent while signed out are not listed; delete those with their owner token.</p>}
      {drops !== null && drops.length > 0 && (
        <>
          {locked && <UnlockForm heading="Read your drops' names" text="The names are encrypted with your account's key. Your master password opens it in this page and is never sent." />}
          <NameFromLink drops={drops} onName={(id, name) => setNames(new Map(names).set(id, { name, size: null }))} />
          <ul class="items" aria-label="Drops">
            {drops.map((d) => (
              <li class="item" key={d.id} data-drop={d.id}>
                <h3>
                  {names.get(d.id)?.name ?? (
                    <span class="muted">{d.nameKey === null ? "Name only in the link (sent without your key)" : unlocked ? "Name does not open" : "Name locked: unlock above"}</span>
                  )}
                  <span class={d.state === "available" ? "badge on" : "badge off"}>{stateText[d.state]}</span>
                  {d.passwordProtected && <span class="badge">password</span>}
                </h3>
                <dl class="counters">
                  <div><dt>Drop</dt><dd class="address">{d.id}</dd></div>
                  {names.get(d.id)?.size != null
                    ? <div><dt>Size</dt><dd>{formatBytes(names.get(d.id)!.size!)}</dd></div>
                    : <div><dt>Encrypted size</dt><dd>{formatBytes(d.contentSize)}</dd></div>}
                  <div>
                    <dt>Downloads</dt>
                    <dd>{d.maxDownloads === null ? `${d.downloads}, no limit` : `${d.downloads} of ${d.maxDownloads} (${Math.max(0, d.maxDownloads - d.downloads)} left)`}</dd>
                  </div>
                  <div><dt>Sent</dt><dd><Time at={d.createdAt} /></dd></div>
                  <div><dt>{d.state === "expired" ? "Expired" : "Expires"}</dt><dd>{d.expiresAt ? <Time at={d.expiresAt} /> : "when the upload finishes"}</dd></div>
                </dl>
                <div class="tools">
                  {deleting === d.id ? (
                    <>
                      <span>Delete it now? The link stops working.</span>
                      <button
                        type="button"
                        class="danger small"
                        aria-label={`Yes, delete drop ${d.id}`}
                        onClick={async () => {
                          setError(null);
                          try {
                            await dropApi.remove(d.id);
                            setNotice("The drop was deleted. Its link no longer works.");
                            setDeleting(null);
                            await load();
                          } catch (caught) {
                            setError(describeError(caught));
                          }
                        }}
                      >
                        Yes, delete it
                      </button>
                      <button type="button" class="secondary small" onClick={() => setDeleting(null)}>Keep it</button>
                    </>
                  ) : (
                    <button type="button" class="secondary small" aria-label={`Delete drop ${d.id}…`} onClick={() => setDeleting(d.id)}>Delete…</button>
                  )}
                </div>
              </li>
            ))}
          </ul>
        </>
      )}
    </Page>
  );
}

/** Pasting a drop's link decrypts its name in this page; the link and its key are never sent anywhere. */
function NameFromLink(props: { drops: OwnedDrop[]; onName: (id: string, name: string) => void }) {
  const [link, setLink] = useState("");
  const [error, setError] = useState<string | null>(null);
  return (
    <form
      class="panel"
      aria-labelledby="name-heading"
      onSubmit={async (event) => {
        event.preventDefault();
        setError(null);
        const parsed = parseLink(link.trim());
        if (!parsed || !props.drops.some((d) => d.id === parsed.id)) {
          setError("That is not the link of one of the drops below.");
          return;
        }
        if (!parsed.key) {
          setError("This link carries no key (a password drop): open it to see its name.");
          return;
        }
        try {
          const info = await dropApi.info(parsed.id);
          const blob = fromBase64Url(info.metadata);
          const result = blob ? await decryptMetadata(parsed.key, parsed.id, blob) : null;
          if (!result?.ok) {
            setError("This link's key does not open the drop.");
            return;
          }
          props.onName(parsed.id, result.metadata.name);
          setLink("");
        } catch (caught) {
          setError(describeError(caught));
        }
      }}
    >
      <h2 id="name-heading">See a drop's name</h2>
      <Field label="Drop link" name="link" value={link} onInput={setLink} autocomplete="off"
        hint="The name is encrypted with the key in the link, which the server never gets. Paste the link to read it here; nothing is sent." />
      <button type="submit">Show the name</button>
      <ErrorBox message={error} />
    </form>
  );
}
