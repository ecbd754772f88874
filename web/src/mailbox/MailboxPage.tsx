// The mailbox in the browser (issue 21 points 1–3): every address's key opens in the mail worker from the user key
// (user key → token → address key, as the C# SDK), the folders the server has (Inbox, Sent) list from their sealed
// summaries decrypted in that worker, in a list that renders only the rows in view (10,000 rows stay smooth), and a
// message opens in the reader (MessageView), which renders HTML only sanitised and sandboxed.
// The server keeps no read state and has no move or archive: read/unread is this page's memory (it resets on reload),
// and only Delete changes the server.
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import { describeError } from "../api/messages";
import { ErrorBox, Page } from "../app/ui";
import { UnlockForm } from "../identity/UnlockForm";
import * as session from "../session/store";
import { MailCrypto } from "./mailCrypto";
import { mailApi, PageSize, type Folder, type MailAddressDto, type MessageDto } from "./mailApi";
import { ComposeView } from "./ComposeView";
import { MessageView } from "./MessageView";
import type { Summary } from "./summary";
import "./messages";
import "./mail.css";

const Folders: { id: Folder; label: string }[] = [{ id: "inbox", label: "Inbox" }, { id: "sent", label: "Sent" }];
const RowHeight = 64;
const Overscan = 8;
const Batch = 100;

export interface MailRow {
  message: MessageDto;
  /** Messages in the same thread (same keyed Message-ID hash), this one included. */
  threadSize: number;
}

export default function MailboxPage() {
  if (!session.isUnlocked.value) {
    return (
      <Page title="Mail" lead="Your mailbox is locked. Enter your master password: it opens your address keys in this page and is never sent.">
        <UnlockForm text="The keys open in this page only." />
      </Page>
    );
  }
  return <Mailbox />;
}

