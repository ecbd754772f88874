import { useEffect, useState } from "preact/hooks";
import { identityApi, type SessionInfo } from "../api/identity";
import { describeError } from "../api/messages";
import { Busy, ErrorBox, Page } from "../app/ui";

/** A server time in the reader's local form; "never" for a null (an API key not used yet). */
export function when(iso: string | null): string {
  if (!iso) return "never";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/** Where this account is signed in (no IP addresses are stored), and ending any of those sessions. */
export function SessionsPage() {
  const [sessions, setSessions] = useState<SessionInfo[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  const load = async () => {
    try {
      setSessions(await identityApi.sessions());
    } catch (caught) {
      setError(describeError(caught));
    }
  };
  useEffect(() => void load(), []);

  const act = async (phase: string, action: () => Promise<string>) => {
    setError(null);
    setNote(null);
    setBusy(phase);
    try {
      setNote(await action());
      await load();
    } catch (caught) {
      setError(describeError(caught));
    } finally {
      setBusy(null);
    }
  };

  const others = sessions?.filter((s) => !s.current) ?? [];
  return (
    <Page title="Sessions" lead="The browsers and programs signed in to your account. Ending a session signs it out at once, and a browser trusted to reopen your keys needs the master password again.">
      <Busy phase={busy ?? (sessions || error ? null : "Loading your sessions…")} />
      <ErrorBox message={error} />
      {note && <p class="ok" role="status">{note}</p>}
      {sessions && (
        <table class="list">
          <caption class="muted">{sessions.length === 1 ? "1 session" : `${sessions.length} sessions`}</caption>
          <thead>
            <tr><th scope="col">Name</th><th scope="col">Signed in</th><th scope="col">Last used</th><th scope="col"><span class="sr-only">Action</span></th></tr>
          </thead>
          <tbody>
            {sessions.map((s) => (
              <tr key={s.id}>
                <td>{s.label ?? "Unnamed"}{s.current && <strong> (this browser)</strong>}</td>
                <td>{when(s.createdAt)}</td>
                <td>{when(s.lastUsedAt)}</td>
                <td>
                  {!s.current && (
                    <button
                      type="button"
                      class="secondary"
                      aria-label={`End the session ${s.label ?? "Unnamed"}, signed in ${when(s.createdAt)}`}
                      disabled={busy !== null}
                      onClick={() => act("Ending the session…", async () => {
                        await identityApi.revokeSession(s.id);
                        return `The session "${s.label ?? "Unnamed"}" is signed out.`;
                      })}
                    >
                      End
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {others.length > 0 && (
        <button
          type="button"
          disabled={busy !== null}
          onClick={() => act("Signing out everywhere else…", async () => {
            const { revoked } = await identityApi.revokeOtherSessions();
            return revoked === 1 ? "1 other session is signed out." : `${revoked} other sessions are signed out.`;
          })}
        >
          Sign out everywhere else
        </button>
      )}
    </Page>
  );
}
