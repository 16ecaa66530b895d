// The poll loop of one tenant: read the window part by part and store each part in one transaction
// (dedupe + outbox rows + quarantine + checkpoint), so a crash at any instant leaves either all of a part or
// none. The checkpoint moves only as far as the source vouches for: to the newest detection of the part that
// is not dated after the part's end. A detection dated in the future is delivered like any other, counted and
// logged, but never drags the checkpoint along (that would skip every real detection until then).
import { createHash } from "node:crypto";
import { type ForwarderError, isStateFailure, toForwarderError } from "../errors.js";
import { createEvents, type Events } from "../events/index.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics/definitions.js";
import {
  type Detection,
  type DetectionRecord,
  MAX_QUARANTINE_RAW_BYTES,
  type RejectedItem,
  rejectionOf,
  type SourceKind,
  toDetectionRecord,
} from "../record.js";
import { createOverlapVolume, type PollWindow, type Source, settledAfter } from "../source/index.js";
import type { IngestedEvent, RejectedRecord, RoutedRecord, Store } from "../state/index.js";
import { formatTimestamp, parseTimestamp, TICKS_PER_MS, type Ticks, ticksToSeconds } from "../timestamp.js";
import type { Router } from "./route.js";

export type PollResult =
  | { status: "ok"; received: number; inserted: number; duplicates: number; parts: number }
  | { status: "paused"; reason: string }
  | { status: "skipped"; reason: string }
  | { status: "failed"; error: ForwarderError };

export interface TenantPoller {
  readonly tenant: string;
  readonly busy: boolean;
  /** Unix ms of the last successful poll, if any since start. */
  readonly lastSuccessAt: number | undefined;
  /** The code of the last poll's failure; undefined once a poll succeeded. */
  readonly lastErrorCode: string | undefined;
  poll(signal?: AbortSignal): Promise<PollResult>;
}

export interface PollerOptions {
  maxOutbox: number;
  /** Per-destination selection; absent when every destination takes everything. */
  router?: Router;
  /** How long a tenant rests after a permanent error (403, rejected credentials) before it is tried again. */
  parkMs?: number;
}

export interface PollerDeps {
  log: Logger;
  metrics: Metrics;
  /** Failures and what the poll finds are counted and logged through these; over `metrics` when absent. */
  events?: Events;
  store: Store;
  clock?: () => number;
  /** Called after each stored part with new events, so drains wake at once. */
  onIngested?: () => void;
  /** A state failure: the daemon must stop rather than poll on without a working store. */
  onFatal?: (error: ForwarderError) => void;
  /** After each stored part of a poll: for a progress line during a long backfill. */
  onProgress?: (progress: PollProgress) => void;
  /**
   * After each ingest that stored events: which ones, paired with their parsed detections (in id order), or
   * undefined when the stored rows cannot be matched to the part (the drains then read them from the store).
   */
  onStored?: (stored: readonly StoredDetection[] | undefined) => void;
}

/** An event an ingest stored, with the detection it was made of. */
export interface StoredDetection {
  /** Its event id (the outbox rows' event_id). */
  readonly id: number;
  readonly tenant: string;
  readonly kind: SourceKind;
  readonly detection: Detection;
  /** Its stored body's size. */
  readonly bytes: number;
  /** The destinations it was queued for; every configured one when absent. */
  readonly destinations: readonly string[] | undefined;
}

export interface PollProgress {
  readonly tenant: string;
  /** The window read (100-ns timestamps): from, to, and the checkpoint reached so far within it. */
  readonly from: string;
  readonly to: string;
  readonly reached?: string;
  /** Fully read parts of the window so far. */
  readonly parts: number;
  readonly received: number;
  readonly inserted: number;
  readonly elapsedMs: number;
}

const DEFAULT_PARK_MS = 60 * 60_000;