function Mailbox() {
  const [folder, setFolder] = useState<Folder>("inbox");
  const [addresses, setAddresses] = useState<MailAddressDto[] | null>(null);
  const [messages, setMessages] = useState<MessageDto[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [selected, setSelected] = useState(0);
  const [openId, setOpenId] = useState<string | null>(null);
  const [showHelp, setShowHelp] = useState(false);
  const [composing, setComposing] = useState(false);
  const [reload, setReload] = useState(0);
  const [, setVersion] = useState(0);
  const summaries = useRef(new Map<string, Summary | null>()).current;
  const read = useRef(new Set<string>()).current;
  const crypto = useRef<MailCrypto | null>(null);
  const ready = useRef<Promise<void> | null>(null);

  // One worker while the page is open; the keys go when it ends (leaving the page, or Lock unmounting it).
  useEffect(() => {
    const worker = new MailCrypto();
    crypto.current = worker;
    ready.current = (async () => {
      const list = await mailApi.addresses();
      const userKey = session.currentUserKey();
      if (!userKey) throw new Error("Your mailbox is locked.");
      const { failed } = await worker.unlock(userKey, list);
      if (failed.length > 0) setError(`${failed.length} of your addresses' keys did not open with your keys: they were changed on the server.`);
      setAddresses(list);
    })();
    ready.current.catch((caught: unknown) => setError(describeError(caught)));
    return () => worker.end();
  }, []);

  useEffect(() => {
    let cancelled = false;
    queue.length = 0;
    setMessages(null);
    setSelected(0);
    setOpenId(null);
    void (async () => {
      try {
        await ready.current;
        const all: MessageDto[] = [];
        const seen = new Set<string>();
        let before: string | null = null;
        for (;;) {
          const page = await mailApi.messages(folder, before);
          if (cancelled) return;
          const fresh = page.filter((m) => !seen.has(m.id));
          for (const m of fresh) seen.add(m.id);
          all.push(...fresh);
          setMessages([...all]);
          // Decrypt this page's summaries while the next page loads (the worker answers batch by batch).
          void decrypt(fresh);
          if (page.length < PageSize || fresh.length === 0) break;
          // The API pages by time alone: a page boundary inside a run of equal times is read again (deduplicated by id).
          before = new Date(Date.parse(page[page.length - 1]!.receivedAt) + 1).toISOString();
        }
      } catch (caught) {
        if (!cancelled) setError(describeError(caught));
      }
    })();
    return () => { cancelled = true; };
  }, [folder, reload]);

  // Summaries decrypt in the worker in batches of 100, one batch at a time; each batch takes the rows in view first
  // (so a jump to the bottom of 10,000 rows shows its rows at once), then the rest newest first.
  const queue = useRef<MessageDto[]>([]).current;
  const inView = useRef({ first: 0, last: 0 }).current;
  const rowsNow = useRef<MailRow[]>([]);
  const pumping = useRef(false);
  const decrypt = (list: MessageDto[]) => {
    queue.push(...list);
    void pump();
  };
  const pump = async () => {
    if (pumping.current) return;
    pumping.current = true;
    try {
      for (;;) {
        const batch: MessageDto[] = [];
        const taken = new Set<string>();
        for (const row of rowsNow.current.slice(inView.first, inView.last)) {
          if (!summaries.has(row.message.id) && batch.length < Batch) { batch.push(row.message); taken.add(row.message.id); }
        }
        while (batch.length < Batch && queue.length > 0) {
          const next = queue.shift()!;
          if (!summaries.has(next.id) && !taken.has(next.id)) { batch.push(next); taken.add(next.id); }
        }
        if (batch.length === 0 || !crypto.current) return;
        const results = await crypto.current.summaries(batch.map((m) => ({ id: m.id, addressId: m.addressId, summary: m.summary })));
        for (const r of results) summaries.set(r.id, r.summary);
        setVersion((v) => v + 1);
      }
    } catch (caught) {
      setError(describeError(caught));
    } finally {
      pumping.current = false;
    }
  };
  const onRange = (first: number, last: number) => {
    inView.first = first;
    inView.last = last;
    void pump();
  };

  // Threads: the newest message of each keyed Message-ID hash stands for the rest.
  const rows = useMemo<MailRow[]>(() => {
    if (!messages) return [];
    const sizes = new Map<string, number>();
    for (const m of messages) if (m.threadId) sizes.set(m.threadId, (sizes.get(m.threadId) ?? 0) + 1);
    const shown = new Set<string>();
    const out: MailRow[] = [];
    for (const m of messages) {
      if (m.threadId) {
        if (shown.has(m.threadId)) continue;
        shown.add(m.threadId);
      }
      out.push({ message: m, threadSize: m.threadId ? sizes.get(m.threadId)! : 1 });
    }
    return out;
  }, [messages]);
  rowsNow.current = rows;

  const open = (index: number) => {
    const row = rows[index];
    if (!row) return;
    setSelected(index);
    setOpenId(row.message.id);
    setComposing(false);
    read.add(row.message.id);
  };

  const remove = async (id: string) => {
    setError(null);
    try {
      await mailApi.remove(id);
      setMessages((list) => list?.filter((m) => m.id !== id) ?? null);
      if (openId === id) setOpenId(null);
      setStatus("Message deleted.");
    } catch (caught) {
      setError(describeError(caught));
    }
  };

  // Keyboard shortcuts (documented in the help below); ignored while typing in a field.
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement | null;
      if (event.ctrlKey || event.metaKey || event.altKey || target?.closest("input, textarea, select, [contenteditable]")) return;
      const row = rows[selected];
      switch (event.key) {
        case "j": setSelected((s) => Math.min(rows.length - 1, s + 1)); break;
        case "k": setSelected((s) => Math.max(0, s - 1)); break;
        case "Enter": if (target?.closest(".mail-list") || target === document.body) open(selected); else return; break;
        case "#": if (row) void remove(row.message.id); break;
        case "u": if (row) { if (read.has(row.message.id)) read.delete(row.message.id); else read.add(row.message.id); setVersion((v) => v + 1); } break;
        case "c": setComposing(true); setOpenId(null); break;
        case "e": setStatus("Archive is not available yet: this server keeps only Inbox and Sent."); break;
        case "?": setShowHelp((h) => !h); break;
        default: return;
      }
      event.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  });

  const addressOf = (id: string) => addresses?.find((a) => a.id === id) ?? null;
  const opened = openId ? messages?.find((m) => m.id === openId) ?? null : null;
  const unread = messages ? messages.filter((m) => !read.has(m.id)).length : 0;

  return (
    <section class="page mailbox">
      <h1 tabIndex={-1} class="sr-only">Mail</h1>
      <div class="mail-bar">
        <nav aria-label="Folders">
          <ul class="mail-folders">
            {Folders.map((f) => (
              <li key={f.id}>
                <button type="button" class={f.id === folder ? "" : "secondary"} aria-current={f.id === folder ? "page" : undefined} onClick={() => setFolder(f.id)}>
                  {f.label}{f.id === folder && messages ? ` (${unread} unread)` : ""}
                </button>
              </li>
            ))}
          </ul>
        </nav>
        <div class="mail-bar-actions">
          <button type="button" onClick={() => { setComposing(true); setOpenId(null); }} disabled={!addresses || addresses.length === 0}>Compose</button>
          <button type="button" class="secondary" aria-expanded={showHelp} onClick={() => setShowHelp((h) => !h)}>Keyboard shortcuts</button>
        </div>
      </div>
      {showHelp && <ShortcutHelp />}
      <ErrorBox message={error} />
      <p role="status" class="muted">{status ?? (messages === null ? "Opening your mailbox…" : `${rows.length} ${rows.length === 1 ? "conversation" : "conversations"}, ${summaries.size < messages.length ? `${summaries.size} of ${messages.length} decrypted` : "all decrypted in this page"}.`)}</p>
      <div class="mail-panes">
        {messages !== null && (rows.length === 0
          ? <p class="mail-empty">No messages in {folder === "inbox" ? "your Inbox" : "Sent"}.</p>
          : <MailList rows={rows} selected={selected} summaries={summaries} read={read} folder={folder} onOpen={open} onRange={onRange} />)}
        {composing && addresses && crypto.current && (
          <ComposeView
            addresses={addresses}
            crypto={crypto.current}
            onSent={(note) => { setComposing(false); setStatus(note); setReload((r) => r + 1); }}
            onClose={() => setComposing(false)}
          />
        )}
        {!composing && opened && (
          <MessageView
            key={opened.id}
            message={opened}
            summary={summaries.get(opened.id) ?? null}
            address={addressOf(opened.addressId)}
            crypto={crypto.current!}
            onDelete={() => void remove(opened.id)}
            onClose={() => setOpenId(null)}
          />
        )}
      </div>
    </section>
  );
}

