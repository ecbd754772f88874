import { useEffect, useState } from "preact/hooks";
import { describeError } from "../api/messages";
import { Link } from "../app/Link";
import { ErrorBox, Page } from "../app/ui";
import { aliasApi, reasonText, type Alias, type LogEntry } from "./api";
import { AliasNav, Time } from "./parts";

const eventText: Record<string, string> = {
  forwarded: "forwarded",
  blocked: "blocked",
  rejected: "rejected",
  discarded: "discarded",
  replied: "reply sent",
  bounced: "bounced",
  failed: "not delivered",
};

/**
 * /app/alias/log: the routing log (times, alias, event, reason code; the server keeps no content and purges
 * entries after 7 days). Failed deliveries (failed, bounced) by default; every event on request.
 */
export function LogPage() {
  const [entries, setEntries] = useState<LogEntry[] | null>(null);
  const [aliases, setAliases] = useState<Map<string, Alias>>(new Map());
  const [all, setAll] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    void (async () => {
      try {
        const [log, list] = await Promise.all([aliasApi.log(500), aliasApi.aliases()]);
        setEntries(log.entries);
        setAliases(new Map(list.aliases.map((a) => [a.id, a])));
      } catch (caught) {
        setError(describeError(caught));
      }
    })();
  }, []);

  const shown = (entries ?? []).filter((e) => all || e.event === "failed" || e.event === "bounced");
  return (
    <Page title="Failed deliveries" lead="Mail to your aliases that did not reach your mailbox in the last 7 days, and why. Veil keeps no content, only what happened.">
      <AliasNav />
      <label class="check">
        <input type="checkbox" checked={all} onChange={(e) => setAll((e.currentTarget as HTMLInputElement).checked)} />
        <span>Show every event (forwarded, replies, blocked…)</span>
      </label>
      <ErrorBox message={error} />
      {entries === null && !error && <p role="status" class="muted">Loading…</p>}
      {entries !== null && shown.length === 0 && <p class="muted">{all ? "Nothing happened in the last 7 days." : "No failed deliveries in the last 7 days."}</p>}
      {shown.length > 0 && (
        <table class="log">
          <caption class="muted">{shown.length} {shown.length === 1 ? "entry" : "entries"}, newest first</caption>
          <thead>
            <tr><th scope="col">When</th><th scope="col">Alias</th><th scope="col">What</th><th scope="col">Why</th></tr>
          </thead>
          <tbody>
            {shown.map((e, i) => {
              const alias = e.aliasId ? aliases.get(e.aliasId) : undefined;
              return (
                <tr key={`${e.at}-${i}`}>
                  <td><Time at={e.at} /></td>
                  <td>{alias ? <Link href={`/app/alias/a/${alias.id}`}>{alias.address}</Link> : e.aliasId ? "a deleted alias" : "—"}</td>
                  <td>{eventText[e.event] ?? e.event}</td>
                  <td>{e.reason ? reasonText[e.reason] ?? e.reason : "—"}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </Page>
  );
}
