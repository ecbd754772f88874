// The Web Worker of both pages: encrypting and uploading a drop, and Argon2id (64 MiB, about a second),
// so the page stays responsive.
import { DropApi } from "./lib/api";
import { deriveWrappingKey } from "./lib/argon2";
import { toBase64Url } from "./lib/bytes";
import { sendDrop } from "./lib/upload";
import { describe } from "./messages";
import { ApiError } from "./lib/api";
import type { WorkerReply, WorkerRequest } from "./protocol";

interface WorkerScope {
  onmessage: ((event: MessageEvent<WorkerRequest>) => void) | null;
  postMessage(message: WorkerReply, transfer?: Transferable[]): void;
}

const scope = self as unknown as WorkerScope;
const reply = (message: WorkerReply, transfer?: Transferable[]) => scope.postMessage(message, transfer);

scope.onmessage = (event) => {
  const request = event.data;
  void handle(request).catch((error: unknown) =>
    reply({ type: "error", message: describe(error), code: error instanceof ApiError ? error.code : undefined }),
  );
};

async function handle(request: WorkerRequest): Promise<void> {
  if (request.type === "argon2") {
    const key = await deriveWrappingKey(request.password, request.salt);
    reply({ type: "argon2", key }, [key.buffer]);
    return;
  }

  let lastProgress = 0;
  const sent = await sendDrop({
    file: request.file,
    api: new DropApi(request.base, request.accessToken),
    expiresInSeconds: request.expiresInSeconds,
    maxDownloads: request.maxDownloads,
    password: request.password,
    ownerUserKey: request.userKey,
    onPhase: (text) => reply({ type: "phase", text }),
    onProgress: (encrypted, uploaded, total) => {
      const now = Date.now();
      if (now - lastProgress < 100 && uploaded < total) return;
      lastProgress = now;
      reply({ type: "progress", encrypted, uploaded, total });
    },
  });
  request.userKey?.fill(0);
  reply({ type: "sent", id: sent.id, key: sent.key ? toBase64Url(sent.key) : null, ownerToken: sent.ownerToken });
}
