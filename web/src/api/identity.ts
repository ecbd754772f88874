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

export interface TwoFactorStatus {
  totpEnabled: boolean;
  backupCodesRemaining: number;
  recoveryCodesRemaining: number;
}

export interface TotpEnrolment {
  secret: string;
  otpauthUri: string;
}

export interface ApiKeyInfo {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
}

export interface KdfChange {
  newAuthToken: string;
  newKdf: KdfParameters;
  newProtectedUserKey: string;
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
  stepUp: (authToken: string, totpCode: string | null) =>
    api.post<{ accessToken: string; expiresIn: number; authTime: string }>("/api/v1/auth/step-up", { authToken, totpCode }),
  twoFactor: () => api.get<TwoFactorStatus>("/api/v1/account/2fa"),
  startTotp: () => api.post<TotpEnrolment>("/api/v1/account/2fa/totp"),
  confirmTotp: (code: string) => api.post<{ backupCodes: string[] }>("/api/v1/account/2fa/totp/confirm", { code }),
  disableTotp: () => api.delete("/api/v1/account/2fa/totp"),
  newBackupCodes: () => api.post<{ backupCodes: string[] }>("/api/v1/account/2fa/backup-codes"),
  newRecoveryCodes: () => api.post<{ recoveryCodes: string[] }>("/api/v1/account/recovery-codes"),
  apiKeys: () => api.get<ApiKeyInfo[]>("/api/v1/account/api-keys"),
  createApiKey: (name: string) => api.post<ApiKeyInfo & { key: string }>("/api/v1/account/api-keys", { name }),
  revokeApiKey: (id: string) => api.delete(`/api/v1/account/api-keys/${encodeURIComponent(id)}`),
  changePassword: (body: { currentAuthToken: string } & KdfChange) => api.post<void>("/api/v1/account/password", body),
  changeEmail: (body: { newEmail: string } & KdfChange) => api.post<{ status: string }>("/api/v1/account/email", body),
  deleteAccount: () => api.delete("/api/v1/account"),
  exportAccount: () => api.get<unknown>("/api/v1/account/export"),
  unlockShare: () => api.get<{ share: string }>("/api/v1/account/sessions/current/unlock-share"),
};
