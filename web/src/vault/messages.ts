// The Vault's problem codes as sentences (spec/vault-api.md, "Errors"), registered with the app's one message table.
import { registerMessages } from "../api/messages";

registerMessages({
  "link-invalid": "This delivery link is not valid. Open the whole link from the mail; if it still fails, it was never issued or the server's keys changed.",
  "link-used": "This delivery link was already used: a vault can be opened through it only once.",
  "link-expired": "This delivery link has expired. Ask the vault owner's other contacts, or the operator of this server.",
  "link-locked": "This delivery link is locked for good after five wrong codes. Nobody, not even the server's operator, can open it again.",
  "code-expired": "There is no valid code for this link: the code expired (codes last 15 minutes) or none was requested. Ask for a new code.",
  "wrong-code": "That code is not right.",
  "vault-not-found": "This vault no longer exists.",
  "item-not-found": "This item no longer exists.",
  "file-not-found": "This file no longer exists.",
  "switch-not-found": "This vault has no dead man's switch yet.",
  "recipient-not-found": "This recipient no longer exists.",
  "switch-released": "This vault was already released to its recipients; its switch can no longer change.",
  "switch-paused": "The switch is paused. Resume it first.",
  "switch-not-paused": "The switch is not paused.",
  "invalid-interval": "The check-in interval must be between 1 day and 365 days.",
  "invalid-grace": "The grace period must be between 1 hour and 90 days.",
  "invalid-email": "That is not an email address this server accepts.",
  "too-many-recipients": "This vault has the largest number of recipients allowed.",
  "too-many-vaults": "You have the largest number of vaults allowed.",
  "too-many-fields": "An item holds at most 256 fields and 64 tags.",
  "revision-conflict": "This item was changed elsewhere since you opened it. Reload it and make your change again.",
  "quota-exceeded": "Your vault storage is full.",
  conflict: "The switch changed at this very moment. Try again.",
});
