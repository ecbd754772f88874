import { useEffect, useState } from "preact/hooks";
import { describeError } from "../api/messages";
import { navigation } from "../app/modules";
import { Busy, ErrorBox, Field, Page } from "../app/ui";
import { unlock } from "../identity/service";
import * as session from "../session/store";
import { forgetTrust, isTrusted } from "../session/trust";

/** The signed-in start page: who is signed in, whether the keys are open (and a way to open them), the modules. */
export function OverviewPage() {
  const who = session.account.value!;
  return (
    <Page title="Overview" lead={`Signed in as ${who.email}.`}>
      {session.isUnlocked.value ? (
        <>
          <p class="ok" role="status">Your keys are unlocked in this browser. Lock drops them from memory.</p>
          <TrustedNote />
        </>
      ) : (
        <UnlockForm />
      )}
      <h2>Your Veil</h2>
      <ul class="cards">
        {navigation.map((item) => (
          <li key={item.href}><a href={item.href}>{item.label}</a></li>
        ))}
      </ul>
      <p class="muted">Two-factor authentication is {who.twoFactorEnabled ? "on" : "off"} for this account. Everything here also works from the <code>veil</code> command.</p>
    </Page>
  );
}

/** After a reload, a magic-link sign-in or Lock, the session continues but the keys need the master password. */
/** Says when this browser is trusted (the keys reopen after a reload) and lets the user stop that. */
function TrustedNote() {
  const who = session.account.value!;
  const [trusted, setTrusted] = useState(false);
  useEffect(() => {
    void isTrusted(who.accountId).then(setTrusted);
  }, [who.accountId]);
  if (!trusted) return null;
  return (
    <p>
      This browser is trusted: your keys reopen after a reload without the master password, until you sign out or end
      this session on the Sessions page.{" "}
      <button type="button" class="secondary" onClick={async () => {
        await forgetTrust();
        setTrusted(false);
      }}>Stop trusting this browser</button>
    </p>
  );
}

function UnlockForm() {
  const [trust, setTrust] = useState(false);
  const [password, setPassword] = useState("");
  const [phase, setPhase] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  return (
    <form
      class="panel"
      onSubmit={async (event) => {
        event.preventDefault();
        setError(null);
        try {
          await unlock(password, setPhase, trust);
          setPassword("");
        } catch (caught) {
          setError(describeError(caught));
        } finally {
          setPhase(null);
        }
      }}
    >
      <h2>Unlock</h2>
      <p>Your keys are locked. Enter your master password to open them in this browser.</p>
      {/* The username field lets password managers match the saved entry. */}
      <input type="email" autocomplete="username" value={session.account.value?.email} hidden readOnly aria-hidden="true" />
      <Field label="Master password" type="password" autocomplete="current-password" value={password} onInput={setPassword} required />
      <label class="check">
        <input type="checkbox" name="trust" checked={trust} onChange={(event) => setTrust((event.currentTarget as HTMLInputElement).checked)} />
        <span>Trust this browser: reopen my keys after a reload (only on a device that is yours alone)</span>
      </label>
      <button type="submit" disabled={phase !== null}>Unlock</button>
      <Busy phase={phase} />
      <ErrorBox message={error} />
    </form>
  );
}
