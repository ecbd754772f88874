// Pieces the Account page's sections share: one hook that runs an action with busy/error/note state and, when the
// server answers step-up-required, asks for the master password (and code) and runs the action again; the step-up
// form; codes shown once with copy and download; the QR code drawn from the otpauth URI.
import { useState } from "preact/hooks";
import { encode } from "uqr";
import { describeError } from "../api/messages";
import { Busy, ErrorBox, Field } from "../app/ui";
import { offerDownload } from "../lib/sink";
import * as session from "../session/store";
import { needsStepUp, stepUp } from "./account";

export interface ActionState {
  busy: string | null;
  error: string | string[] | null;
  note: string | null;
  /** Runs `action` (its result is the note to show); a step-up-required answer opens the step-up form instead. */
  run: (phase: string, action: () => Promise<string | void>) => Promise<void>;
  fail: (error: string | string[]) => void;
  /** For long use cases (Argon2id): replaces the busy sentence while the action runs. */
  progress: (phase: string) => void;
  /** The step-up form, or null: render it where the action's button is. */
  stepUpForm: preact.JSX.Element | null;
}

export function useAction(): ActionState {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | string[] | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [pending, setPending] = useState<{ phase: string; action: () => Promise<string | void> } | null>(null);

  const run = async (phase: string, action: () => Promise<string | void>) => {
    setError(null);
    setNote(null);
    setBusy(phase);
    try {
      const result = await action();
      setPending(null);
      if (result) setNote(result);
    } catch (caught) {
      if (needsStepUp(caught)) setPending({ phase, action });
      else setError(describeError(caught));
    } finally {
      setBusy(null);
    }
  };

  const stepUpForm = pending && (
    <StepUpForm
      onCancel={() => setPending(null)}
      onConfirmed={() => run(pending.phase, pending.action)}
    />
  );
  return { busy, error, note, run, fail: setError, progress: setBusy, stepUpForm };
}

/** "Confirm it is you": the master password (derived here, only `auth` is sent) and the second factor when on. */
function StepUpForm(props: { onConfirmed: () => Promise<void>; onCancel: () => void }) {
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [phase, setPhase] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  return (
    <form
      class="panel"
      aria-label="Confirm it is you"
      onSubmit={async (event) => {
        event.preventDefault();
        setError(null);
        try {
          await stepUp(password, code, setPhase);
          setPassword("");
          setPhase(null);
          await props.onConfirmed();
        } catch (caught) {
          setError(describeError(caught));
        } finally {
          setPhase(null);
        }
      }}
    >
      <h3>Confirm it is you</h3>
      <p>For this, enter your master password again{session.account.value?.twoFactorEnabled ? " and a code from your authenticator app" : ""}.</p>
      <PasswordAndCode password={password} setPassword={setPassword} code={code} setCode={setCode} />
      <div class="actions">
        <button type="submit" disabled={phase !== null}>Confirm</button>
        <button type="button" class="secondary" onClick={props.onCancel}>Cancel</button>
      </div>
      <Busy phase={phase} />
      <ErrorBox message={error} />
    </form>
  );
}

/** The master password field and, when the account has 2FA, the code field every step-up needs. */
export function PasswordAndCode(props: { password: string; setPassword: (v: string) => void; code: string; setCode: (v: string) => void }) {
  return (
    <>
      <input type="email" autocomplete="username" value={session.account.value?.email} hidden readOnly aria-hidden="true" />
      <Field label="Master password" type="password" autocomplete="current-password" value={props.password} onInput={props.setPassword} required />
      {session.account.value?.twoFactorEnabled && (
        <Field
          label="Authenticator or backup code"
          autocomplete="one-time-code"
          value={props.code}
          onInput={props.setCode}
          required
        />
      )}
    </>
  );
}

/** Codes the server shows once (backup, recovery, an API key): a list to copy or save, and a warning that says so. */
export function ShownOnce(props: { title: string; codes: string[]; fileName: string; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  const text = props.codes.join("\n") + "\n";
  return (
    <div class="panel" role="region" aria-label={props.title}>
      <h3>{props.title}</h3>
      <p><strong>Shown only now.</strong> Save them somewhere safe (a password manager or paper): Veil keeps only fingerprints and cannot show them again.</p>
      <ol class="codes">
        {props.codes.map((code) => <li key={code}><code>{code}</code></li>)}
      </ol>
      <div class="actions">
        <button
          type="button"
          class="secondary"
          onClick={async () => {
            try {
              await navigator.clipboard.writeText(text);
              setCopied(true);
            } catch {
              setCopied(false);
            }
          }}
        >
          Copy
        </button>
        <button type="button" class="secondary" onClick={() => offerDownload(new Blob([text], { type: "text/plain" }), props.fileName)}>Download</button>
        <button type="button" onClick={props.onDone}>I saved them</button>
      </div>
      {copied && <p class="ok" role="status">Copied.</p>}
    </div>
  );
}

/** The otpauth URI as an SVG QR code: a path of dark modules, no inline style (the CSP forbids it), no data: URL. */
export function QrCode(props: { text: string; label: string }) {
  const qr = encode(props.text, { ecc: "M", border: 4 });
  let path = "";
  qr.data.forEach((row, y) => row.forEach((dark, x) => {
    if (dark) path += `M${x} ${y}h1v1h-1z`;
  }));
  return (
    <svg class="qr" viewBox={`0 0 ${qr.size} ${qr.size}`} role="img" aria-label={props.label} shape-rendering="crispEdges">
      {/* Always dark on light, also in dark mode: authenticator cameras expect it. */}
      <rect width={qr.size} height={qr.size} fill="#ffffff" />
      <path d={path} fill="#000000" />
    </svg>
  );
}

export function StatusLine(props: { state: ActionState }) {
  return (
    <>
      <Busy phase={props.state.busy} />
      <ErrorBox message={props.state.error} />
      {props.state.note && <p class="ok" role="status">{props.state.note}</p>}
      {props.state.stepUpForm}
    </>
  );
}
