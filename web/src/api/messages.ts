// The one place where problems become sentences. Keyed by the problem `code` (spec/identity-api.md and the module
// specs); a module adds its codes with registerMessages() instead of formatting errors itself.
import { ApiError } from "../lib/api";

const byCode: Record<string, string> = {
  "invalid-request": "Some of what was entered is not accepted.",
  "malformed-json": "The request was malformed. Reload the page and try again.",
  "invalid-token": "This link does not work any more: it was already used, it expired, or it is incomplete. Ask for a new one.",
  "invalid-credentials": "Wrong email address or password.",
  "invalid-challenge": "The sign-in took too long or had too many wrong codes. Start again.",
  "invalid-code": "That code is not right, or it was already used. Check it and try again.",
  "two-factor-required": "Enter the code from your authenticator app.",
  unauthorized: "You are signed out. Sign in again.",
  "step-up-required": "For this, confirm your password again.",
  "invalid-refresh-token": "Your session ended. Sign in again.",
  "refresh-token-superseded": "Another tab renewed your session at the same moment. Try again.",
  "refresh-token-reused": "Your session was ended for safety because an old sign-in token came back. Sign in again.",
  "api-key-not-allowed": "An API key cannot do this; sign in instead.",
  "csrf-origin-mismatch": "The request came from another site and was refused.",
  "not-found": "That no longer exists.",
  "two-factor-already-enabled": "Two-factor authentication is already on.",
  "two-factor-not-enabled": "Two-factor authentication is off.",
  "no-pending-enrolment": "Start the two-factor set-up again.",
  "account-locked": "Too many wrong passwords: this account is locked for a while. Wait, or sign in with a magic link, which unlocks it.",
  "rate-limited": "Too many attempts. Wait a little and try again.",
  "server-busy": "The server is busy. Try again in a moment.",
};

export function registerMessages(messages: Record<string, string>): void {
  Object.assign(byCode, messages);
}

/** A sentence for any error a page caught: problems by code, network failures, and our own Errors. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const sentence = byCode[error.code] ?? `The server refused the request (${error.code}).`;
    const wait = error.retryAfter ? ` (try again in ${formatSeconds(error.retryAfter)})` : "";
    // invalid-request's detail names the member (spec/identity-api.md): useful, and never contains a secret.
    const detail = error.code === "invalid-request" && error.detail ? ` ${error.detail}` : "";
    return sentence + detail + wait;
  }
  if (error instanceof TypeError) return "The connection to the server failed. Check your connection and try again.";
  if (error instanceof Error) return error.message;
  return String(error);
}

function formatSeconds(seconds: number): string {
  if (seconds < 90) return `${Math.ceil(seconds)} seconds`;
  return `${Math.ceil(seconds / 60)} minutes`;
}
