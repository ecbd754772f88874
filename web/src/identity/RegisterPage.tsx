import { useState } from "preact/hooks";
import { describeError } from "../api/messages";
import { Link } from "../app/Link";
import { Busy, ErrorBox, Field, Page } from "../app/ui";
import { register } from "./service";
import { checkMasterPassword, MinimumLength } from "./strength";

export function RegisterPage() {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [repeat, setRepeat] = useState("");
  const [phase, setPhase] = useState<string | null>(null);
  const [error, setError] = useState<string | string[] | null>(null);
  const [sentTo, setSentTo] = useState<string | null>(null);

  if (sentTo) {
    return (
      <Page title="Check your mail" lead={`We sent a link to ${sentTo}. Open it to finish creating your account.`}>
        <p>The link works once and expires in 24 hours. Until you open it, the account does not exist.</p>
        <p><Link href="/signin">Sign in</Link> after you confirmed the address.</p>
      </Page>
    );
  }

  return (
    <Page
      title="Create an account"
      lead="Your master password never leaves this browser: the keys that protect your data are made from it here, and the server only ever sees a proof derived from it. Nobody, not even the server's operator, can reset it for you."
    >
      <form
        novalidate
        onSubmit={async (event) => {
          event.preventDefault();
          setError(null);
          if (!/^[^@\s]+@[^@\s]+$/.test(email.trim())) return setError("Enter your email address (name@example.org).");
          setPhase("Checking the master password…");
          try {
            const verdict = await checkMasterPassword(password, email);
            if (!verdict.ok) return setError(["This master password is too weak:", ...verdict.reasons]);
            if (password !== repeat) return setError("The two passwords are not the same.");
            await register(email, password, setPhase);
            setSentTo(email.trim());
          } catch (caught) {
            setError(describeError(caught));
          } finally {
            setPhase(null);
          }
        }}
      >
        <Field label="Email address" type="email" name="email" autocomplete="username" inputMode="email" value={email} onInput={setEmail} required />
        <Field
          label="Master password"
          type="password"
          name="password"
          autocomplete="new-password"
          value={password}
          onInput={setPassword}
          required
          hint={`At least ${MinimumLength} characters, hard to guess, and not about you or Veil. A phrase of unrelated words works well.`}
        />
        <Field label="Master password again" type="password" name="repeat" autocomplete="new-password" value={repeat} onInput={setRepeat} required />
        <button type="submit" disabled={phase !== null}>Create account</button>
        <Busy phase={phase} />
        <ErrorBox message={error} />
      </form>
      <p>Already have an account? <Link href="/signin">Sign in</Link></p>
    </Page>
  );
}
