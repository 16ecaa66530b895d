// Reading a time window without loss. The SIEM API's `limit` keeps the MOST RECENT N detections, so a
// response with N items may have dropped older ones: the window is split in two at its midpoint and each
// half is read, oldest first, until every part returns fewer than N. A part that cannot be split further
// (a few milliseconds holding more than N) is read without `limit`.
import type { Detection, SourceKind } from "../record.js";
import { TICKS_PER_MS, type Ticks } from "../timestamp.js";
import type { AlertsQuery } from "./siem-api.js";

/** A fully read part of the window: every detection in [since, until] is in `detections`. */
export interface WindowPart {
  /** The schema of `detections` (which API they come from). */
  readonly kind: SourceKind;
  readonly since: Ticks;
  readonly until: Ticks;
  readonly detections: Detection[];
  /** Requests this part took, full responses that led to a split included. */
  readonly requests: number;
}

/** Query bounds go out in whole milliseconds, so a part narrower than this cannot be split. */
export const MIN_SPLIT_TICKS = 2n * TICKS_PER_MS;

/**
 * Yields fully read parts of [since, until] in time order. The caller may store each part (and move its
 * checkpoint to the part's newest detection) before the next one is read: every later part lies after it.
 */
export async function* readWindow(
  since: Ticks,
  until: Ticks,
  limit: number,
  fetch: (query: AlertsQuery) => Promise<Detection[]>,
): AsyncGenerator<WindowPart> {
  // A stack of parts still to read, newest at the bottom, so the oldest is always read next.
  const stack: Array<[Ticks, Ticks]> = [[since, until]];
  let splitRequests = 0;
  while (stack.length > 0) {
    const [s, u] = stack.pop() as [Ticks, Ticks];
    const detections = await fetch({ since: s, until: u, limit });
    if (detections.length < limit) {
      yield { kind: "siem", since: s, until: u, detections, requests: splitRequests + 1 };
      splitRequests = 0;
      continue;
    }
    if (u - s <= MIN_SPLIT_TICKS) {
      const all = await fetch({ since: s, until: u });
      yield { kind: "siem", since: s, until: u, detections: all, requests: splitRequests + 2 };
      splitRequests = 0;
      continue;
    }
    splitRequests++;
    // Split on a whole millisecond; the halves share that millisecond so that neither an inclusive nor an
    // exclusive reading of the bounds by the API can lose a detection sitting exactly on it (dedupe drops
    // the double).
    const mid = s + ((u - s) / 2n / TICKS_PER_MS) * TICKS_PER_MS;
    stack.push([mid, u]);
    stack.push([s, mid + TICKS_PER_MS < u ? mid + TICKS_PER_MS : u]);
  }
}
