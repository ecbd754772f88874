// After a reload, a magic-link sign-in or Lock, the session continues but the keys need the master password: this form
// opens them in the page (Argon2id in the worker), and may leave a trusted-browser capsule (ADR 0007). Used by the overview and by pages that need the user key in place.
import { useState } from "preact/hooks";
import { describeError } from "../api/messages";
import { Busy, ErrorBox, Field } from "../app/ui";
import { unlock } from "./service";
import * as session from "../session/store";

export function UnlockForm(props: { heading?: string; text?: string }) {
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
      <h2>{props.heading ?? "Unlock"}</h2>
      <p>{props.text ?? "Your keys are locked. Enter your master password to open them in this browser."}</p>
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
