// The app's HTTP client: problems become ApiError with their code, sentences come from one table, and an expired
// access token is refreshed once through the cookie (one exchange for concurrent callers) and the call retried.
import { afterEach, describe, expect, it, vi } from "vitest";
import { api, ApiError } from "../src/api/client";
import { describeError } from "../src/api/messages";
import * as session from "../src/session/store";

function problem(status: number, code: string, extra: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ type: `urn:veil:problem:${code}`, code, title: "t", ...extra }), {
    status,
    headers: { "Content-Type": "application/problem+json", ...("retry" in extra ? { "Retry-After": extra.retry! } : {}) },
  });
}

const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200, headers: { "Content-Type": "application/json" } });

afterEach(() => {
  vi.unstubAllGlobals();
  session.clear();
});

describe("api client", () => {
  it("turns a problem document into ApiError with its code, and a sentence from the one table", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => problem(401, "invalid-credentials")));
    const error = await api.post("/api/v1/auth/login", {}, { auth: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe("invalid-credentials");
    expect(describeError(error)).toBe("Wrong email address or password.");
  });

  it("says when to try again for rate limits, and names the member for invalid-request", async () => {
    expect(describeError(new ApiError(429, "rate-limited", undefined, 120))).toBe("Too many attempts. Wait a little and try again. (try again in 2 minutes)");
    expect(describeError(new ApiError(400, "invalid-request", "email is not an address"))).toContain("email is not an address");
    expect(describeError(new ApiError(418, "teapot"))).toBe("The server refused the request (teapot).");
    expect(describeError(new TypeError("Failed to fetch"))).toMatch(/connection to the server failed/);
  });

  it("sends the access token and refreshes once through the cookie when it expired, then retries", async () => {
    session.signedIn("old-token", { accountId: "a", email: "a@b.c", recoveryEmail: null, recoveryEmailVerified: false, twoFactorEnabled: false, createdAt: "", sessionId: "s" });
    const calls: { url: string; auth: string | null; body: unknown }[] = [];
    vi.stubGlobal("fetch", vi.fn(async (url: string, init: RequestInit) => {
      const auth = (init.headers as Record<string, string>).Authorization ?? null;
      calls.push({ url, auth, body: init.body });
      if (url === "/api/v1/auth/refresh") return json({ accessToken: "new-token", tokenType: "Bearer", expiresIn: 900, refreshToken: null, sessionId: "s", accountId: "a" });
      return auth === "Bearer new-token" ? json({ ok: true }) : problem(401, "unauthorized");
    }));
    const [a, b] = await Promise.all([api.get<{ ok: boolean }>("/api/v1/x"), api.get<{ ok: boolean }>("/api/v1/y")]);
    expect(a.ok && b.ok).toBe(true);
    expect(calls.filter((c) => c.url === "/api/v1/auth/refresh")).toHaveLength(1);
    const refresh = calls.find((c) => c.url === "/api/v1/auth/refresh")!;
    expect(refresh.auth).toBeNull(); // the refresh token is the HttpOnly cookie, never in the page
    expect(refresh.body).toBe("{}");
  });

  it("signs out when the refresh is refused", async () => {
    session.signedIn("old-token", { accountId: "a", email: "a@b.c", recoveryEmail: null, recoveryEmailVerified: false, twoFactorEnabled: false, createdAt: "", sessionId: "s" });
    session.setUserKey(new Uint8Array(32).fill(1));
    vi.stubGlobal("fetch", vi.fn(async (url: string) => (url === "/api/v1/auth/refresh" ? problem(401, "invalid-refresh-token") : problem(401, "unauthorized"))));
    await expect(api.get("/api/v1/account")).rejects.toBeInstanceOf(ApiError);
    expect(session.status.value).toBe("signed-out");
    expect(session.currentUserKey()).toBeNull();
    expect(session.currentAccessToken()).toBeNull();
  });

  it("lock empties the keys and keeps the session", () => {
    session.signedIn("t", { accountId: "a", email: "a@b.c", recoveryEmail: null, recoveryEmailVerified: false, twoFactorEnabled: false, createdAt: "", sessionId: "s" });
    const key = new Uint8Array(32).fill(9);
    session.setUserKey(key);
    session.lock();
    expect(session.currentUserKey()).toBeNull();
    expect([...key].every((b) => b === 0)).toBe(true);
    expect(session.currentAccessToken()).toBe("t");
  });
});
