// Notices from the server's operator (a breach notification): listed until this account marks each as read
// (spec/identity-api.md "Notices").
import { api } from "./client";

export interface AccountNotice {
  id: string;
  subject: string;
  body: string;
  createdAt: string;
}

export const noticesApi = {
  list: () => api.get<{ notices: AccountNotice[] }>("/api/v1/account/notices"),
  acknowledge: (id: string) => api.post<void>(`/api/v1/account/notices/${encodeURIComponent(id)}/ack`),
};
