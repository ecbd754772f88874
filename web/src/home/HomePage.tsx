import { Link } from "../app/Link";
import { Page } from "../app/ui";
import * as session from "../session/store";

/** What Veil is, for a visitor; a signed-in visitor gets a way into the app. */
export function HomePage() {
  const signedIn = session.status.value === "signed-in";
  return (
    <Page title="Veil" lead="A privacy suite you can run yourself: mail aliases, encrypted file drops, a vault with a dead man's switch.">
      <ul class="features">
        <li><strong>End-to-end encrypted.</strong> Your master password and the keys made from it stay in this browser; the server stores only what it cannot read.</li>
        <li><strong>Drop.</strong> Send a file that only the holder of the link can open, with an expiry and a download limit.</li>
        <li><strong>Alias and Vault.</strong> Forwarding addresses that hide yours, and a vault that reaches the people you name if you stop checking in.</li>
      </ul>
      <div class="actions">
        {signedIn ? (
          <Link href="/app" class="button">Open your account</Link>
        ) : (
          <>
            <Link href="/register" class="button">Create an account</Link>
            <Link href="/signin" class="button secondary">Sign in</Link>
          </>
        )}
        <a href="/drop" class="button secondary">Send a drop</a>
      </div>
    </Page>
  );
}