export function createPoller(source: Source, options: PollerOptions, deps: PollerDeps): TenantPoller {
  const { metrics, store } = deps;
  const events = deps.events ?? createEvents({ metrics });
  const clock = deps.clock ?? Date.now;
  const tenant = source.tenant;
  const labels = { tenant };
  const log = deps.log.child({ component: "poll", tenant });
  let busy = false;
  let notBefore = 0;
  let lastSuccessAt: number | undefined;
  let lastErrorCode: string | undefined;
  let pausedLogged = false;
  // Every detection dated before this that will ever be visible has been read (source/overlap.ts). In memory
  // only: unknown after a start, so the first poll reads the whole overlap.
  let settled: Ticks | undefined;
  // The end of the last poll read whole (in memory too): the next fresh window need not start before it.
  let readUntil: Ticks | undefined;
  // What this tenant's recent polls received (in memory too): whether the overlap fits one request.
  const volume = createOverlapVolume();

  const checkpoint = store.getCheckpoint(tenant);
  if (checkpoint) metrics.checkpointTimestamp.set(labels, checkpointSeconds(checkpoint));

  function outboxFull(): boolean {
    const depth = store.maxOutboxDepth();
    if (depth < options.maxOutbox) {
      if (pausedLogged) log.info({ depth }, "Outbox below its limit; polling resumes.");
      pausedLogged = false;
      return false;
    }
    if (!pausedLogged) {
      log.warn(
        { depth, maxOutbox: options.maxOutbox },
        "Outbox over state.max_outbox; polling paused until destinations catch up (nothing is dropped).",
      );
      pausedLogged = true;
    }
    return true;
  }

  async function run(signal?: AbortSignal): Promise<PollResult> {
    const plan = source.planPoll(store.getCheckpoint(tenant), settled, readUntil, volume);
    const first = plan.windows[0] as PollWindow;
    const last = plan.windows[plan.windows.length - 1] as PollWindow;
    const pollEnd = formatTimestamp(last.until);
    let received = 0;
    let inserted = 0;
    let duplicates = 0;
    let parts = 0;
    let requests = 0;
    const future = { count: 0, newest: last.until };
    let reached: string | undefined;
    const started = performance.now();
    try {
      for (const window of plan.windows) {
        for await (const part of source.read(window, signal)) {
          parts++;
          requests += part.requests;
          const { router } = options;
          const items: PartItem[] = [];
          const rejected: RejectedRecord[] = [];
          const { detections, bodies } = part;
          // An index loop: entries() makes an iterator result and an [i, d] pair per detection.
          for (let i = 0; i < detections.length; i++) {
            const d = detections[i] as Detection;
            const rejection = rejectionOf(d);
            if (rejection !== undefined) {
              rejected.push({ ...rejection, kind: part.kind });
              continue;
            }
            try {
              const record = toDetectionRecord(d, part.kind, bodies?.[i]);
              items.push({ record: router ? routed(record, router(d, part.kind)) : record, detection: d });
            } catch {
              // The parser's bounds make this unreachable for API data; should it happen all the same, it is
              // this detection's problem (quarantined), not the poll's.
              rejected.push({ ...unstorable(d), kind: part.kind });
            }
          }
          // Oldest first, so outbox order (and thus delivery order) follows LastProcessedTimeUtc.
          items.sort(byLastProcessed);
          const records = items.map((item) => item.record);
          const futureNow = countFuture(records, pollEnd, future);
          const newest = newestOf(records, formatTimestamp(part.until));
          // No await from here to onStored: another tenant's ingest cannot come in between.
          const result = store.ingest(tenant, records, newest, rejected);
          if (deps.onStored !== undefined && result.stored.length > 0) {
            deps.onStored(storedOf(result.stored, items, tenant, part.kind));
          }
          const malformed = records.reduce((n, r) => n + (r.malformed ? 1 : 0), 0);
          received += records.length + rejected.length;
          inserted += result.inserted;
          duplicates += result.duplicates;
          metrics.detectionsReceived.inc(labels, records.length + rejected.length);
          if (result.duplicates > 0) metrics.detectionsDuplicate.inc(labels, result.duplicates);
          if (futureNow > 0) metrics.detectionsFuture.inc(labels, futureNow);
          for (const [destination, queued] of result.queued) {
            if (queued < result.inserted)
              metrics.eventsFiltered.inc({ destination }, result.inserted - queued);
          }
          if (malformed > 0) events.detectionsMalformed(log, tenant, malformed);
          if (result.quarantined.size > 0) events.detectionsQuarantined(log, tenant, result.quarantined);
          if (result.checkpoint)
            metrics.checkpointTimestamp.set(labels, checkpointSeconds(result.checkpoint));
          if (result.inserted > 0) deps.onIngested?.();
          reached = result.checkpoint ?? reached;
          deps.onProgress?.({
            tenant,
            from: formatTimestamp(first.since),
            to: pollEnd,
            reached,
            parts,
            received,
            inserted,
            elapsedMs: performance.now() - started,
          });
          // Read in order from the window's start: everything up to the part's newest detection is read.
          if (newest !== undefined)
            settled = settledAfter(plan, settled, parseTimestamp(newest) ?? first.since);
          // A long backfill stops between parts when the outbox is full; the checkpoint covers what was stored.
          if (outboxFull()) return { status: "paused", reason: "outbox full" };
        }
        settled = settledAfter(plan, settled, window.until);
      }
      readUntil = last.until;
      // Only a completed poll measures the volume: a failed whole read left part of the overlap unread.
      volume.record(last.until, { whole: plan.whole, requests, received, inserted });
    } finally {
      if (future.count > 0) {
        log.warn(
          {
            future: future.count,
            newest: formatTimestamp(future.newest),
            maxSkewSeconds: Math.round(Number((future.newest - last.until) / TICKS_PER_MS) / 1000),
            pollEnd,
          },
          "Detections dated after this poll's end (a clock or the API is wrong): delivered, but the checkpoint does not follow them.",
        );
      }
    }
    log.info(
      {
        received,
        new: inserted,
        duplicates,
        parts,
        since: formatTimestamp(first.since),
        ...(plan.windows.length > 1 ? { fresh: formatTimestamp(last.since) } : {}),
        overlap: plan.whole ? "whole" : "second look",
        until: pollEnd,
        checkpoint: store.getCheckpoint(tenant),
      },
      "Poll finished.",
    );
    return { status: "ok", received, inserted, duplicates, parts };
  }

  return {
    tenant,
    get busy() {
      return busy;
    },
    get lastSuccessAt() {
      return lastSuccessAt;
    },
    get lastErrorCode() {
      return lastErrorCode;
    },
    async poll(signal) {
      if (busy) return { status: "skipped", reason: "previous poll still running" };
      const now = clock();
      if (now < notBefore) {
        return { status: "skipped", reason: `waiting until ${new Date(notBefore).toISOString()}` };
      }
      if (outboxFull()) return { status: "paused", reason: "outbox full" };
      busy = true;
      const started = performance.now();
      try {
        const result = await run(signal);
        lastSuccessAt = clock();
        lastErrorCode = undefined;
        metrics.lastSuccessfulPoll.set(labels, lastSuccessAt / 1000);
        store.recordPoll(tenant, { ok: true });
        return result;
      } catch (raw) {
        const error = toForwarderError(raw);
        if (error.code === "E_SHUTDOWN") return { status: "skipped", reason: "shutdown" };
        lastErrorCode = error.code;
        if (isStateFailure(error)) {
          events.stateFailed(log, "poll", error);
          deps.onFatal?.(error);
          return { status: "failed", error };
        }
        if (error.errorClass === "throttled" && error.retryAfterMs !== undefined) {
          notBefore = clock() + error.retryAfterMs;
        } else if (error.permanent) {
          notBefore = clock() + (options.parkMs ?? DEFAULT_PARK_MS);
        }
        const nextAttempt = notBefore > clock() ? new Date(notBefore).toISOString() : undefined;
        events.pollFailed(log, source.stageOf?.(error) ?? "poll", error, nextAttempt);
        tryRecord(() => store.recordPoll(tenant, { ok: false, code: error.code, message: error.message }));
        return { status: "failed", error };
      } finally {
        busy = false;
        metrics.pollDuration.observe(labels, (performance.now() - started) / 1000);
      }
    },
  };

  function tryRecord(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      log.error({ err: toForwarderError(err).message }, "Could not record the poll outcome in the state.");
    }
  }
}

