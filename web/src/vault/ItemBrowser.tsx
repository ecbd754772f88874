// The list of a vault's decrypted items with search, used by the owner's vault page and the heir's claim page.
// Search runs over the decrypted items in the page: the server has only ciphertexts and could not search them.
// Field values are shown masked until asked for (a "Show" button per field), since a vault is often opened where
// others can see the screen; the format has no "hidden" flag (spec/vault.md §4), so every value is treated alike.
import { useState } from "preact/hooks";
import type { PlainFile, PlainItem } from "../crypto/vault";

export function matches(item: PlainItem, query: string): boolean {
  const q = query.trim().toLocaleLowerCase();
  if (q === "") return true;
  const haystack = [item.title, item.notes ?? "", ...item.tags, ...item.fields.flatMap((f) => [f.label, f.value]), ...item.files.map((f) => f.name)];
  return haystack.some((s) => s.toLocaleLowerCase().includes(q));
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function FieldRow(props: { label: string; value: string }) {
  const [shown, setShown] = useState(false);
  const [copied, setCopied] = useState<string | null>(null);
  const copy = async () => {
    // Copy works while the value stays masked: the screen never has to show a secret for it to be used.
    try {
      await navigator.clipboard.writeText(props.value);
      setCopied("Copied.");
    } catch {
      setCopied("This browser did not allow copying; use Show and copy it by hand.");
    }
  };
  return (
    <div class="vault-field">
      <dt>{props.label}</dt>
      <dd>
        <code class="vault-value">{shown ? props.value : "••••••••"}</code>{" "}
        <button type="button" class="secondary" aria-pressed={shown} aria-label={`${shown ? "Hide" : "Show"} ${props.label}`} onClick={() => setShown(!shown)}>
          {shown ? "Hide" : "Show"}
        </button>{" "}
        <button type="button" class="secondary" aria-label={`Copy ${props.label}`} onClick={copy}>Copy</button>
        {copied && <small class="muted" role="status"> {copied}</small>}
      </dd>
    </div>
  );
}

export function ItemView(props: { item: PlainItem; onDownload?: (file: PlainFile) => Promise<void>; actions?: preact.ComponentChildren }) {
  const { item } = props;
  const [busy, setBusy] = useState<string | null>(null);
  return (
    <article class="panel vault-item" aria-label={item.title || "Untitled item"}>
      <h3>{item.title || "Untitled item"}</h3>
      {item.tags.length > 0 && (
        <ul class="tags" aria-label="Tags">
          {item.tags.map((t, i) => <li key={i}>{t}</li>)}
        </ul>
      )}
      {item.fields.length > 0 && <dl>{item.fields.map((f, i) => <FieldRow key={i} label={f.label} value={f.value} />)}</dl>}
      {item.notes !== null && item.notes !== "" && (
        <div class="notes">
          <h4>Notes</h4>
          <p class="vault-notes">{item.notes}</p>
        </div>
      )}
      {item.files.length > 0 && (
        <ul class="files" aria-label="Files">
          {item.files.map((f) => (
            <li key={f.id}>
              <span>{f.name}</span> <small class="muted">{formatSize(f.size)}</small>{" "}
              {props.onDownload && (
                <button
                  type="button"
                  class="secondary"
                  disabled={busy === f.id}
                  onClick={async () => {
                    setBusy(f.id);
                    try {
                      await props.onDownload!(f);
                    } finally {
                      setBusy(null);
                    }
                  }}
                >
                  {busy === f.id ? "Decrypting…" : `Download ${f.name}`}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {props.actions}
    </article>
  );
}

/**
 * Items drawn at once. Search runs over every decrypted item; drawing thousands of item cards is what would make a
 * large vault slow to open (issue 16: 5,000 items listed in 2 s), so the list grows a page at a time.
 */
const PageSize = 100;

export function ItemBrowser(props: {
  items: PlainItem[];
  onDownload?: (file: PlainFile) => Promise<void>;
  actions?: (item: PlainItem) => preact.ComponentChildren;
}) {
  const [query, setQuery] = useState("");
  const [limit, setLimit] = useState(PageSize);
  const shown = props.items.filter((item) => matches(item, query));
  const visible = shown.length > limit ? shown.slice(0, limit) : shown;
  const more = shown.length - visible.length;
  return (
    <div class="vault-browser">
      <label>
        <span>Search this vault</span>
        <input type="search" value={query} onInput={(e) => { setQuery((e.currentTarget as HTMLInputElement).value); setLimit(PageSize); }} />
      </label>
      <p class="muted" role="status" aria-live="polite">
        {shown.length === props.items.length ? `${props.items.length} item${props.items.length === 1 ? "" : "s"}` : `${shown.length} of ${props.items.length} items match`}
      </p>
      {visible.map((item) => <ItemView key={item.id} item={item} onDownload={props.onDownload} actions={props.actions?.(item)} />)}
      {more > 0 && (
        <button type="button" class="secondary" onClick={() => setLimit(limit + PageSize)}>
          Show {Math.min(PageSize, more)} more ({more} not shown)
        </button>
      )}
    </div>
  );
}