function ShortcutHelp() {
  return (
    <div class="panel" role="region" aria-label="Keyboard shortcuts">
      <h2>Keyboard shortcuts</h2>
      <dl>
        <dt><kbd>j</kbd> / <kbd>k</kbd></dt><dd>next / previous message</dd>
        <dt><kbd>Enter</kbd></dt><dd>open the selected message</dd>
        <dt><kbd>c</kbd></dt><dd>write a new message</dd>
        <dt><kbd>#</kbd></dt><dd>delete the selected message (for good: there is no Trash on this server yet)</dd>
        <dt><kbd>u</kbd></dt><dd>mark read / unread (kept in this page only)</dd>
        <dt><kbd>e</kbd></dt><dd>archive — not available yet: the server keeps only Inbox and Sent</dd>
        <dt><kbd>?</kbd></dt><dd>show or hide this help</dd>
      </dl>
    </div>
  );
}

function MailList(props: {
  rows: MailRow[]; selected: number; summaries: Map<string, Summary | null>; read: Set<string>; folder: Folder;
  onOpen: (index: number) => void; onRange: (first: number, last: number) => void;
}) {
  const box = useRef<HTMLDivElement>(null);
  const spacer = useRef<HTMLDivElement>(null);
  const slice = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(640);
  const first = Math.max(0, Math.floor(scrollTop / RowHeight) - Overscan);
  const last = Math.min(props.rows.length, Math.ceil((scrollTop + height) / RowHeight) + Overscan);

  // Sizes through the CSSOM (the page's CSP allows no style attribute): the spacer is as tall as every row, and the
  // rendered window sits where its first row belongs.
  useLayoutEffect(() => { spacer.current!.style.height = `${props.rows.length * RowHeight}px`; }, [props.rows.length]);
  useLayoutEffect(() => { slice.current!.style.transform = `translateY(${first * RowHeight}px)`; }, [first]);
  useEffect(() => {
    const element = box.current!;
    const observer = new ResizeObserver(() => setHeight(element.clientHeight));
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  useEffect(() => props.onRange(first, last), [first, last]);
  // Keep the selected row in view when j/k move it.
  useEffect(() => {
    const element = box.current!;
    const top = props.selected * RowHeight;
    if (top < element.scrollTop) element.scrollTop = top;
    else if (top + RowHeight > element.scrollTop + element.clientHeight) element.scrollTop = top + RowHeight - element.clientHeight;
  }, [props.selected]);

  const activeInView = props.selected >= first && props.selected < last;
  return (
    <div
      ref={box}
      class="mail-list"
      role="listbox"
      aria-label={props.folder === "inbox" ? "Inbox" : "Sent"}
      tabIndex={0}
      aria-activedescendant={activeInView ? `mail-row-${props.selected}` : undefined}
      onScroll={(event) => setScrollTop((event.currentTarget as HTMLDivElement).scrollTop)}
    >
      <div ref={spacer} class="mail-spacer" role="none">
        <div ref={slice} role="none">
          {props.rows.slice(first, last).map((row, k) => {
            const index = first + k;
            const m = row.message;
            const summary = props.summaries.get(m.id);
            const unread = !props.read.has(m.id);
            const who = props.folder === "sent" ? (summary ? `To ${summary.to.join(", ") || "(nobody)"}` : "") : summary?.from || m.envelopeFrom || "(no sender)";
            return (
              <div
                key={m.id}
                id={`mail-row-${index}`}
                role="option"
                aria-selected={index === props.selected}
                aria-setsize={props.rows.length}
                aria-posinset={index + 1}
                class={`mail-row${unread ? " unread" : ""}${index === props.selected ? " selected" : ""}`}
                onClick={() => props.onOpen(index)}
              >
                <span class="mail-from">{unread && <span class="sr-only">Unread. </span>}{who}{row.threadSize > 1 && <span class="mail-count"> ({row.threadSize})</span>}</span>
                <span class="mail-date">{shortDate(m.receivedAt)}</span>
                <span class="mail-subject">
                  {m.gone ? `(${m.gone === "expired" ? "expired" : "view limit reached"})` : summary === undefined ? "Decrypting…" : summary === null ? "(summary does not decrypt)" : summary.subject || "(no subject)"}
                  {summary && summary.attachments.length > 0 && <span class="mail-clip" title="Attachments"> · {summary.attachments.length} attached</span>}
                </span>
                <span class="mail-snippet">{summary?.snippet ?? ""}</span>
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}

function shortDate(iso: string): string {
  const date = new Date(iso);
  const today = new Date();
  return date.toDateString() === today.toDateString()
    ? date.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" })
    : date.toLocaleDateString(undefined, { day: "numeric", month: "short", year: date.getFullYear() === today.getFullYear() ? undefined : "numeric" });
}
