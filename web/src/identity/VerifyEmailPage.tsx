import { useEffect, useState } from "preact/hooks";
import { identityApi } from "../api/identity";
import { describeError } from "../api/messages";
import { Link } from "../app/Link";
import { Busy, ErrorBox, Page } from "../app/ui";
import { takeFragmentToken } from "./fragment";

const outcomes: Record<string, string> = {
  registration: "Your address is confirmed and your account exists. Sign in with your master password.",
  "recovery-email": "Your recovery address is confirmed.",
  "email-change": "Your new address is confirmed: sign in with it from now on. Your other sessions were signed out.",
};

/** The mailed `/verify-email#<token>` link: consumes the token once and says what it confirmed. */
export function VerifyEmailPage() {
  const [result, setResult] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const token = takeFragmentToken();
    if (!token) {
      setError("This link is incomplete. Open the whole link from the mail, including the part after #.");
      return;
    }
    identityApi.verifyEmail(token).then(
      (answer) => setResult(outcomes[answer.purpose] ?? "Your address is confirmed."),
      (caught) => setError(describeError(caught)),
    );
  }, []);
  return (
    <Page title="Confirm your address">
      <Busy phase={result || error ? null : "Confirming…"} />
      {result && <p class="ok" role="status">{result}</p>}
      <ErrorBox message={error} />
      <p><Link href="/signin">Sign in</Link></p>
    </Page>
  );
}
