// A small MIME reader (RFC 2045-2047, 2231) for the password mail page: headers with encoded words, nested
// multiparts, base64 and quoted-printable bodies, attachment names. Enough for what Veil clients write (Veil.Mail's
// MimeMessageBuilder) and for ordinary mail; anything it cannot read becomes an attachment, never markup. Pure
// functions over bytes, no DOM.

export interface MimeAttachment {
  name: string;
  type: string;
  bytes: Uint8Array<ArrayBuffer>;
}

export interface ReadMessage {
  from: string;
  to: string;
  subject: string;
  date: string;
  text: string | null;
  /** The HTML part, if any: this page never renders it (offered as a download instead). */
  html: string | null;
  attachments: MimeAttachment[];
}

interface Part {
  headers: Map<string, string>;
  body: string; // Latin-1: one char per byte
}

const latin1 = new TextDecoder("latin1");

export function readMessage(mime: Uint8Array): ReadMessage {
  const root = parsePart(latin1.decode(mime));
  const result: ReadMessage = {
    from: decodeWords(root.headers.get("from") ?? ""),
    to: decodeWords(root.headers.get("to") ?? ""),
    subject: decodeWords(root.headers.get("subject") ?? ""),
    date: root.headers.get("date") ?? "",
    text: null,
    html: null,
    attachments: [],
  };
  walk(root, result, 0);
  return result;
}

function walk(part: Part, into: ReadMessage, depth: number): void {
  const type = parameters(part.headers.get("content-type") ?? "text/plain");
  const media = type.value.toLowerCase();
  const disposition = parameters(part.headers.get("content-disposition") ?? "");
  const name = disposition.params.get("filename") ?? type.params.get("name");
  if (media.startsWith("multipart/") && type.params.has("boundary") && depth < 10) {
    for (const child of splitMultipart(part.body, type.params.get("boundary")!)) walk(parsePart(child), into, depth + 1);
    return;
  }
  const bytes = decodeBody(part.body, (part.headers.get("content-transfer-encoding") ?? "7bit").trim().toLowerCase());
  const isAttachment = disposition.value.toLowerCase() === "attachment" || name !== undefined;
  if (!isAttachment && media === "text/plain" && into.text === null) {
    into.text = decodeText(bytes, type.params.get("charset"));
  } else if (!isAttachment && media === "text/html" && into.html === null) {
    into.html = decodeText(bytes, type.params.get("charset"));
  } else {
    into.attachments.push({ name: safeName(name ?? `attachment-${into.attachments.length + 1}`), type: media, bytes });
  }
}

function parsePart(raw: string): Part {
  const split = /\r?\n\r?\n/.exec(raw);
  const head = split ? raw.slice(0, split.index) : raw;
  const body = split ? raw.slice(split.index + split[0].length) : "";
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]/g, " ").split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(key)) headers.set(key, utf8(line.slice(colon + 1).trim()));
  }
  return { headers, body };
}

function splitMultipart(body: string, boundary: string): string[] {
  const parts: string[] = [];
  const lines = body.split(/\r?\n/);
  let current: string[] | null = null;
  for (const line of lines) {
    if (line.startsWith("--" + boundary)) {
      if (current) parts.push(current.join("\r\n"));
      if (line.startsWith("--" + boundary + "--")) return parts;
      current = [];
    } else if (current) {
      current.push(line);
    }
  }
  if (current) parts.push(current.join("\r\n"));
  return parts;
}

function parameters(value: string): { value: string; params: Map<string, string> } {
  const pieces = value.split(";");
  const params = new Map<string, string>();
  const continued = new Map<string, string[]>();
  for (const piece of pieces.slice(1)) {
    const eq = piece.indexOf("=");
    if (eq <= 0) continue;
    let key = piece.slice(0, eq).trim().toLowerCase();
    let val = piece.slice(eq + 1).trim();
    if (val.startsWith('"') && val.endsWith('"')) val = val.slice(1, -1).replace(/\\(.)/g, "$1");
    const section = /^(.*)\*(\d+)\*?$/.exec(key);
    if (section) {
      const list = continued.get(section[1]!) ?? [];
      list[Number(section[2])] = key.endsWith("*") ? rfc2231(val, Number(section[2]) === 0) : val;
      continued.set(section[1]!, list);
      continue;
    }
    if (key.endsWith("*")) {
      key = key.slice(0, -1);
      val = rfc2231(val, true);
    } else {
      val = decodeWords(val);
    }
    params.set(key, val);
  }
  for (const [key, list] of continued) params.set(key, list.join(""));
  return { value: pieces[0]!.trim(), params };
}

// RFC 2231: charset'language'percent-encoded (the first section carries the charset).
function rfc2231(value: string, first: boolean): string {
  const text = first ? value.replace(/^[^']*'[^']*'/, "") : value;
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** RFC 2047 encoded words (B and Q), any charset TextDecoder knows. */
export function decodeWords(value: string): string {
  return value.replace(/=\?([^?]+)\?([bBqQ])\?([^?]*)\?=(\s+(?==\?))?/g, (_all, charset: string, encoding: string, text: string) => {
    const bytes = encoding.toUpperCase() === "B"
      ? base64(text)
      : Uint8Array.from(latin1Bytes(text.replace(/_/g, " ").replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)))));
    return decodeText(bytes, charset);
  });
}

function decodeBody(body: string, encoding: string): Uint8Array<ArrayBuffer> {
  if (encoding === "base64") return base64(body.replace(/[^A-Za-z0-9+/=]/g, ""));
  if (encoding === "quoted-printable") {
    const text = body.replace(/=\r?\n/g, "").replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    return latin1Bytes(text);
  }
  return latin1Bytes(body);
}

function decodeText(bytes: Uint8Array, charset: string | undefined): string {
  try {
    return new TextDecoder((charset ?? "utf-8").trim().toLowerCase()).decode(bytes);
  } catch {
    return new TextDecoder("utf-8").decode(bytes);
  }
}

function base64(text: string): Uint8Array<ArrayBuffer> {
  try {
    return latin1Bytes(atob(text));
  } catch {
    return new Uint8Array(0);
  }
}

function latin1Bytes(text: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

// Header values arrive as Latin-1; 8-bit headers (RFC 6532) are UTF-8.
function utf8(latin: string): string {
  // eslint-disable-next-line no-control-regex
  return /[\u0080-\u00ff]/.test(latin) ? decodeText(latin1Bytes(latin), "utf-8") : latin;
}

/** A file name as a download name: no path, no control characters. */
function safeName(name: string): string {
  // eslint-disable-next-line no-control-regex
  const base = name.replace(/^.*[\\/]/, "").replace(/[\u0000-\u001f\u007f]/g, "").trim();
  return base.length > 0 ? base.slice(0, 200) : "attachment";
}
