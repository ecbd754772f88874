import { useState } from "preact/hooks";
import type { TwoFactorChallenge } from "../api/identity";
import { describeError } from "../api/messages";
import { Busy, ErrorBox, Field } from "../app/ui";
import { answerChallenge } from "./service";

const methodLabels: Record<string, string> = {
  totp: "Code from the authenticator app",
  backup: "Backup code",
  recovery: "Recovery code (turns two-factor authentication off)",
};

/** The second step of a password or magic-link sign-in for an account with 2FA. */
export function TwoFactorForm(props: { challenge: TwoFactorChallenge; onDone: () => void }) {
  const [method, setMethod] = useState<string>("totp");
  const [code, setCode] = useState("");
  const [phase, setPhase] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  return (
    <form
      novalidate
      onSubmit={async (event) => {
        event.preventDefault();
        setError(null);
        setPhase("Checking the code…");
        try {
          await answerChallenge(props.challenge, method, code);
          props.onDone();
        } catch (caught) {
          setError(describeError(caught));
        } finally {
          setPhase(null);
        }
      }}
    >
      <p>This account has two-factor authentication. Enter a code to finish signing in.</p>
      <fieldset>
        <legend>Kind of code</legend>
        {props.challenge.methods.map((m) => (
          <label class="check" key={m}>
            <input type="radio" name="method" value={m} checked={method === m} onChange={() => setMethod(m)} />
            <span>{methodLabels[m] ?? m}</span>
          </label>
        ))}
      </fieldset>
      <Field
        label={methodLabels[method] ?? "Code"}
        name="code"
        autocomplete="one-time-code"
        inputMode={method === "totp" ? "numeric" : "text"}
        value={code}
        onInput={setCode}
        required
        autofocus
      />
      <button type="submit" disabled={phase !== null}>Verify</button>
      <Busy phase={phase} />
      <ErrorBox message={error} />
    </form>
  );
}
