// Messages between the pages and worker.ts.

export interface SendRequest {
  type: "send";
  file: File;
  base: string;
  expiresInSeconds: number;
  maxDownloads: number | null;
  password: string | null;
  /** The signed-in sender's access token (the drop then belongs to the account), or null for an anonymous drop. */
  accessToken: string | null;
  /** The signed-in sender's user key, when the page opened it: the drop's name then stays readable in Your drops. */
  userKey: Uint8Array | null;
}

export interface Argon2Request {
  type: "argon2";
  password: string;
  salt: Uint8Array;
}

export type WorkerRequest = SendRequest | Argon2Request;

export type WorkerReply =
  | { type: "phase"; text: string }
  | { type: "progress"; encrypted: number; uploaded: number; total: number }
  | { type: "sent"; id: string; key: string | null; ownerToken: string }
  | { type: "argon2"; key: Uint8Array<ArrayBuffer> }
  | { type: "error"; message: string; code?: string };
