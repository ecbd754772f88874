import { useState } from "preact/hooks";
import type { TwoFactorChallenge } from "../api/identity";
import { identityApi } from "../api/identity";
import { describeError } from "../api/messages";
import { Link } from "../app/Link";
import { navigate } from "../app/router";
import { Busy, ErrorBox, Field, Page } from "../app/ui";
import { signInWithPassword } from "./service";
import { TwoFactorForm } from "./TwoFactorForm";

export function SignInPage() {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [phase, setPhase] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [challenge, setChallenge] = useState<TwoFactorChallenge | null>(null);
  const [linkSent, setLinkSent] = useState(false);
  const done = () => navigate("/app", { replace: true });

  if (challenge) {
    return (
      <Page title="Two-factor authentication">
        <TwoFactorForm challenge={challenge} onDone={done} />
      </Page>
    );
  }

  return (
    <Page title="Sign in">
      <form
        novalidate
        onSubmit={async (event) => {
          event.preventDefault();
          setError(null);
          try {
            const next = await signInWithPassword(email, password, setPhase);
            setPassword("");
            if (next) setChallenge(next);
            else done();
          } catch (caught) {
            setError(describeError(caught));
          } finally {
            setPhase(null);
          }
        }}
      >
        <Field label="Email address" type="email" name="email" autocomplete="username" inputMode="email" value={email} onInput={setEmail} required />
        <Field label="Master password" type="password" name="password" autocomplete="current-password" value={password} onInput={setPassword} required />
        <button type="submit" disabled={phase !== null}>Sign in</button>
        <Busy phase={phase} />
        <ErrorBox message={error} />
      </form>
      <section class="panel">
        <h2>No password at hand?</h2>
        <p>We can mail you a link that signs you in (once, within 10 minutes). Your keys then stay locked until you enter the master password.</p>
        <button
          type="button"
          class="secondary"
          disabled={phase !== null}
          onClick={async () => {
            setError(null);
            if (!/^[^@\s]+@[^@\s]+$/.test(email.trim())) return setError("Enter your email address above first.");
            try {
              await identityApi.requestMagicLink(email.trim());
              setLinkSent(true);
            } catch (caught) {
              setError(describeError(caught));
            }
          }}
        >
          Email me a sign-in link
        </button>
        {linkSent && <p role="status" class="ok">If this address belongs to an account, a sign-in link is on its way.</p>}
      </section>
      <p>New here? <Link href="/register">Create an account</Link></p>
    </Page>
  );
}
