// The Account page (/app/account): two-factor authentication, recovery codes, API keys, password, email address,
// export and deletion, on the signed-in endpoints of spec/identity-api.md. Loaded only when opened (module.ts).
import { useEffect, useState } from "preact/hooks";
import { identityApi, type ApiKeyInfo, type TotpEnrolment, type TwoFactorStatus } from "../api/identity";
import { navigate } from "../app/router";
import { Field, Page } from "../app/ui";
import { offerDownload } from "../lib/sink";
import * as session from "../session/store";
import { changeEmail, changePassword, deleteAccount } from "./account";
import { PasswordAndCode, QrCode, ShownOnce, StatusLine, useAction } from "./security";
import { when } from "./SessionsPage";
import { checkMasterPassword, MinimumLength } from "./strength";

export default function AccountPage() {
  const who = session.account.value!;
  return (
    <Page title="Account" lead={`The security of ${who.email}: how you sign in, keys for scripts, and your data.`}>
      <TwoFactorSection />
      <RecoveryCodesSection />
      <ApiKeysSection />
      <PasswordSection />
      <EmailSection />
      <ExportSection />
      <DeleteSection />
    </Page>
  );
}

function setTwoFactorFlag(on: boolean): void {
  const who = session.account.value;
  if (who) session.account.value = { ...who, twoFactorEnabled: on };
}

function TwoFactorSection() {
  const state = useAction();
  const [status, setStatus] = useState<TwoFactorStatus | null>(null);
  const [enrolment, setEnrolment] = useState<TotpEnrolment | null>(null);
  const [code, setCode] = useState("");
  const [backupCodes, setBackupCodes] = useState<string[] | null>(null);

  const load = async () => {
    const current = await identityApi.twoFactor();
    setStatus(current);
    setTwoFactorFlag(current.totpEnabled);
  };
  useEffect(() => void state.run("Loading…", load), []);

  return (
    <section aria-labelledby="twofa">
      <h2 id="twofa">Two-factor authentication</h2>
      {status && (
        <p>
          Two-factor authentication is <strong>{status.totpEnabled ? "on" : "off"}</strong>.
          {status.totpEnabled && ` ${status.backupCodesRemaining} backup codes left.`}
        </p>
      )}
      {backupCodes && (
        <ShownOnce title="Your backup codes" codes={backupCodes} fileName="veil-backup-codes.txt" onDone={() => setBackupCodes(null)} />
      )}
      {status && !status.totpEnabled && !enrolment && (
        <button
          type="button"
          disabled={state.busy !== null}
          onClick={() => state.run("Starting the set-up…", async () => setEnrolment(await identityApi.startTotp()))}
        >
          Turn on two-factor authentication
        </button>
      )}
      {enrolment && (
        <form
          class="panel"
          aria-label="Set up the authenticator app"
          onSubmit={(event) => {
            event.preventDefault();
            void state.run("Checking the code…", async () => {
              const answer = await identityApi.confirmTotp(code.trim());
              setEnrolment(null);
              setCode("");
              setBackupCodes(answer.backupCodes);
              await load();
              return "Two-factor authentication is on. Sign-ins now also ask for a code.";
            });
          }}
        >
          <h3>Set up the authenticator app</h3>
          <p>Scan this code with your authenticator app, or type the secret into it. Then enter the 6-digit code it shows.</p>
          <QrCode text={enrolment.otpauthUri} label="QR code for your authenticator app" />
          <p>Secret: <code class="secret">{enrolment.secret}</code></p>
          <Field label="Code from the app" name="totp" autocomplete="one-time-code" inputMode="numeric" value={code} onInput={setCode} required />
          <div class="actions">
            <button type="submit" disabled={state.busy !== null}>Turn on</button>
            <button type="button" class="secondary" onClick={() => setEnrolment(null)}>Cancel</button>
          </div>
        </form>
      )}
      {status?.totpEnabled && (
        <div class="actions">
          <button
            type="button"
            class="secondary"
            disabled={state.busy !== null}
            onClick={() => state.run("Making new backup codes…", async () => {
              setBackupCodes((await identityApi.newBackupCodes()).backupCodes);
              await load();
              return "New backup codes are made; the old ones no longer work.";
            })}
          >
            New backup codes
          </button>
          <button
            type="button"
            class="secondary"
            disabled={state.busy !== null}
            onClick={() => state.run("Turning two-factor authentication off…", async () => {
              await identityApi.disableTotp();
              setBackupCodes(null);
              await load();
              return "Two-factor authentication is off.";
            })}
          >
            Turn off two-factor authentication
          </button>
        </div>
      )}
      <StatusLine state={state} />
    </section>
  );
}

