import { useEffect, useState } from "preact/hooks";
import { navigation } from "../app/modules";
import { Page } from "../app/ui";
import { UnlockForm } from "../identity/UnlockForm";
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
