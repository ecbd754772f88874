// The signed-in mailbox API (spec/mailbox-api.md) through the app's one client. Summaries and messages arrive sealed
// to the address keys; only the mail worker opens them.
import { api, requestBytes } from "../api/client";

export interface MailAddressDto {
  id: string;
  address: string;
  fingerprint: string;
  publicKey: string;
  wrappedToken: string;
  wrappedPrivateKey: string;
  createdAt: string;
}

export type Folder = "inbox" | "sent";

export interface MessageDto {
  id: string;
  addressId: string;
  envelopeFrom: string;
  size: number;
  sealedSize: number;
  receivedAt: string;
  threadId: string | null;
  summary: string;
  folder: Folder;
  expiresAt: string | null;
  maxViews: number | null;
  views: number;
  gone: string | null;
}

export interface SendBody {
  fromAddressId: string;
  copies: { recipient: string | null; sealedMessage: string; sealedSummary: string; size: number }[];
  sentCopy: { recipient: string | null; sealedMessage: string; sealedSummary: string; size: number };
  outside: { recipients: string[]; message: string } | null;
}

/** The server's page size limit (1–500). */
export const PageSize = 500;

export const mailApi = {
  addresses: () => api.get<MailAddressDto[]>("/api/v1/mail/addresses"),
  messages: (folder: Folder, before: string | null) =>
    api.get<MessageDto[]>(`/api/v1/mail/messages?folder=${folder}&limit=${PageSize}${before ? `&before=${encodeURIComponent(before)}` : ""}`),
  /** The sealed raw message (for a confidential copy this spends a view). */
  sealed: (id: string) => requestBytes(`/api/v1/mail/messages/${encodeURIComponent(id)}/sealed`),
  remove: (id: string) => api.delete(`/api/v1/mail/messages/${encodeURIComponent(id)}`),
  send: (body: SendBody) => api.post<{ sentId: string; veilRecipients: string[]; outsiders: string[] }>("/api/v1/mail/messages", body),
  publishedKey: (address: string) => api.get<{ address: string; fingerprint: string; publicKey: string }>(`/api/v1/mail/keys?address=${encodeURIComponent(address)}`),
};
