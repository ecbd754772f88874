// The public password-mail API (spec/mailbox-api.md "Password mail to outsiders"): no session, no cookie. What the page
// sends is the link's id and, for a reply, a sealed box; never the password, the key or the plaintext.
import { ApiError } from "../lib/api";

export interface PackageInfo {
  expiresAt: string;
  viewsLeft: number | null;
  size: number;
}

async function problem(response: Response): Promise<never> {
  let code = `http-${response.status}`;
  let detail: string | undefined;
  try {
    const body = (await response.json()) as { code?: unknown; detail?: unknown };
    if (typeof body.code === "string") code = body.code;
    if (typeof body.detail === "string") detail = body.detail;
  } catch {
    // Not JSON: the status is all there is.
  }
  const retry = Number(response.headers.get("Retry-After"));
  throw new ApiError(response.status, code, detail, Number.isFinite(retry) && retry > 0 ? retry : undefined);
}

const base = (id: string) => `/api/v1/mail/outsider/${encodeURIComponent(id)}`;

export const outsiderApi = {
  async info(id: string): Promise<PackageInfo> {
    const response = await fetch(`${base(id)}/info`, { headers: { Accept: "application/json" }, credentials: "omit", cache: "no-store" });
    return response.ok ? ((await response.json()) as PackageInfo) : problem(response);
  },
  /** Fetches the package: this counts one view. */
  async fetchPackage(id: string): Promise<Uint8Array<ArrayBuffer>> {
    const response = await fetch(base(id), { credentials: "omit", cache: "no-store" });
    return response.ok ? new Uint8Array(await response.arrayBuffer()) : problem(response);
  },
  async reply(id: string, sealed: string): Promise<{ repliesLeft: number }> {
    const response = await fetch(`${base(id)}/replies`, {
      method: "POST",
      headers: { Accept: "application/json", "Content-Type": "application/json" },
      body: JSON.stringify({ reply: sealed }),
      credentials: "omit",
      cache: "no-store",
    });
    return response.ok ? ((await response.json()) as { repliesLeft: number }) : problem(response);
  },
};
