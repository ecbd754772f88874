// A lane worker for threaded.ts: waits for one LaneJob, helps fill the lanes of that derivation, and is done (the
// key derivation worker that started it terminates it afterwards).
import { joinLanes, type LaneJob } from "./lanes";

self.onmessage = (event: MessageEvent<LaneJob>) => {
  joinLanes(event.data);
};
