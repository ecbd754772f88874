// The Drop HTTP API (spec/drop-api.md) as the pages and the worker use it. Errors are RFC 9457 problems:
// callers switch on `code`, never on the title.

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, readonly detail?: string, readonly retryAfter?: number) {
    super(detail ?? code);
  }
}

export interface PasswordWrap {
  salt: string;
  wrappedKey: string;
}

export interface CreateDropRequest {
  contentSize: number;
  expiresInSeconds: number;
  maxDownloads: number | null;
  password?: PasswordWrap | null;
  /** A signed-in sender's name key (spec/drop.md §8): the metadata key wrapped under the user key. */
  ownerNameKey?: string;
}

export interface CreateDropResponse {
  id: string;
  ownerToken: string;
  partSize: number;
  partCount: number;
  uploadExpiresAt: string;
}

export interface DropInfo {
  id: string;
  contentSize: number;
  metadata: string;
  expiresAt: string;
  password: PasswordWrap | null;
}

export interface DownloadTicket {
  ticket: string;
  ticketExpiresAt: string;
  contentSize: number;
}

async function problem(response: Response): Promise<ApiError> {
  let code = "http-" + response.status;
  let detail: string | undefined;
  try {
    const body = (await response.json()) as { code?: unknown; detail?: unknown; title?: unknown };
    if (typeof body.code === "string") code = body.code;
    if (typeof body.detail === "string") detail = body.detail;
    else if (typeof body.title === "string") detail = body.title;
  } catch {
    // Not a problem document (a proxy's error page): the status code is all there is.
  }
  const retry = Number(response.headers.get("Retry-After"));
  return new ApiError(response.status, code, detail, Number.isFinite(retry) && retry > 0 ? retry : undefined);
}

export class DropApi {
  /**
   * `base` is the server's path prefix ("" when Veil is served at the root). `accessToken`, when the sender is signed
   * in, goes with create only: it makes the account the drop's owner; every later call proves ownership with the
   * owner token, so an access token expiring during a long upload changes nothing.
   */
  constructor(private readonly base: string, private readonly accessToken: string | null = null) {}

  private url(path: string): string {
    return this.base + "/api/v1" + path;
  }

  private async json<T>(response: Response): Promise<T> {
    if (!response.ok) throw await problem(response);
    return (await response.json()) as T;
  }

  async create(request: CreateDropRequest): Promise<CreateDropResponse> {
    const headers: Record<string, string> = { "Content-Type": "application/json" };
    if (this.accessToken) headers.Authorization = `Bearer ${this.accessToken}`;
    return this.json(await fetch(this.url("/drops"), { method: "POST", headers, body: JSON.stringify(request) }));
  }

  async putMetadata(id: string, owner: string, blob: Uint8Array<ArrayBuffer>): Promise<void> {
    const response = await fetch(this.url(`/drops/${id}/metadata`), {
      method: "PUT",
      headers: { "Content-Type": "application/octet-stream", "X-Owner-Token": owner },
      body: blob,
    });
    if (!response.ok) throw await problem(response);
  }

  async putPart(id: string, owner: string, n: number, body: Uint8Array<ArrayBuffer>): Promise<void> {
    const response = await fetch(this.url(`/drops/${id}/parts/${n}`), {
      method: "PUT",
      headers: { "Content-Type": "application/octet-stream", "X-Owner-Token": owner },
      body,
    });
    if (!response.ok) throw await problem(response);
  }

  async finalize(id: string, owner: string): Promise<void> {
    const response = await fetch(this.url(`/drops/${id}/finalize`), { method: "POST", headers: { "X-Owner-Token": owner } });
    if (!response.ok) throw await problem(response);
  }

  async delete(id: string, owner: string): Promise<void> {
    const response = await fetch(this.url(`/drops/${id}`), { method: "DELETE", headers: { "X-Owner-Token": owner } });
    if (!response.ok) throw await problem(response);
  }

  async info(id: string): Promise<DropInfo> {
    return this.json(await fetch(this.url(`/drops/${id}`), { cache: "no-store" }));
  }

  async startDownload(id: string): Promise<DownloadTicket> {
    return this.json(await fetch(this.url(`/drops/${id}/downloads`), { method: "POST" }));
  }

  async content(id: string, ticket: string, from = 0, signal?: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = { "X-Download-Ticket": ticket };
    if (from > 0) headers.Range = `bytes=${from}-`;
    const response = await fetch(this.url(`/drops/${id}/content`), { headers, cache: "no-store", signal });
    if (!response.ok) throw await problem(response);
    return response;
  }
}

/** The server's path prefix, from the current page path (`…/d/{id}` or `…/drop`). */
export function basePath(pathname: string, page: "download" | "drop"): string {
  if (page === "download") {
    const at = pathname.lastIndexOf("/d/");
    return at < 0 ? "" : pathname.substring(0, at);
  }
  return pathname.replace(/\/drop\/?$/, "");
}
