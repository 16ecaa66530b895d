// The pipeline wires source, state, format and sink together: the poll loops (one per tenant) fill the
// outbox, the drain loops (one per destination) empty it. Nothing else knows about more than one module.
import { type ForwarderError, toForwarderError } from "../errors.js";
import { createEvents, type Events } from "../events/index.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics/definitions.js";
import type { Readiness } from "../metrics/server.js";
import type { Source } from "../source/index.js";
import type { Store } from "../state/index.js";
import type { PipelineConfig } from "./config.js";
import { createDrain, type Drain, type DrainOptions, type DrainTarget } from "./drain.js";
import { createHotTail, type HotTail } from "./hot-tail.js";
import {
  createPoller,
  type PollProgress,
  type PollResult,
  type StoredDetection,
  type TenantPoller,
} from "./poll.js";
import { createRouter } from "./route.js";
import { createScheduler, type Scheduler, scheduleIntervalMs } from "./scheduler.js";

export interface PipelineParts {
  sources: readonly Source[];
  destinations: readonly DrainTarget[];
  store: Store;
}

export { buildPipelineConfig, type PipelineConfig } from "./config.js";

/** The config (buildPipelineConfig) and, for tests, the intervals and drain tuning. */
export interface PipelineOptions extends PipelineConfig {
  retentionPruneMs?: number;
  drain?: DrainOptions;
  /** Bytes of stored body each destination's hot tail holds at most (0: no hot tail). */
  hotTailBytes?: number;
}

/**
 * Detections stored by this process wait in memory for the drains (hot-tail.ts) up to this many bytes of
 * body per destination. In a backfill the drain runs up to its in-flight window (20,000 events) ahead of
 * what was confirmed while the poller stores whole parts (5,000, ~11 MB of the benchmark's ~2.2 kB
 * detections), so the drain trails the newest stored row by more than this bound and mostly reads back
 * from the store: measured at 100k, 95,000 of 100,000 rows. A 48 MB bound served all 100,000 from the
 * tail but measured no cheaper (forwarder CPU per detection 107.9 and 109.3 us vs 108.4 and 127.6 us at
 * 8 MB, alternating runs at load 5-6; the parsed detections it keeps live longer, for the garbage
 * collector to copy), with 12-18 MB more peak RSS at 100k and 279 MB at 1M (275 MB before). So the tail
 * stays small: it serves a live destination that keeps up, which is what it is for.
 */
const DEFAULT_HOT_TAIL_BYTES = 8 * 1_048_576;

export interface Pipeline {
  /** The daemon: polls on schedule, drains continuously. */
  start(): void;
  /** One poll of every tenant (for `once`). */
  pollOnce(signal?: AbortSignal): Promise<Array<{ tenant: string; result: PollResult }>>;
  /** Drains every destination until empty or `maxFailures` failed sends in a row; true if all are empty. */
  drainUntilEmpty(maxFailures: number): Promise<boolean>;
  /**
   * `once`: polls every tenant while the destinations drain, then drains until empty (or `maxFailures` failed
   * sends in a row). A backfill is sent while it is read instead of after.
   */
  pollAndDrain(
    maxFailures: number,
    signal?: AbortSignal,
  ): Promise<{ polls: Array<{ tenant: string; result: PollResult }>; delivered: boolean }>;
  readiness(): Readiness;
  /** Graceful stop: no new polls, sends in flight finish and are acknowledged, sinks closed. */
  stop(): Promise<void>;
}

