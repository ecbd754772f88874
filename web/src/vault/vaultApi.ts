// The owner's Vault API (spec/vault-api.md) through the app's one client. Every string the server stores is a CT
// sealed in the page (../crypto/vault.ts); the server sees ids, counts, lengths and the recipients' addresses only.
import { api } from "../api/client";
import type { SealedField, SealedItem } from "../crypto/vault";

export interface SwitchDto {
  state: "armed" | "grace" | "paused" | "released" | string;
  intervalSeconds: number;
  graceSeconds: number;
  lastCheckInAt: string;
  deadline: string | null;
  releaseAt: string | null;
  nextReminderAt: string | null;
  stage: string;
  releasedAt: string | null;
}

export interface VaultDto {
  id: string;
  name: string;
  wrappedKey: string;
  createdAt: string;
  usedBytes: number;
  itemCount: number;
  recipientCount: number;
  switch: SwitchDto | null;
}

export interface RecipientDto {
  id: string;
  email: string;
  createdAt: string;
  state: "waiting" | "notified" | "claimed" | "locked" | string;
  notifiedAt: string | null;
  claimedAt: string | null;
}

const base = "/api/v1/vault/vaults";

export const vaultApi = {
  list: () => api.get<{ vaults: VaultDto[] }>(base),
  get: (id: string) => api.get<VaultDto>(`${base}/${id}`),
  create: (body: { id: string; name: string; wrappedKey: string }) => api.post<VaultDto>(base, body),
  items: (id: string) => api.get<{ items: SealedItem[] }>(`${base}/${id}/items`),
  putItem: (id: string, itemId: string, body: { title: string; notes: string | null; tags: string[]; fields: SealedField[]; revision?: number }) =>
    api.put<SealedItem>(`${base}/${id}/items/${itemId}`, body),
  deleteItem: (id: string, itemId: string) => api.delete(`${base}/${id}/items/${itemId}`),
  deleteFile: (id: string, itemId: string, fileId: string) => api.delete(`${base}/${id}/items/${itemId}/files/${fileId}`),
  getSwitch: (id: string) => api.get<SwitchDto>(`${base}/${id}/switch`),
  setSwitch: (id: string, intervalSeconds: number, graceSeconds: number) => api.put<SwitchDto>(`${base}/${id}/switch`, { intervalSeconds, graceSeconds }),
  switchAction: (id: string, action: "checkin" | "pause" | "resume") => api.post<SwitchDto>(`${base}/${id}/switch/${action}`),
  recipients: (id: string) => api.get<{ recipients: RecipientDto[] }>(`${base}/${id}/recipients`),
  addRecipient: (id: string, body: { id: string; email: string; escrow: string; deliveryKey: string }) => api.post<RecipientDto>(`${base}/${id}/recipients`, body),
  removeRecipient: (id: string, rid: string) => api.delete(`${base}/${id}/recipients/${rid}`),
  rehearse: (id: string) => api.post<{ expiresAt: string }>(`${base}/${id}/rehearse`),
};
