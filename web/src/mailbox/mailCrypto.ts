// The page's side of mail.worker.ts: one long-lived worker while the mailbox is open and unlocked (the address keys
// are parsed once, not per message). Requests carry an id; answers resolve the matching promise. end() terminates
// the worker, and with it every key it held (Lock, leaving the mailbox).
import type { ReadMessage } from "./mime";
import type { Summary } from "./summary";
import type { MailWorkerReply, MailWorkerRequest, SealedAddress, SealedCopy, SealedSummary, SignatureState } from "./mail.worker";

type Pending = { resolve: (reply: MailWorkerReply) => void; reject: (error: Error) => void };
type Unsent<R> = R extends unknown ? Omit<R, "rid"> : never;

export class MailCrypto {
  private readonly worker = new Worker(new URL("./mail.worker.ts", import.meta.url), { type: "module" });
  private readonly pending = new Map<number, Pending>();
  private next = 1;

  constructor() {
    this.worker.onmessage = (event: MessageEvent<MailWorkerReply>) => {
      const waiting = this.pending.get(event.data.rid);
      if (!waiting) return;
      this.pending.delete(event.data.rid);
      if (event.data.type === "error") waiting.reject(new Error(event.data.message));
      else waiting.resolve(event.data);
    };
    this.worker.onerror = (event) => {
      for (const waiting of this.pending.values()) waiting.reject(new Error(event.message || "The mail worker failed."));
      this.pending.clear();
    };
  }

  private call<T extends MailWorkerReply["type"]>(request: Unsent<MailWorkerRequest>, transfer: Transferable[] = []): Promise<Extract<MailWorkerReply, { type: T }>> {
    const rid = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(rid, { resolve: resolve as (reply: MailWorkerReply) => void, reject });
      this.worker.postMessage({ ...request, rid } as MailWorkerRequest, transfer);
    });
  }

  /** Opens every address's key in the worker (a copy of the user key is sent and wiped there). */
  async unlock(userKey: Uint8Array, addresses: SealedAddress[]): Promise<{ opened: string[]; failed: string[] }> {
    const copy = new Uint8Array(userKey);
    const reply = await this.call<"unlocked">({ type: "unlock", userKey: copy, addresses }, [copy.buffer]);
    return { opened: reply.opened, failed: reply.failed };
  }

  async summaries(items: SealedSummary[]): Promise<{ id: string; summary: Summary | null }[]> {
    return (await this.call<"summaries">({ type: "summaries", items })).results;
  }

  async read(addressId: string, sealed: Uint8Array<ArrayBuffer>, verifier: string | null): Promise<{ message: ReadMessage; signature: SignatureState }> {
    const reply = await this.call<"read">({ type: "read", addressId, sealed, verifier }, [sealed.buffer]);
    return { message: reply.message, signature: reply.signature };
  }

  /** Seals a composed message for each recipient key (recipient null: the Sent copy); copies of the bytes are sent. */
  async seal(addressId: string, mime: Uint8Array, summary: Uint8Array, recipients: { recipient: string | null; publicKey: string }[]): Promise<SealedCopy[]> {
    const m = new Uint8Array(mime);
    const s = new Uint8Array(summary);
    return (await this.call<"sealed">({ type: "seal", addressId, mime: m, summary: s, recipients }, [m.buffer, s.buffer])).copies;
  }

  /** Base64 of a large buffer, off the page's thread. */
  async base64(bytes: Uint8Array): Promise<string> {
    const copy = new Uint8Array(bytes);
    return (await this.call<"base64">({ type: "base64", bytes: copy }, [copy.buffer])).text;
  }

  end(): void {
    this.worker.terminate();
    for (const waiting of this.pending.values()) waiting.reject(new Error("The mailbox was locked."));
    this.pending.clear();
  }
}
