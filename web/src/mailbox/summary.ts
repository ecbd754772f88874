// The sealed summary of a stored message (spec/mailbox-api.md "Summary"), read defensively: the server sealed it, and
// a zero-access design does not trust the server, so every member is checked for its type and anything else is
// dropped. Every value is shown as text, never as markup.

export interface Verdict { result: string; domain: string | null }

export interface Authentication { spf: Verdict; dkim: Verdict[]; dmarc: Verdict; dmarcPolicy: string | null }

export interface Summary {
  from: string;
  subject: string;
  date: string | null;
  snippet: string;
  attachments: string[];
  /** Inbound verdicts; null for version 1 summaries and mail sent from a Veil client ("not recorded"). */
  authentication: Authentication | null;
  to: string[];
  kind: string | null;
}

const text = (value: unknown, max = 2000): string => (typeof value === "string" ? value.slice(0, max) : "");
const texts = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === "string").slice(0, 100) : []);

function verdict(value: unknown): Verdict {
  const v = (value ?? {}) as Record<string, unknown>;
  return { result: text(v.result, 20) || "none", domain: typeof v.domain === "string" ? v.domain.slice(0, 255) : null };
}

export function parseSummary(json: string): Summary | null {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof raw !== "object" || raw === null) return null;
  const s = raw as Record<string, unknown>;
  const auth = s.authentication as Record<string, unknown> | null | undefined;
  return {
    from: text(s.from, 500),
    subject: text(s.subject, 1000),
    date: typeof s.date === "string" ? s.date : null,
    snippet: text(s.snippet, 300),
    attachments: texts(s.attachments),
    authentication: auth && typeof auth === "object"
      ? { spf: verdict(auth.spf), dkim: Array.isArray(auth.dkim) ? auth.dkim.slice(0, 10).map(verdict) : [], dmarc: verdict(auth.dmarc), dmarcPolicy: typeof auth.dmarcPolicy === "string" ? auth.dmarcPolicy : null }
      : null,
    to: texts(s.to),
    kind: typeof s.kind === "string" ? s.kind : null,
  };
}
