// The signed-in owner's view of Drop (spec/drop-api.md): list and delete. Sending stays on /drop.
import { api } from "../api/client";
import { registerMessages } from "../api/messages";

export interface OwnedDrop {
  id: string;
  createdAt: string;
  finalized: boolean;
  expiresAt: string | null;
  maxDownloads: number | null;
  downloads: number;
  /** Ciphertext bytes (spec/drop.md): the file's size plus a little per 64 KiB chunk. */
  contentSize: number;
  state: "uploading" | "available" | "expired" | "exhausted" | "taken-down";
  passwordProtected: boolean;
  /** The metadata key wrapped under the user key (spec/drop.md §8); null for drops sent without it. */
  nameKey: string | null;
  /** The metadata ciphertext (base64url), present when nameKey is. */
  metadata: string | null;
}

export const dropApi = {
  mine: () => api.get<{ drops: OwnedDrop[] }>("/api/v1/drops"),
  remove: (id: string) => api.delete(`/api/v1/drops/${encodeURIComponent(id)}`),
  info: (id: string) => api.get<{ id: string; metadata: string }>(`/api/v1/drops/${encodeURIComponent(id)}`, { auth: false }),
};

registerMessages({
  "not-owner": "This drop is not yours.",
  expired: "This drop has expired.",
  "taken-down": "This drop was taken down after an abuse report.",
});
