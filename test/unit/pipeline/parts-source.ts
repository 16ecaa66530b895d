// A Source whose one window (the last hour) yields the given parts as they are: for poller tests that need no
// HTTP, only what the poller does with the parts it is handed.
import type { Detection } from "../../../src/record.js";
import type { Source } from "../../../src/source/index.js";
import { ticksFromMs } from "../../../src/timestamp.js";

export function partsSource(parts: Detection[][]): Source {
  const now = ticksFromMs(Date.now());
  return {
    tenant: "t",
    kind: "siem",
    planPoll: () => ({
      windows: [{ since: now - ticksFromMs(3_600_000), until: now }],
      settles: now,
      whole: true,
    }),
    async *read(window) {
      for (const detections of parts) {
        yield { kind: "siem", since: window.since, until: window.until, detections, requests: 1 };
      }
    },
  };
}
