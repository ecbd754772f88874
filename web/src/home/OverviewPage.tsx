import { navigation } from "../app/modules";
import { Page } from "../app/ui";
import { UnlockForm } from "../identity/UnlockForm";
import * as session from "../session/store";

/** The signed-in start page: who is signed in, whether the keys are open (and a way to open them), the modules. */
export function OverviewPage() {
  const who = session.account.value!;
  return (
    <Page title="Overview" lead={`Signed in as ${who.email}.`}>
      {session.isUnlocked.value ? (
        <p class="ok" role="status">Your keys are unlocked in this browser. Lock drops them from memory.</p>
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