/** Adds the destinations without a spread, which would read (and so encode) the record's lazy body. */
function routed(record: DetectionRecord, destinations: readonly string[]): RoutedRecord {
  return Object.defineProperty(record, "destinations", { value: destinations, enumerable: true });
}

/** A record of a part with the detection it was made of. */
interface PartItem {
  readonly record: RoutedRecord;
  readonly detection: Detection;
}

function byLastProcessed({ record: a }: PartItem, { record: b }: PartItem): number {
  if (a.lastProcessed === b.lastProcessed) return 0;
  if (a.lastProcessed === undefined) return 1;
  if (b.lastProcessed === undefined) return -1;
  // Canonical timestamps have a fixed width, so string order is time order.
  return a.lastProcessed < b.lastProcessed ? -1 : 1;
}

/** The events an ingest stored (ids and indexes into `items`, which it was given in order) with their detections. */
function storedOf(
  events: readonly IngestedEvent[],
  items: readonly PartItem[],
  tenant: string,
  kind: SourceKind,
): StoredDetection[] {
  const stored: StoredDetection[] = new Array(events.length);
  for (let i = 0; i < events.length; i++) {
    const event = events[i] as IngestedEvent;
    const item = items[event.index] as PartItem;
    stored[i] = {
      id: event.id,
      tenant,
      kind,
      detection: item.detection,
      bytes: event.bytes,
      destinations: item.record.destinations,
    };
  }
  return stored;
}

