// Password mail's problem codes as sentences (spec/mailbox-api.md), registered with the app's one message table.
import { registerMessages } from "../api/messages";

registerMessages({
  "message-not-found": "No message is behind this link. Open the whole link from the mail.",
  "message-expired": "This message has expired. Its content was deleted for good; ask the sender to send it again.",
  "view-limit-reached": "This message was opened as many times as the sender allowed. Its content was deleted for good.",
  "reply-limit-reached": "No more replies can be sent from this page: one reply per time the message was opened, at most five.",
  "invalid-message": "The reply was refused: it is too long (at most 64 KiB of text).",
  "mail-not-enabled": "This server does not offer mail.",
});
