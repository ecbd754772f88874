// The heir's page: the mailed claim link `/vault/claim/{token}` opens here. The heir asks for the code (mailed
// separately), enters it, and this page rebuilds the vault key from the escrow and the delivery key the server
// returns (spec/vault.md §7), opens every value, and offers the files — all in the page, nothing to install.
// The vault key and file keys live only in this page's memory and are wiped when it closes.
import { useEffect, useRef, useState } from "preact/hooks";
import { describeError } from "../api/messages";
import { Busy, ErrorBox, Field, Page } from "../app/ui";
import { wipeItem, type PlainFile, type PlainItem } from "../crypto/vault";
import { claimApi, ClaimError, type ClaimedVault } from "./claimApi";
import { downloadFile } from "./files";
import { ItemBrowser } from "./ItemBrowser";
import { rebuildInWorker } from "./vaultWorker";
import "./messages";

type Step =
  | { kind: "start" }
  | { kind: "code"; expiresAt: string }
  | { kind: "rehearsal"; recipients: number }
  | { kind: "open"; name: string; items: PlainItem[]; downloadToken: string; expiresAt: string }
  | { kind: "closed" }
  | { kind: "dead" };

const TokenShape = /^[A-Za-z0-9_-]{86}$/;

export function ClaimPage(props: { params: Record<string, string> }) {
  const token = props.params.token ?? "";
  const [step, setStep] = useState<Step>(TokenShape.test(token) ? { kind: "start" } : { kind: "dead" });
  const [code, setCode] = useState("");
  const [phase, setPhase] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(TokenShape.test(token) ? null : describeError(new ClaimError(404, "link-invalid", undefined, undefined)));
  const [attemptsLeft, setAttemptsLeft] = useState<number | null>(null);
  const keys = useRef<{ vaultKey: Uint8Array; items: PlainItem[] } | null>(null);

  const wipe = () => {
    if (keys.current) {
      keys.current.vaultKey.fill(0);
      keys.current.items.forEach(wipeItem);
      keys.current = null;
    }
  };
  useEffect(() => wipe, []);

  const fail = (caught: unknown) => {
    if (caught instanceof ClaimError && (caught.code === "link-locked" || caught.code === "link-used" || caught.code === "link-expired" || caught.code === "link-invalid")) {
      setStep({ kind: "dead" });
    }
    if (caught instanceof ClaimError && caught.code === "wrong-code" && caught.attemptsLeft !== undefined) {
      setAttemptsLeft(caught.attemptsLeft);
      setError(`That code is not right. ${caught.attemptsLeft} ${caught.attemptsLeft === 1 ? "try is" : "tries are"} left before this link locks for good.`);
      return;
    }
    setError(describeError(caught));
  };

  const requestCode = async () => {
    setError(null);
    setPhase("Asking for a code…");
    try {
      const answer = await claimApi.requestCode(token);
      setStep({ kind: "code", expiresAt: answer.expiresAt });
    } catch (caught) {
      fail(caught);
    } finally {
      setPhase(null);
    }
  };

  const claim = async (event: Event) => {
    event.preventDefault();
    const entered = code.replace(/\s/g, "");
    if (!/^\d{6}$/.test(entered)) {
      setError("The code is the 6 digits from the second mail.");
      return;
    }
    setError(null);
    setPhase("Checking the code…");
    try {
      const answer = await claimApi.claim(token, entered);
      if (answer.rehearsal) {
        setStep({ kind: "rehearsal", recipients: answer.recipients });
        return;
      }
      setPhase("Decrypting the vault in this page…");
      // The rebuild (spec/vault.md §7) runs in the vault worker: a large vault never freezes the page.
      const opened = await rebuildInWorker(answer);
      keys.current = { vaultKey: opened.vaultKey, items: opened.items };
      setStep({ kind: "open", name: opened.name, items: opened.items, downloadToken: answer.downloadToken, expiresAt: answer.downloadTokenExpiresAt });
    } catch (caught) {
      fail(caught);
    } finally {
      setPhase(null);
      setCode("");
    }
  };

  const download = (downloadToken: string) => async (file: PlainFile) => {
    setError(null);
    try {
      // Streams to disk where the browser offers File System Access (lib/sink.ts), so a large file is not held here.
      await downloadFile(`/api/v1/vault/claim/files/${file.id}`, `Bearer ${downloadToken}`, file.id, file.key, file.name);
    } catch (caught) {
      setError(caught instanceof ClaimError || !(caught instanceof Error) ? describeError(caught) : caught.message);
    }
  };

  if (step.kind === "open") {
    return (
      <Page title={step.name || "Released vault"} lead="This vault was left to you. It was decrypted in this page; the server never saw its contents.">
        <ErrorBox message={error} />
        <p class="muted">
          This page works only once: the link is now used. Download the files you need before you close it (downloads
          work until {new Date(step.expiresAt).toLocaleString()}).
        </p>
        <ItemBrowser items={step.items} onDownload={download(step.downloadToken)} />
        <p class="actions">
          <button type="button" class="secondary" onClick={() => { wipe(); setStep({ kind: "closed" }); }}>Close the vault</button>
        </p>
      </Page>
    );
  }

  return (
    <Page title="A vault was left to you" lead="Someone chose you to receive their Veil vault if they stopped checking in. You open it here, in this browser; there is nothing to install.">
      <Busy phase={phase} />
      <ErrorBox message={error} />
      {step.kind === "start" && (
        <div class="panel">
          <p>
            To open it, ask for a 6-digit code. It is mailed to the address this link was sent to, in a separate mail, and
            is valid for 15 minutes.
          </p>
          <p class="actions"><button type="button" onClick={requestCode} disabled={phase !== null}>Email me the code</button></p>
        </div>
      )}
      {step.kind === "code" && (
        <form class="panel" onSubmit={claim}>
          <p>We mailed a code; it is valid until {new Date(step.expiresAt).toLocaleTimeString()}.</p>
          <Field label="6-digit code" value={code} onInput={setCode} inputMode="numeric" autocomplete="one-time-code" required autofocus
            hint={attemptsLeft === null
              ? "After five wrong codes the link locks for good, to stop anyone guessing; nobody can unlock it."
              : `${attemptsLeft} ${attemptsLeft === 1 ? "try" : "tries"} left. After five wrong codes the link locks for good.`} />
          <p class="actions">
            <button type="submit" disabled={phase !== null}>Open the vault</button>{" "}
            <button type="button" class="secondary" onClick={requestCode} disabled={phase !== null}>Send a new code</button>
          </p>
        </form>
      )}
      {step.kind === "rehearsal" && (
        <p class="ok" role="status">
          This was a rehearsal, and it worked: the code arrived and the link opened. A real release would deliver the vault to{" "}
          {step.recipients} {step.recipients === 1 ? "recipient" : "recipients"}. Nothing was released.
        </p>
      )}
      {step.kind === "closed" && <p class="ok" role="status">The vault is closed and its keys are gone from this page.</p>}
      {step.kind === "dead" && <p>If you expected a vault, ask the people who knew its owner whether another link was sent to you.</p>}
    </Page>
  );
}