/** The newest LastProcessedTimeUtc not after `bound` (canonical), if any: what the checkpoint may move to. */
function newestOf(records: readonly DetectionRecord[], bound: string): string | undefined {
  let newest: string | undefined;
  for (const r of records) {
    const t = r.lastProcessed;
    if (t !== undefined && t <= bound && (newest === undefined || t > newest)) newest = t;
  }
  return newest;
}

/** What the quarantine keeps of a detection that cannot be keyed or routed: its JSON text, or failing that its top-level scalars. */
function unstorable(d: Detection): RejectedItem {
  let raw: string;
  try {
    raw = JSON.stringify(d) ?? "";
  } catch {
    raw = JSON.stringify(
      Object.fromEntries(
        Object.entries(d).filter(
          ([, v]) => v === null || typeof v === "string" || typeof v === "number" || typeof v === "boolean",
        ),
      ),
    );
  }
  const bytes = Buffer.byteLength(raw);
  const kept =
    bytes <= MAX_QUARANTINE_RAW_BYTES
      ? raw
      : Buffer.from(raw).subarray(0, MAX_QUARANTINE_RAW_BYTES).toString();
  return { reason: "unstorable", raw: kept, bytes, hash: createHash("sha256").update(raw).digest("hex") };
}

/** Counts the records dated after `pollEnd` (canonical) into `future` (and keeps the newest); returns them. */
function countFuture(
  records: readonly DetectionRecord[],
  pollEnd: string,
  future: { count: number; newest: Ticks },
): number {
  let count = 0;
  for (const r of records) {
    if (r.lastProcessed === undefined || r.lastProcessed <= pollEnd) continue;
    count++;
    const t = parseTimestamp(r.lastProcessed);
    if (t !== undefined && t > future.newest) future.newest = t;
  }
  future.count += count;
  return count;
}

function checkpointSeconds(checkpoint: string): number {
  const t = parseTimestamp(checkpoint);
  return t === undefined ? 0 : ticksToSeconds(t);
}
