// Vault pages need the user key. After a reload, a magic-link sign-in or Lock, the session is there but the key is
// not: the master password opens it again (Argon2id in the worker), in the page only.
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { describeError } from "../api/messages";
import { Busy, ErrorBox, Field, Page } from "../app/ui";
import { unlock } from "../identity/service";
import * as session from "../session/store";

export function UnlockGate(props: { children: ComponentChildren }) {
  const [password, setPassword] = useState("");
  const [phase, setPhase] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  if (session.isUnlocked.value) return <>{props.children}</>;
  return (
    <Page title="Unlock your vaults" lead="Your vaults are locked. Enter your master password: it opens your keys in this page and is never sent.">
      <form
        class="panel"
        onSubmit={async (event) => {
          event.preventDefault();
          setError(null);
          try {
            await unlock(password, setPhase);
            setPassword("");
          } catch (caught) {
            setError(describeError(caught));
          } finally {
            setPhase(null);
          }
        }}
      >
        <Field label="Master password" type="password" name="password" autocomplete="current-password" value={password} onInput={setPassword} required />
        <button type="submit" disabled={phase !== null}>Unlock</button>
      </form>
      <Busy phase={phase} />
      <ErrorBox message={error} />
    </Page>
  );
}