export function createPipeline(
  parts: PipelineParts,
  options: PipelineOptions,
  deps: {
    log: Logger;
    metrics: Metrics;
    /** What the loops report is counted and logged through these; over `metrics` when absent. */
    events?: Events;
    clock?: () => number;
    onFatal?: (error: ForwarderError) => void;
    onProgress?: (progress: PollProgress) => void;
  },
): Pipeline {
  const { log, metrics, store } = { ...deps, store: parts.store };
  const events = deps.events ?? createEvents({ metrics });
  const clock = deps.clock ?? Date.now;
  const hotTailBytes = options.hotTailBytes ?? DEFAULT_HOT_TAIL_BYTES;
  const tails = new Map<string, HotTail>(
    hotTailBytes > 0
      ? parts.destinations.map((t) => [t.name, createHotTail({ maxBytes: hotTailBytes })])
      : [],
  );
  const drains: Drain[] = parts.destinations.map((target) =>
    createDrain(target, options.drain ?? {}, {
      log,
      metrics,
      events,
      store,
      onFatal: deps.onFatal,
      tail: tails.get(target.name),
    }),
  );
  /** Each destination's tail gets the stored events queued for it (or learns it missed some). */
  const onStored = (stored: readonly StoredDetection[] | undefined): void => {
    for (const [name, tail] of tails) {
      if (stored === undefined) tail.lose();
      else tail.append(stored.filter((e) => e.destinations === undefined || e.destinations.includes(name)));
    }
  };
  const wakeAll = () => {
    for (const d of drains) d.wake();
  };
  // Absent when every destination takes everything.
  const router = createRouter(options.selections);
  const pollers: TenantPoller[] = parts.sources.map((source) =>
    createPoller(
      source,
      { maxOutbox: options.maxOutbox, parkMs: options.parkMs, router },
      {
        log,
        metrics,
        events,
        store,
        clock,
        onIngested: wakeAll,
        onFatal: deps.onFatal,
        onProgress: deps.onProgress,
        onStored: tails.size > 0 ? onStored : undefined,
      },
    ),
  );
  const intervalMs = scheduleIntervalMs(options.schedule);
  const startedAt = clock();
  let scheduler: Scheduler | undefined;
  let drainRuns: Promise<unknown>[] = [];
  let pruneTimer: NodeJS.Timeout | undefined;

  metrics.setOutboxSource(() => store.outboxDepths());

  function prune(): void {
    try {
      const removed = store.pruneSeen();
      if (removed > 0) log.debug({ removed }, "Pruned dedupe entries older than state.retention.");
    } catch (err) {
      events.pruneFailed(log, toForwarderError(err));
    }
  }

  return {
    start() {
      prune();
      pruneTimer = setInterval(prune, options.retentionPruneMs ?? 3_600_000);
      drainRuns = drains.map((d) => d.run());
      scheduler = createScheduler(options.schedule, pollers, { log, onTick: wakeAll });
      scheduler.start();
    },
    async pollOnce(signal) {
      const results = await Promise.all(
        pollers.map(async (p) => ({ tenant: p.tenant, result: await p.poll(signal) })),
      );
      return results;
    },
    async drainUntilEmpty(maxFailures) {
      const results = await Promise.all(drains.map((d) => d.runUntilEmpty(maxFailures)));
      return results.every(Boolean);
    },
    async pollAndDrain(maxFailures, signal) {
      const running = drains.map((d) => d.run());
      // A poll reports its failures; anything it throws becomes one too, so the drains always get to finish.
      const polls = await Promise.all(
        pollers.map(async (p) => ({
          tenant: p.tenant,
          result: await p
            .poll(signal)
            .catch((err: unknown): PollResult => ({ status: "failed", error: toForwarderError(err) })),
        })),
      );
      const results = await Promise.all(drains.map((d) => d.finish(maxFailures)));
      await Promise.allSettled(running);
      return { polls, delivered: results.every(Boolean) };
    },
    readiness() {
      const reasons: string[] = [];
      const now = clock();
      const limit = 3 * intervalMs;
      for (const p of pollers) {
        const last = p.lastSuccessAt;
        if (p.lastErrorCode !== undefined) {
          reasons.push(`tenant ${p.tenant}: last poll failed (${p.lastErrorCode})`);
        } else if (last === undefined) {
          if (now - startedAt > limit) reasons.push(`tenant ${p.tenant}: no successful poll since start`);
          else if (!p.busy) reasons.push(`tenant ${p.tenant}: first poll not done yet`);
          else reasons.push(`tenant ${p.tenant}: first poll running`);
        } else if (now - last > limit) {
          reasons.push(`tenant ${p.tenant}: no successful poll for ${Math.round((now - last) / 1000)}s`);
        }
      }
      return { ready: reasons.length === 0, reasons };
    },
    async stop() {
      if (pruneTimer) clearInterval(pruneTimer);
      await scheduler?.stop();
      await Promise.all(drains.map((d) => d.stop()));
      await Promise.allSettled(drainRuns);
      await Promise.all(parts.destinations.map((d) => d.sink.close()));
    },
  };
}
