// The anonymous claim API (spec/vault-api.md, "Claim"). Its own small fetch instead of api/client.ts: the heir has no
// session, and a wrong code's problem carries `attemptsLeft`, which the shared ApiError does not keep.
import { ApiError } from "../lib/api";
import type { SealedItem } from "../crypto/vault";

export interface ClaimedVault {
  rehearsal: false;
  vaultId: string;
  recipientId: string;
  escrow: string;
  deliveryKey: string;
  vault: { name: string; items: SealedItem[] };
  downloadToken: string;
  downloadTokenExpiresAt: string;
}

export interface RehearsalClaim {
  rehearsal: true;
  recipients: number;
}

/** A refused claim: the problem's code, and for `wrong-code` how many tries the link has left. */
export class ClaimError extends ApiError {
  constructor(status: number, code: string, detail: string | undefined, retryAfter: number | undefined, readonly attemptsLeft?: number) {
    super(status, code, detail, retryAfter);
  }
}

async function post<T>(path: string, body: unknown): Promise<T> {
  const response = await fetch(path, {
    method: "POST",
    headers: { Accept: "application/json", "Content-Type": "application/json" },
    body: JSON.stringify(body),
    credentials: "omit",
    cache: "no-store",
  });
  if (response.ok) return (await response.json()) as T;
  let code = `http-${response.status}`;
  let detail: string | undefined;
  let attemptsLeft: number | undefined;
  try {
    const problem = (await response.json()) as { code?: unknown; detail?: unknown; attemptsLeft?: unknown };
    if (typeof problem.code === "string") code = problem.code;
    if (typeof problem.detail === "string") detail = problem.detail;
    if (typeof problem.attemptsLeft === "number") attemptsLeft = problem.attemptsLeft;
  } catch {
    // Not JSON: the status is all there is.
  }
  const retry = Number(response.headers.get("Retry-After"));
  throw new ClaimError(response.status, code, detail, Number.isFinite(retry) && retry > 0 ? retry : undefined, attemptsLeft);
}

export const claimApi = {
  requestCode: (token: string) => post<{ expiresAt: string }>("/api/v1/vault/claim/code", { token }),
  claim: (token: string, code: string) => post<ClaimedVault | RehearsalClaim>("/api/v1/vault/claim", { token, code }),
};
