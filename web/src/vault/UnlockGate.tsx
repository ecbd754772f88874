// Vault pages need the user key. After a reload, a magic-link sign-in or Lock, the session is there but the key is
// not: the master password opens it again (Argon2id in the worker), in the page only — the same form as the overview's.
import type { ComponentChildren } from "preact";
import { Page } from "../app/ui";
import { UnlockForm } from "../identity/UnlockForm";
import * as session from "../session/store";

export function UnlockGate(props: { children: ComponentChildren }) {
  if (session.isUnlocked.value) return <>{props.children}</>;
  return (
    <Page title="Unlock your vaults" lead="Your vaults are locked. Enter your master password: it opens your keys in this page and is never sent.">
      <UnlockForm text="The keys open in this page only." />
    </Page>
  );
}
