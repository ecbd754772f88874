import { useEffect, useState } from "preact/hooks";
import type { TwoFactorChallenge } from "../api/identity";
import { describeError } from "../api/messages";
import { Link } from "../app/Link";
import { navigate } from "../app/router";
import { Busy, ErrorBox, Page } from "../app/ui";
import { takeFragmentToken } from "./fragment";
import { signInWithMagicLink } from "./service";
import { TwoFactorForm } from "./TwoFactorForm";

/** The mailed `/magic-link#<token>` link: signs in (asking for a 2FA code when the account has it). */
export function MagicLinkPage() {
  const [challenge, setChallenge] = useState<TwoFactorChallenge | null>(null);
  const [error, setError] = useState<string | null>(null);
  const done = () => navigate("/app", { replace: true });
  useEffect(() => {
    const token = takeFragmentToken();
    if (!token) {
      setError("This link is incomplete. Open the whole link from the mail, including the part after #.");
      return;
    }
    signInWithMagicLink(token).then(
      (next) => (next ? setChallenge(next) : done()),
      (caught) => setError(describeError(caught)),
    );
  }, []);
  return (
    <Page title="Sign in with a link">
      {challenge ? (
        <TwoFactorForm challenge={challenge} onDone={done} />
      ) : (
        <>
          <Busy phase={error ? null : "Signing you in…"} />
          <ErrorBox message={error} />
          {error && <p><Link href="/signin">Sign in another way</Link></p>}
        </>
      )}
    </Page>
  );
}
