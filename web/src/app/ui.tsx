// Small shared pieces every page uses, so that pages look and behave alike: a titled page, labelled fields, the
// error box (role=alert) and the busy indicator (role=status, with progress).
import type { ComponentChildren } from "preact";
import { useEffect, useId, useRef } from "preact/hooks";

export function Page(props: { title: string; lead?: string; children: ComponentChildren }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${props.title} · Veil`;
    // After a client-side navigation, focus moves to the new heading so screen readers announce the page.
    heading.current?.focus();
  }, [props.title]);
  return (
    <section class="page">
      <h1 tabIndex={-1} ref={heading}>{props.title}</h1>
      {props.lead && <p class="lead">{props.lead}</p>}
      {props.children}
    </section>
  );
}

export function Field(props: {
  label: string;
  type?: string;
  value: string;
  onInput: (value: string) => void;
  autocomplete?: string;
  required?: boolean;
  inputMode?: "numeric" | "text" | "email";
  hint?: string;
  name?: string;
  autofocus?: boolean;
}) {
  const id = useId();
  // The hint is outside the label (so the control's name is just the label) and linked by aria-describedby.
  return (
    <div class="field">
      <label for={id}>
        <span>{props.label}</span>
      </label>
      <input
        id={id}
        name={props.name}
        type={props.type ?? "text"}
        value={props.value}
        autocomplete={props.autocomplete}
        required={props.required}
        inputMode={props.inputMode}
        autofocus={props.autofocus}
        maxLength={1024}
        aria-describedby={props.hint ? id + "-hint" : undefined}
        onInput={(event) => props.onInput((event.currentTarget as HTMLInputElement).value)}
      />
      {props.hint && <small id={id + "-hint"} class="muted">{props.hint}</small>}
    </div>
  );
}

export function ErrorBox(props: { message: string | null | string[] }) {
  const lines = props.message === null ? [] : Array.isArray(props.message) ? props.message : [props.message];
  if (lines.length === 0) return null;
  return (
    <div class="error" role="alert">
      {/* Several lines: the first says what happened, the rest why (a list). */}
      <p>{lines[0]}</p>
      {lines.length > 1 && <ul>{lines.slice(1).map((line) => <li key={line}>{line}</li>)}</ul>}
    </div>
  );
}

/** Shown while something slow runs (Argon2id in its worker, a request): what is happening, and that it is. */
export function Busy(props: { phase: string | null }) {
  if (!props.phase) return null;
  return (
    <div class="busy">
      <p role="status" aria-live="polite">{props.phase}</p>
      <progress aria-label={props.phase} />
    </div>
  );
}
