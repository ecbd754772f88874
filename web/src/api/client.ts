// The one HTTP client of the app. Every request goes through send(): it attaches the in-memory access token,
// turns any problem document (RFC 9457) into ApiError, and when the token has expired refreshes it once through
// the HttpOnly refresh cookie (spec/identity-api.md) and retries. Module APIs build on request().
import { ApiError } from "../lib/api";
import * as session from "../session/store";

export { ApiError };

export interface RequestOptions {
  /** Send the access token (default true when one is held). */
  auth?: boolean;
  signal?: AbortSignal;
  /** Extra request headers (a Vault file upload carries its sealed name and key in headers). */
  headers?: Record<string, string>;
}

async function toError(response: Response): Promise<ApiError> {
  let code = `http-${response.status}`;
  let detail: string | undefined;
  try {
    const problem = (await response.json()) as { code?: unknown; detail?: unknown };
    if (typeof problem.code === "string") code = problem.code;
    if (typeof problem.detail === "string") detail = problem.detail;
  } catch {
    // Not JSON (a proxy's error page): the status code is all there is.
  }
  const retry = Number(response.headers.get("Retry-After"));
  return new ApiError(response.status, code, detail, Number.isFinite(retry) && retry > 0 ? retry : undefined);
}

async function send(method: string, path: string, body: unknown, options: RequestOptions): Promise<Response> {
  const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
  const token = options.auth === false ? null : session.currentAccessToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  // A Blob is sent as it is (its size becomes Content-Length, which a file upload requires); anything else is JSON.
  const raw = body instanceof Blob;
  if (body !== undefined) headers["Content-Type"] = raw ? "application/octet-stream" : "application/json";
  return fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : raw ? body : JSON.stringify(body),
    credentials: "same-origin",
    cache: "no-store",
    signal: options.signal,
  });
}

let refreshing: Promise<boolean> | null = null;

/**
 * Exchanges the refresh cookie for a new access token (the cookie rotates). Concurrent callers share one
 * exchange: presenting a rotated refresh token twice would revoke the session (refresh-token-reused).
 */
export function refreshSession(): Promise<boolean> {
  refreshing ??= (async () => {
    try {
      let response = await send("POST", "/api/v1/auth/refresh", {}, { auth: false });
      // Another tab refreshed with the same cookie a moment ago: its answer already put the new token in the
      // cookie, so one retry presents that one (spec/identity-api.md, refresh-token-superseded).
      if (response.status === 409) response = await send("POST", "/api/v1/auth/refresh", {}, { auth: false });
      if (!response.ok) return false;
      const tokens = (await response.json()) as TokenResponse;
      session.setAccessToken(tokens.accessToken);
      return true;
    } catch {
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

async function respond(method: string, path: string, body: unknown, options: RequestOptions): Promise<Response> {
  let response = await send(method, path, body, options);
  if (response.status === 401 && options.auth !== false && session.currentAccessToken()) {
    const error = await toError(response);
    if (error.code !== "unauthorized") throw error;
    // The access token expired (15 minutes) or was revoked: one refresh, one retry; a refused refresh signs out.
    if (!(await refreshSession())) {
      session.clear();
      throw error;
    }
    response = await send(method, path, body, options);
  }
  if (!response.ok) throw await toError(response);
  return response;
}

export async function request<T>(method: string, path: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
  const response = await respond(method, path, body, options);
  if (response.status === 204 || response.status === 202 && response.headers.get("Content-Length") === "0") return undefined as T;
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** A GET whose answer is bytes (a sealed mail message), with the same token, refresh and problem handling. */
export async function requestBytes(path: string, options: RequestOptions = {}): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await (await respond("GET", path, undefined, options)).arrayBuffer());
}

export const api = {
  get: <T>(path: string, options?: RequestOptions) => request<T>("GET", path, undefined, options),
  post: <T>(path: string, body: unknown = {}, options?: RequestOptions) => request<T>("POST", path, body, options),
  put: <T>(path: string, body: unknown, options?: RequestOptions) => request<T>("PUT", path, body, options),
  patch: <T>(path: string, body: unknown, options?: RequestOptions) => request<T>("PATCH", path, body, options),
  delete: <T = void>(path: string, options?: RequestOptions) => request<T>("DELETE", path, undefined, options),
};

export interface TokenResponse {
  accessToken: string;
  tokenType: "Bearer";
  expiresIn: number;
  refreshToken: string | null;
  sessionId: string;
  accountId: string;
  twoFactorRequired?: false;
}
