// The Identity HTTP API (spec/identity-api.md), typed. Browsers always ask for tokenTransport "cookie": the
// refresh token then lives only in the HttpOnly SameSite=Strict cookie, never in page memory.
import type { KdfParameters } from "../crypto/keys";
import type { Account } from "../session/store";
import { api, type TokenResponse } from "./client";

export interface TwoFactorChallenge {
  twoFactorRequired: true;
  challengeToken: string;
  methods: ("totp" | "backup" | "recovery")[];
  expiresIn: number;
}

export type SignInAnswer = TokenResponse | TwoFactorChallenge;

export const clientLabel = "Web browser";

export interface SessionInfo {
  id: string;
  label: string | null;
  createdAt: string;
  lastUsedAt: string;
  current: boolean;
}

export const identityApi = {
  register: (body: { email: string; authToken: string; kdf: KdfParameters; protectedUserKey: string }) =>
    api.post<{ status: string }>("/api/v1/accounts", body, { auth: false }),
  verifyEmail: (token: string) =>
    api.post<{ purpose: "registration" | "recovery-email" | "email-change" }>("/api/v1/accounts/verify-email", { token }, { auth: false }),
  prelogin: (email: string) => api.post<KdfParameters>("/api/v1/auth/prelogin", { email }, { auth: false }),
  login: (email: string, authToken: string) =>
    api.post<SignInAnswer>("/api/v1/auth/login", { email, authToken, clientLabel, tokenTransport: "cookie" }, { auth: false }),
  answerChallenge: (challengeToken: string, method: string, code: string) =>
    api.post<TokenResponse>("/api/v1/auth/login/2fa", { challengeToken, method, code }, { auth: false }),
  requestMagicLink: (email: string) => api.post<{ status: string }>("/api/v1/auth/magic-link", { email }, { auth: false }),
  consumeMagicLink: (token: string) =>
    api.post<SignInAnswer>("/api/v1/auth/magic-link/consume", { token, clientLabel, tokenTransport: "cookie" }, { auth: false }),
  logout: () => api.post<void>("/api/v1/auth/logout", {}, { auth: false }),
  whoami: () => api.get<Account>("/api/v1/account"),
  sessions: () => api.get<SessionInfo[]>("/api/v1/account/sessions"),
  revokeSession: (id: string) => api.delete(`/api/v1/account/sessions/${encodeURIComponent(id)}`),
  revokeOtherSessions: () => api.post<{ revoked: number }>("/api/v1/account/sessions/revoke-others"),
  keys: () => api.get<KdfParameters & { protectedUserKey: string }>("/api/v1/account/keys"),
};
