// Composing mail in the page (issue 21 point 4): the MIME message Veil clients write (spec/mailbox-api.md "Sending":
// From, To, Subject, Date, Message-ID, a text/plain body, attachments as base64 parts in multipart/mixed) and the
// summary that travels sealed with each copy. Pure functions over strings and bytes; the sealing is the mail worker's.
import { bytesToHex, randomBytes } from "../lib/bytes";

export interface DraftAttachment { name: string; type: string; bytes: Uint8Array }

export interface Draft {
  from: string;
  to: string[];
  subject: string;
  body: string;
  attachments: DraftAttachment[];
}

const utf8 = new TextEncoder();
const Days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const Months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** RFC 5322 date in UTC, as the C# client writes it. */
export function mailDate(now: Date): string {
  const two = (n: number) => String(n).padStart(2, "0");
  return `${Days[now.getUTCDay()]}, ${two(now.getUTCDate())} ${Months[now.getUTCMonth()]} ${now.getUTCFullYear()} ${two(now.getUTCHours())}:${two(now.getUTCMinutes())}:${two(now.getUTCSeconds())} +0000`;
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function lines76(text: string): string {
  return text.replace(/.{1,76}/g, "$&\r\n");
}

/** An unstructured header value: ASCII as is (CR/LF removed), anything else as one RFC 2047 B word per 45 bytes. */
function headerText(value: string): string {
  const clean = value.replace(/[\r\n]+/g, " ");
  // eslint-disable-next-line no-control-regex
  if (/^[\x20-\x7e]*$/.test(clean)) return clean;
  const words: string[] = [];
  let current = "";
  for (const ch of clean) {
    if (utf8.encode(current + ch).length > 45) {
      words.push(current);
      current = "";
    }
    current += ch;
  }
  words.push(current);
  return words.map((w) => `=?utf-8?B?${base64(utf8.encode(w))}?=`).join("\r\n ");
}

function fileName(name: string): string {
  // eslint-disable-next-line no-control-regex
  const safe = name.replace(/[\u0000-\u001f"\\]/g, "_");
  // eslint-disable-next-line no-control-regex
  return /^[\x20-\x7e]*$/.test(safe) ? `filename="${safe}"` : `filename*=utf-8''${encodeURIComponent(safe)}`;
}

export function buildMime(draft: Draft, now: Date): { mime: Uint8Array<ArrayBuffer>; date: string; messageId: string } {
  const date = mailDate(now);
  const domain = draft.from.slice(draft.from.indexOf("@") + 1);
  const messageId = `<${bytesToHex(randomBytes(16))}@${domain}>`;
  const head = [
    `From: ${draft.from}`,
    `To: ${draft.to.join(", ")}`,
    `Subject: ${headerText(draft.subject)}`,
    `Date: ${date}`,
    `Message-ID: ${messageId}`,
    "MIME-Version: 1.0",
  ];
  const text = ["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: base64", "", lines76(base64(utf8.encode(draft.body)))].join("\r\n");
  let body: string;
  if (draft.attachments.length === 0) {
    body = head.join("\r\n") + "\r\n" + text;
  } else {
    const boundary = "veil-" + bytesToHex(randomBytes(12));
    const parts = [text, ...draft.attachments.map((a) => [
      `Content-Type: ${/^[\w.+-]+\/[\w.+-]+$/.test(a.type) ? a.type : "application/octet-stream"}`,
      `Content-Disposition: attachment; ${fileName(a.name)}`,
      "Content-Transfer-Encoding: base64",
      "",
      lines76(base64(a.bytes)),
    ].join("\r\n"))];
    body = head.join("\r\n") + `\r\nContent-Type: multipart/mixed; boundary="${boundary}"\r\n\r\n`
      + parts.map((p) => `--${boundary}\r\n${p}`).join("") + `--${boundary}--\r\n`;
  }
  return { mime: utf8.encode(body), date, messageId };
}

/** The summary sealed with each copy (spec/mailbox-api.md "Summary", plus "to" for sent mail). */
export function summaryOf(draft: Draft, date: string): Uint8Array<ArrayBuffer> {
  const snippet = draft.body.split(/\s+/).filter(Boolean).join(" ").slice(0, 200);
  return utf8.encode(JSON.stringify({ v: 1, from: draft.from, subject: draft.subject, date, snippet, attachments: draft.attachments.map((a) => a.name), to: draft.to }));
}