function RecoveryCodesSection() {
  const state = useAction();
  const [codes, setCodes] = useState<string[] | null>(null);
  return (
    <section aria-labelledby="recovery">
      <h2 id="recovery">Recovery codes</h2>
      <p>If you lose your authenticator, a recovery code signs you in once and turns two-factor authentication off. Making new codes ends the old ones.</p>
      {codes ? (
        <ShownOnce title="Your recovery codes" codes={codes} fileName="veil-recovery-codes.txt" onDone={() => setCodes(null)} />
      ) : (
        <button
          type="button"
          disabled={state.busy !== null}
          onClick={() => state.run("Making recovery codes…", async () => {
            setCodes((await identityApi.newRecoveryCodes()).recoveryCodes);
          })}
        >
          Make recovery codes
        </button>
      )}
      <StatusLine state={state} />
    </section>
  );
}

function ApiKeysSection() {
  const state = useAction();
  const [keys, setKeys] = useState<ApiKeyInfo[] | null>(null);
  const [name, setName] = useState("");
  const [created, setCreated] = useState<string | null>(null);
  const load = async () => setKeys(await identityApi.apiKeys());
  useEffect(() => void state.run("Loading your API keys…", load), []);
  return (
    <section aria-labelledby="apikeys">
      <h2 id="apikeys">API keys</h2>
      <p>For scripts and the <code>veil</code> command: a key acts as you in the modules, but cannot manage your account.</p>
      {created && <ShownOnce title="Your new API key" codes={[created]} fileName="veil-api-key.txt" onDone={() => setCreated(null)} />}
      {keys && keys.length > 0 && (
        <table class="list">
          <caption class="muted">{keys.length === 1 ? "1 API key" : `${keys.length} API keys`}</caption>
          <thead>
            <tr><th scope="col">Name</th><th scope="col">Made</th><th scope="col">Last used</th><th scope="col"><span class="sr-only">Action</span></th></tr>
          </thead>
          <tbody>
            {keys.map((key) => (
              <tr key={key.id}>
                <td>{key.name}</td>
                <td>{when(key.createdAt)}</td>
                <td>{when(key.lastUsedAt)}</td>
                <td>
                  <button
                    type="button"
                    class="secondary"
                    aria-label={`Revoke the API key ${key.name}`}
                    disabled={state.busy !== null}
                    onClick={() => state.run("Revoking the key…", async () => {
                      await identityApi.revokeApiKey(key.id);
                      await load();
                      return `The API key "${key.name}" no longer works.`;
                    })}
                  >
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {keys && keys.length === 0 && <p class="muted">No API keys.</p>}
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (name.trim().length === 0) return state.fail("Give the key a name, e.g. what uses it.");
          void state.run("Making the key…", async () => {
            const made = await identityApi.createApiKey(name.trim());
            setCreated(made.key);
            setName("");
            await load();
          });
        }}
      >
        <Field label="Name of a new key" name="keyname" value={name} onInput={setName} required hint="1 to 100 characters, e.g. backup script." />
        <button type="submit" disabled={state.busy !== null}>Make an API key</button>
      </form>
      <StatusLine state={state} />
    </section>
  );
}

function PasswordSection() {
  const state = useAction();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [repeat, setRepeat] = useState("");
  const email = session.account.value!.email;
  return (
    <section aria-labelledby="password">
      <h2 id="password">Master password</h2>
      <p>Your data stays readable: the key that protects it is wrapped again under the new password, here. Every other session is signed out.</p>
      <form
        novalidate
        onSubmit={(event) => {
          event.preventDefault();
          void state.run("Checking the new password…", async () => {
            const verdict = await checkMasterPassword(next, email);
            if (!verdict.ok) return state.fail(["The new master password is too weak:", ...verdict.reasons]);
            if (next !== repeat) return state.fail("The two new passwords are not the same.");
            await changePassword(current, next, state.progress);
            setCurrent("");
            setNext("");
            setRepeat("");
            return "Your master password is changed. Your other sessions were signed out.";
          });
        }}
      >
        <input type="email" autocomplete="username" value={email} hidden readOnly aria-hidden="true" />
        <Field label="Current master password" type="password" name="current" autocomplete="current-password" value={current} onInput={setCurrent} required />
        <Field
          label="New master password"
          type="password"
          name="new"
          autocomplete="new-password"
          value={next}
          onInput={setNext}
          required
          hint={`At least ${MinimumLength} characters, hard to guess, and not about you or Veil.`}
        />
        <Field label="New master password again" type="password" name="repeat" autocomplete="new-password" value={repeat} onInput={setRepeat} required />
        <button type="submit" disabled={state.busy !== null}>Change the master password</button>
      </form>
      <StatusLine state={state} />
    </section>
  );
}

function EmailSection() {
  const state = useAction();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  return (
    <section aria-labelledby="email">
      <h2 id="email">Email address</h2>
      <p>You sign in with <strong>{session.account.value!.email}</strong>. A new address takes effect when you open the link we mail to it.</p>
      <form
        novalidate
        onSubmit={(event) => {
          event.preventDefault();
          if (!/^[^@\s]+@[^@\s]+$/.test(email.trim())) return state.fail("Enter the new email address (name@example.org).");
          void state.run("Changing the address…", async () => {
            await changeEmail(email, password, code, state.progress);
            const sentTo = email.trim();
            setEmail("");
            setPassword("");
            setCode("");
            return `We sent a link to ${sentTo}. Open it to switch to the new address.`;
          });
        }}
      >
        <Field label="New email address" type="email" name="newemail" inputMode="email" value={email} onInput={setEmail} required />
        <PasswordAndCode password={password} setPassword={setPassword} code={code} setCode={setCode} />
        <button type="submit" disabled={state.busy !== null}>Change the address</button>
      </form>
      <StatusLine state={state} />
    </section>
  );
}

function ExportSection() {
  const state = useAction();
  return (
    <section aria-labelledby="export">
      <h2 id="export">Export</h2>
      <p>Everything the server holds about your account, as JSON. Encrypted data stays encrypted in it.</p>
      <button
        type="button"
        class="secondary"
        disabled={state.busy !== null}
        onClick={() => state.run("Preparing the export…", async () => {
          const data = await identityApi.exportAccount();
          offerDownload(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }), "veil-account-export.json");
          return "The export is downloaded.";
        })}
      >
        Download my data
      </button>
      <StatusLine state={state} />
    </section>
  );
}

function DeleteSection() {
  const state = useAction();
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState("");
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const email = session.account.value!.email;
  return (
    <section aria-labelledby="delete" class="danger">
      <h2 id="delete">Delete the account</h2>
      <p>Deletes the account and everything in every module at once: aliases stop forwarding, drops and vaults are gone. Nobody can undo it.</p>
      {!open ? (
        <button type="button" class="danger" onClick={() => setOpen(true)}>Delete the account…</button>
      ) : (
        <form
          class="panel"
          novalidate
          onSubmit={(event) => {
            event.preventDefault();
            if (typed.trim().toLowerCase() !== email.toLowerCase()) return state.fail(`Type ${email} to confirm.`);
            void state.run("Deleting…", async () => {
              await deleteAccount(password, code, state.progress);
              navigate("/", { replace: true });
            });
          }}
        >
          <p class="error">This deletes {email} and all its data for good.</p>
          <Field label={`Type ${email} to confirm`} name="confirm" value={typed} onInput={setTyped} required />
          <PasswordAndCode password={password} setPassword={setPassword} code={code} setCode={setCode} />
          <div class="actions">
            <button type="submit" class="danger" disabled={state.busy !== null}>Delete everything for good</button>
            <button type="button" class="secondary" onClick={() => setOpen(false)}>Cancel</button>
          </div>
        </form>
      )}
      <StatusLine state={state} />
    </section>
  );
}
