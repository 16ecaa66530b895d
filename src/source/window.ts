// Reading a time window without loss. The SIEM API's `limit` keeps the MOST RECENT N detections, so a
// response with N items may have dropped older ones: the window is split in two at its midpoint and each
// half is read, oldest first, until every part returns fewer than N. A part that cannot be split further
// (a few milliseconds holding more than N) is read without `limit`. A response with MORE than N items proves
// that the server ignores `limit` and so cut nothing: it is complete as it is, and never split (splitting
// would only download the same whole range again for each half).
// Every full response is thrown away, so during a backfill the next part is cut to the size the last
// complete part's density predicts (about TARGET_FILL of N) before it is asked for: the split stays the
// proof of completeness, the estimate only saves the requests (and the bytes) a blind halving wastes.
// The next part's request is sent (on the wire, not only made) before the current part is handed over, so
// that the API prepares its answer while the caller stores this one (the caller may forbid it for a large
// response: memory).
import type { Detection, SourceKind } from "../record.js";
import { parseTimestamp, TICKS_PER_MS, type Ticks } from "../timestamp.js";
import { takeItemText } from "./bounded-json.js";
import type { AlertsQuery } from "./siem-api.js";

/** A fully read part of the window: every detection in [since, until] is in `detections`. */
export interface WindowPart {
  /** The schema of `detections` (which API they come from). */
  readonly kind: SourceKind;
  readonly since: Ticks;
  readonly until: Ticks;
  readonly detections: Detection[];
  /**
   * Per detection, the compact JSON text it was parsed from, when there is one: its body as stored (no need
   * to encode it again).
   */
  readonly bodies?: ReadonlyArray<string | undefined>;
  /** Requests this part took, full responses that led to a split included. */
  readonly requests: number;
}

/** The span that held about TARGET_FILL * limit detections in the last complete part, kept between reads. */
export interface Density {
  span: Ticks | undefined;
}

/** Query bounds go out in whole milliseconds, so a part narrower than this cannot be split. */
export const MIN_SPLIT_TICKS = 2n * TICKS_PER_MS;

/** The share of `limit` a density-cut part aims at: room for the estimate to be off without a full response. */
const TARGET_FILL = 0.7;

/**
 * Yields fully read parts of [since, until] in time order. The caller may store each part (and move its
 * checkpoint to the part's newest detection) before the next one is read: every later part lies after it.
 */
