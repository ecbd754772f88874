// Pieces the Alias pages share: their sub-navigation, a copy button, counters and dates.
import { useState } from "preact/hooks";
import { Link } from "../app/Link";
import type { Counters } from "./api";

export function AliasNav() {
  return (
    <nav aria-label="Alias" class="subnav">
      <ul>
        <li><Link href="/app/alias" nav>Aliases</Link></li>
        <li><Link href="/app/alias/recipients" nav>Recipients</Link></li>
        <li><Link href="/app/alias/log" nav>Failed deliveries</Link></li>
      </ul>
    </nav>
  );
}

/** Copies a value; where the clipboard is refused (permissions, an old browser) the user is told to copy by hand. */
export function CopyButton(props: { value: string; label: string }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  return (
    <>
      <button
        type="button"
        class="secondary small"
        aria-label={props.label}
        onClick={async () => {
          try {
            await navigator.clipboard.writeText(props.value);
            setState("copied");
          } catch {
            setState("failed");
          }
        }}
      >
        Copy
      </button>
      <span role="status" class="muted inline">
        {state === "copied" ? "Copied." : state === "failed" ? "Copying is not allowed here; select the address and copy it." : ""}
      </span>
    </>
  );
}

export function CounterList(props: { counters: Counters }) {
  const c = props.counters;
  return (
    <dl class="counters">
      <div><dt>Received</dt><dd data-counter="received">{c.received}</dd></div>
      <div><dt>Forwarded</dt><dd data-counter="forwarded">{c.forwarded}</dd></div>
      <div><dt>Blocked</dt><dd data-counter="blocked">{c.blocked}</dd></div>
      <div><dt>Replied</dt><dd data-counter="replied">{c.replied}</dd></div>
      <div><dt>Bounced</dt><dd data-counter="bounced">{c.bounced}</dd></div>
      <div><dt>Last mail</dt><dd>{c.lastEmailAt ? formatTime(c.lastEmailAt) : "never"}</dd></div>
    </dl>
  );
}

/** A time in the reader's locale and zone, with the exact UTC instant in the element for machines. */
export function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function Time(props: { at: string }) {
  return <time dateTime={props.at}>{formatTime(props.at)}</time>;
}
