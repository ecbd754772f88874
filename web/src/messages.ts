// What a person reads when something goes wrong. Keyed by the API's problem codes (spec/drop-api.md) and by
// the client-side failures of spec/drop.md.
import { ApiError } from "./lib/api";

const byCode: Record<string, string> = {
  "not-found": "This drop does not exist. It may have been deleted by its sender, or removed after it expired.",
  expired: "This drop has expired. Ask the sender to share the file again.",
  exhausted: "This drop has been used up: it reached its download limit. Ask the sender to share the file again.",
  "taken-down": "This drop was removed by the operator of this server after an abuse report.",
  "not-finalized": "This drop is still being uploaded. Try again in a moment.",
  // A 500, but permanent (spec/drop-api.md): the server's stored copy is missing a part or has one of the wrong
  // length, so no retry or reload can fix it; only the operator can.
  "blob-damaged":
    "This server's copy of the drop is damaged, so it cannot be downloaded. Nothing was saved. Tell the operator of this server, or ask the sender to share the file again.",
  "bad-ticket": "The download authorisation expired. Reload the page to start again.",
  "too-large": "The file is larger than this server accepts.",
  "quota-exceeded": "You have reached the storage quota of this server. Wait for your other drops to expire or delete some.",
  "anonymous-disabled": "This server does not accept drops from people who are not signed in.",
  "upload-banned": "Uploading is disabled for you on this server.",
  "invalid-expiry": "This server does not allow that expiry. Choose a shorter one.",
  "invalid-download-limit": "That download limit is not allowed.",
  "rate-limited": "Too many requests. Wait a little and try again.",
};

export const Messages = {
  wrongKey:
    "The key in this link does not open this drop. The link may be incomplete or mistyped: check that you copied all of it, including the part after #.",
  missingKey: "This link has no key. Use the complete link, including the part after #.",
  invalidLink: "This link is not a valid Veil Drop link.",
  wrongPassword: "Wrong password. Check it and try again.",
  tampered:
    "Integrity check failed: the encrypted data was altered or damaged, so it cannot be trusted. Nothing was saved.",
  malformed: "This drop is damaged or was made by an incompatible client. Nothing was saved.",
  unsupported: "This drop was made by a newer version of Veil. Update this server's web client.",
  network: "The connection to the server failed. Check your connection and try again.",
};

export function describe(error: unknown): string {
  if (error instanceof ApiError) {
    return byCode[error.code] ?? `The server refused the request (${error.code}${error.detail ? ": " + error.detail : ""}).`;
  }
  if (error instanceof TypeError) return Messages.network; // fetch reports network failures as TypeError
  if (error instanceof Error) return error.message;
  return String(error);
}
