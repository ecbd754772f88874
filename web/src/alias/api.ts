// The Alias HTTP API (spec/alias-api.md), typed, over the app's one client. Addresses, notes and labels travel in
// clear over TLS: the server field-encrypts them at rest (docs/THREAT-MODEL.md, Alias) because SMTP must route by
// them; nothing here is end-to-end encrypted.
import { api } from "../api/client";
import { registerMessages } from "../api/messages";

export interface Counters {
  received: number;
  forwarded: number;
  blocked: number;
  replied: number;
  bounced: number;
  lastEmailAt: string | null;
}

export type DisabledAction = "reject" | "discard";

export interface Alias {
  id: string;
  address: string;
  domain: string;
  note: string | null;
  label: string | null;
  enabled: boolean;
  disabledAction: DisabledAction;
  recipientIds: string[];
  counters: Counters;
  createdAt: string;
}

export interface Recipient {
  id: string;
  email: string;
  verified: boolean;
  paused: boolean;
  pausedReason: string | null;
  createdAt: string;
  verifiedAt: string | null;
}

export interface Contact {
  id: string;
  aliasId: string;
  address: string;
  reverseAddress: string;
  blocked: boolean;
  createdAt: string;
  forwarded: number;
  blockedCount: number;
  replied: number;
  lastEmailAt: string | null;
}

export interface Usage {
  plan: string;
  forwardsToday: number;
  forwardsLimit: number;
  createdToday: number;
  createsLimit: number;
  day: string;
}

export type LogEvent = "forwarded" | "blocked" | "rejected" | "discarded" | "replied" | "bounced" | "failed";

export interface LogEntry {
  at: string;
  aliasId: string | null;
  event: LogEvent;
  reason: string | null;
}

export interface CreateAlias {
  prefix: string | null;
  domain: string | null;
  note: string | null;
  label: string | null;
  recipientIds: string[] | null;
}

export interface ChangeAlias {
  note?: string | null;
  label?: string | null;
  enabled?: boolean;
  disabledAction?: DisabledAction;
  recipientIds?: string[];
}

const base = "/api/v1/alias";

export const aliasApi = {
  domains: () => api.get<{ domains: { name: string; catchAll: boolean }[] }>(`${base}/domains`),
  aliases: () => api.get<{ aliases: Alias[] }>(`${base}/aliases`),
  alias: (id: string) => api.get<Alias>(`${base}/aliases/${encodeURIComponent(id)}`),
  create: (body: CreateAlias) => api.post<Alias>(`${base}/aliases`, body),
  change: (id: string, body: ChangeAlias) => api.patch<Alias>(`${base}/aliases/${encodeURIComponent(id)}`, body),
  remove: (id: string) => api.delete(`${base}/aliases/${encodeURIComponent(id)}`),
  recipients: () => api.get<{ recipients: Recipient[] }>(`${base}/recipients`),
  addRecipient: (email: string) => api.post<Recipient>(`${base}/recipients`, { email }),
  removeRecipient: (id: string) => api.delete(`${base}/recipients/${encodeURIComponent(id)}`),
  resumeRecipient: (id: string) => api.post<Recipient>(`${base}/recipients/${encodeURIComponent(id)}/resume`),
  resendVerification: (id: string) => api.post<void>(`${base}/recipients/${encodeURIComponent(id)}/resend`),
  verifyRecipient: (token: string) => api.post<{ verified: true }>(`${base}/recipients/verify`, { token }, { auth: false }),
  contacts: (aliasId: string) => api.get<{ contacts: Contact[] }>(`${base}/aliases/${encodeURIComponent(aliasId)}/contacts`),
  addContact: (aliasId: string, address: string) =>
    api.post<Contact>(`${base}/aliases/${encodeURIComponent(aliasId)}/contacts`, { address }),
  blockContact: (id: string, blocked: boolean) => api.patch<Contact>(`${base}/contacts/${encodeURIComponent(id)}`, { blocked }),
  removeContact: (id: string) => api.delete(`${base}/contacts/${encodeURIComponent(id)}`),
  usage: () => api.get<Usage>(`${base}/usage`),
  log: (limit = 200, aliasId?: string) =>
    api.get<{ entries: LogEntry[] }>(`${base}/log?limit=${limit}${aliasId ? `&aliasId=${encodeURIComponent(aliasId)}` : ""}`),
};

registerMessages({
  "recipient-exists": "This mailbox is already one of your recipients.",
  "recipient-limit": "You have 20 recipient mailboxes already. Remove one to add another.",
  "no-verified-recipient": "An alias needs a confirmed mailbox to forward to. Add a recipient and open the link Veil mails to it first.",
  "alias-daily-limit": "You reached today's limit of new aliases for your plan. Try again tomorrow (UTC).",
});

/** Why a delivery failed or was dropped, from the routing log's reason code (never content). */
export const reasonText: Record<string, string> = {
  "contact-blocked": "the sender is blocked",
  "alias-disabled": "the alias is disabled",
  "quota-exceeded": "the daily forwarding limit was reached",
  "too-large": "the message was too large",
  "recipient-paused": "the recipient mailbox is paused",
  "no-recipient": "the alias has no usable recipient",
  "hard-bounce": "the recipient's server refused it permanently",
  "soft-bounce": "the recipient's server refused it for now",
  malformed: "the message was malformed",
  "recipient-not-verified": "the recipient mailbox is not confirmed",
};
