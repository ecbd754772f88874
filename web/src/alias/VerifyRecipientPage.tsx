import { useState } from "preact/hooks";
import { describeError } from "../api/messages";
import type { RouteProps } from "../app/router";
import { ErrorBox, Page } from "../app/ui";
import { aliasApi } from "./api";

/**
 * /alias/verify/:token, the link Veil mails to a new recipient. Opening it changes nothing (mail scanners prefetch
 * links); the button confirms. No sign-in: the link itself is the proof that the mailbox's owner clicked.
 */
export function VerifyRecipientPage(props: RouteProps) {
  const [state, setState] = useState<"ask" | "busy" | "done">("ask");
  const [error, setError] = useState<string | null>(null);
  if (state === "done") {
    return (
      <Page title="Mailbox confirmed">
        <p class="ok" role="status">This mailbox now receives mail from your Veil aliases. You can close this page.</p>
      </Page>
    );
  }
  return (
    <Page title="Confirm this mailbox" lead="Someone (hopefully you) asked Veil to forward alias mail to this mailbox.">
      <p>Confirm that this mailbox may receive mail forwarded from your Veil aliases. If you did not ask for this, close this page: nothing will be forwarded.</p>
      <button
        type="button"
        disabled={state === "busy"}
        onClick={async () => {
          setError(null);
          setState("busy");
          try {
            await aliasApi.verifyRecipient(props.params.token ?? "");
            setState("done");
          } catch (caught) {
            setError(describeError(caught));
            setState("ask");
          }
        }}
      >
        Confirm
      </button>
      <ErrorBox message={error} />
    </Page>
  );
}