export async function* readWindow(
  since: Ticks,
  until: Ticks,
  limit: number,
  fetch: (query: AlertsQuery) => Promise<Detection[]>,
  /** Told when a response holds more than `limit` items (the server ignores it). */
  onOverLimit?: (items: number, limit: number) => void,
  /**
   * Whether the next part may be requested while the caller stores this one (the response it read is in
   * hand); always when absent. The caller bounds memory with it: two responses are held at once.
   */
  mayPrefetch?: (detections: readonly Detection[]) => boolean,
  /** Carried from one read to the next (a live tenant's polls): the first part is cut to it too. */
  density: Density = { span: undefined },
): AsyncGenerator<WindowPart> {
  // A stack of parts still to read, newest at the bottom, so the oldest is always read next.
  const stack: Array<[Ticks, Ticks]> = [[since, until]];
  let splitRequests = 0;
  /** The next request, cut to the predicted span; undefined when every part has been read. */
  const take = (): [Ticks, Ticks] | undefined => {
    const top = stack.pop();
    if (top === undefined) return undefined;
    const [s, u] = top;
    const predictedSpan = density.span;
    if (predictedSpan !== undefined && u - s > predictedSpan + MIN_SPLIT_TICKS) {
      const cut = s + (predictedSpan / TICKS_PER_MS) * TICKS_PER_MS;
      stack.push([cut, u]);
      return [s, cut + TICKS_PER_MS];
    }
    return [s, u];
  };
  // A request may run while the caller is busy with the previous part: its failure is seen (and thrown)
  // only when the part is asked for, and never goes unhandled if the caller stops first (outbox full, a
  // failed ingest): then its answer is dropped, and the checkpoint covers what was stored.
  const start = (query: AlertsQuery): Promise<Detection[]> => {
    const p = fetch(query);
    p.catch(() => undefined);
    return p;
  };
  const ask = ([s, u]: [Ticks, Ticks]) => start({ since: s, until: u, limit });
  let next = take();
  let pending = next === undefined ? undefined : ask(next);
  while (next !== undefined && pending !== undefined) {
    const [s, u] = next;
    const detections = await pending;
    pending = undefined;
    if (detections.length > limit) onOverLimit?.(detections.length, limit);
    let complete: Detection[];
    let requests: number;
    if (detections.length !== limit) {
      complete = detections;
      requests = splitRequests + 1;
      // A server that ignores `limit` (and maybe the bounds) says nothing about the density of a range.
      density.span = detections.length > limit ? undefined : nextSpan(density.span, detections, s, u, limit);
    } else if (u - s <= MIN_SPLIT_TICKS) {
      complete = await fetch({ since: s, until: u });
      requests = splitRequests + 2;
    } else {
      splitRequests++;
      // Split on a whole millisecond; the halves share that millisecond so that neither an inclusive nor an
      // exclusive reading of the bounds by the API can lose a detection sitting exactly on it (dedupe drops
      // the double).
      const mid = s + ((u - s) / 2n / TICKS_PER_MS) * TICKS_PER_MS;
      stack.push([mid, u]);
      stack.push([s, mid + TICKS_PER_MS < u ? mid + TICKS_PER_MS : u]);
      next = take();
      if (next !== undefined) pending = ask(next);
      continue;
    }
    splitRequests = 0;
    const part: WindowPart = {
      kind: "siem",
      since: s,
      until: u,
      detections: complete,
      bodies: complete.map(takeItemText),
      requests,
    };
    next = take();
    if (next !== undefined && (mayPrefetch?.(complete) ?? true)) {
      pending = ask(next);
      // The request leaves only after a few asynchronous steps (the token, the HTTP client's own ticks),
      // and the caller stores the part synchronously (tens of ms for a part of thousands): without this
      // turn of the event loop the request went out after the storing, and the API prepared its answer
      // while the thread waited for it (issue 16: 0.7-0.9 s of a 100k backfill's ~6.5 s was idle).
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    yield part;
    if (next !== undefined) pending ??= ask(next);
  }
}

/**
 * The span that holds about TARGET_FILL * limit detections at the density of the part [s, u] read: of its
 * detections dated within it, from the oldest of them to u. A backfill's first part is often mostly empty
 * (the lookback reaches before the backlog starts); its density over the whole span would predict a next part
 * far too wide, read full and thrown away (issue 16: 10 of 43 requests of a 100k backfill).
 */
function spanOf(detections: readonly Detection[], s: Ticks, u: Ticks, limit: number): Ticks | undefined {
  let oldest = u;
  let count = 0;
  for (const d of detections) {
    const t = parseTimestamp(d.LastProcessedTimeUtc);
    if (t === undefined || t < s || t > u) continue;
    count++;
    if (t < oldest) oldest = t;
  }
  return spanFor(count, oldest === u ? u - s : u - oldest, limit);
}

/**
 * The span the next part is cut to, after a complete part of [s, u] holding `detections`. A sparse part as
 * wide as the span (the lookback before a backlog starts, a quiet hour) says little about the density ahead:
 * the span grows fourfold per such part instead, so that an empty stretch is crossed in a few requests. (Forgetting
 * it sent the whole rest of the window, which came back full and was halved again: how often depended on
 * where the backlog sat in the window, up to 126 full responses for a 1M backlog in a model of it.)
 */
function nextSpan(
  current: Ticks | undefined,
  detections: readonly Detection[],
  s: Ticks,
  u: Ticks,
  limit: number,
): Ticks | undefined {
  const span = spanOf(detections, s, u, limit);
  if (span !== undefined) return span;
  if (current === undefined) return undefined;
  // A part narrower than the predicted span (what was left of a window after a cut, or a short window) holds
  // few detections because it is short, not because the detections thin out: growing the span on it made a
  // live tenant's next window, at 1,000/s and a 5 s schedule exactly max_per_request, come back full.
  return u - s < current ? current : current * 4n;
}

/** The span that holds about TARGET_FILL * limit detections at the density of a part of `span` holding `count`. */
function spanFor(count: number, span: Ticks, limit: number): Ticks | undefined {
  // Sparse parts say little about a backfill's density; a near-empty one would predict an endless span.
  if (count < limit / 10) return undefined;
  const predicted = (span * BigInt(Math.floor(TARGET_FILL * limit))) / BigInt(count);
  return predicted < MIN_SPLIT_TICKS ? MIN_SPLIT_TICKS : predicted;
}
