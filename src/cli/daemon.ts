// Builds the forwarder from a validated config: the only place where modules are constructed.
// `run`, `once` and `demo` share it.
import { hostname } from "node:os";
import type { Config } from "../config/schema.js";
import { ConfigError, type ConfigIssue, type ForwarderError } from "../errors.js";
import { createEvents, type Events } from "../events/index.js";
import { buildFormatConfig, createFormatter } from "../format/index.js";
import type { Logger } from "../log.js";
import { buildMetricsConfig } from "../metrics/config.js";
import { createMetrics, type Metrics } from "../metrics/definitions.js";
import { forgetDestination, forgetTenant } from "../metrics/forget.js";
import { type MetricsServer, startMetricsServer } from "../metrics/server.js";
import { buildPipelineConfig, createPipeline, type Pipeline } from "../pipeline/index.js";
import type { PollProgress } from "../pipeline/poll.js";
import { buildSinkConfig } from "../sink/config.js";
import { createSink } from "../sink/index.js";
import { createHttpClient } from "../source/http.js";
import { buildSourceConfig, createSource } from "../source/index.js";
import { createSemaphore } from "../source/rate-limit.js";
import { buildStateConfig, createStore, type Store } from "../state/index.js";

export interface Forwarder {
  readonly pipeline: Pipeline;
  readonly store: Store;
  readonly metrics: Metrics;
  /** What the forwarder reports, on `metrics` (a reload keeps both). */
  readonly events: Events;
  /** Stops the pipeline (sends in flight finish and are acknowledged), then closes state. */
  close(): Promise<void>;
}

export interface ForwarderDeps {
  log: Logger;
  clock?: () => number;
  /** Sink confirmation delay (tests shorten it). */
  confirmAfterMs?: number;
  /** A failure the daemon cannot continue after (the state cannot be written). */
  onFatal?: (error: ForwarderError) => void;
  /** After each stored part of a poll (the `once` progress line). */
  onProgress?: (progress: PollProgress) => void;
}

/** What a reload keeps: the state (and its lock), the metrics registry and the events on it. */
export interface Shared {
  store: Store;
  metrics: Metrics;
  events: Events;
}

export function buildForwarder(config: Config, deps: ForwarderDeps, shared?: Shared): Forwarder {
  const { log } = deps;
  const metrics = shared?.metrics ?? createMetrics();
  const events = shared?.events ?? createEvents({ metrics });
  const store = shared?.store ?? createStore(buildStateConfig(config), { log, clock: deps.clock });
  try {
    const pipeline = buildPipeline(config, deps, { store, metrics, events });
    return {
      pipeline,
      store,
      metrics,
      events,
      async close() {
        await pipeline.stop();
        if (!shared) store.close();
      },
    };
  } catch (err) {
    if (!shared) store.close();
    throw err;
  }
}

function buildPipeline(config: Config, deps: ForwarderDeps, { store, metrics, events }: Shared): Pipeline {
  const { log } = deps;
  for (const removed of store.purgeRemovedDestinations()) {
    events.eventsDropped(log, {
      destination: removed.destination,
      reason: "destination_removed",
      count: removed.events,
    });
  }
  // One HTTP client (proxy, CA bundle) and one concurrency limit for every tenant.
  const source = buildSourceConfig(config, process.env);
  const http = createHttpClient({ ...source.http, log });
  const concurrency = createSemaphore(source.maxConcurrentRequests);
  const sources = source.tenants.map((tenant) =>
    createSource(tenant, { log, metrics, events, clock: deps.clock, http, concurrency }),
  );
  const host = hostname();
  // Every series the events can count exists at 0 from the start, so that rate() and increase() see the
  // first error, drop or rejected token (events/zero-series.ts).
  events.zeroSeries({
    tenants: config.tenants.map((t) => t.name),
    destinations: config.destinations.map((d) => d.name),
  });
  const destinations = config.destinations.map((d) => {
    const format = buildFormatConfig(d);
    return {
      name: d.name,
      maxMessageBytes: format.maxMessageBytes,
      formatter: createFormatter(format, { hostname: host }),
      sink: createSink(buildSinkConfig(d), {
        log,
        events,
        confirmAfterMs: deps.confirmAfterMs,
      }),
    };
  });
  return createPipeline({ sources, destinations, store }, buildPipelineConfig(config), {
    log,
    metrics,
    events,
    clock: deps.clock,
    onFatal: deps.onFatal,
    onProgress: deps.onProgress,
  });
}

export interface RunningDaemon {
  /** The forwarder running now (a reload replaces it). */
  readonly forwarder: Forwarder;
  readonly metricsServer: MetricsServer | undefined;
  /**
   * Applies a new config without a restart and without touching the outbox: the running pipeline stops
   * gracefully (sends in flight confirmed and acknowledged), a new one starts on the same state. Throws a
   * ConfigError, with the old config still running, when the new one changes what needs a restart.
   */
  reload(next: Config): Promise<void>;
  stop(): Promise<void>;
}

/** Starts polling, draining and the metrics server. */
export async function startDaemon(config: Config, deps: ForwarderDeps): Promise<RunningDaemon> {
  const root = buildForwarder(config, deps);
  const shared: Shared = { store: root.store, metrics: root.metrics, events: root.events };
  let current: Forwarder = root;
  let active = config;
  let metricsServer: MetricsServer | undefined;
  try {
    const metricsConfig = buildMetricsConfig(config.metrics);
    if (metricsConfig !== undefined) {
      metricsServer = await startMetricsServer(metricsConfig, {
        log: deps.log,
        metrics: shared.metrics,
        readiness: () => current.pipeline.readiness(),
      });
    }
  } catch (err) {
    await root.close();
    throw err;
  }
  current.pipeline.start();
  let stopping: Promise<void> | undefined;
  let reloading: Promise<void> = Promise.resolve();

  async function swap(next: Config): Promise<void> {
    const problems = restartOnly(active, next);
    if (problems.length > 0) throw new ConfigError(problems);
    if (stopping) return;
    await current.pipeline.stop();
    // A stop requested while the old pipeline wound down wins: do not start the new one.
    if (stopping) return;
    const names = next.destinations.map((d) => d.name);
    await forgetRemoved(shared.metrics, active, next);
    shared.store.setDestinations(names);
    try {
      current = { ...buildForwarder(next, deps, shared), close: closeAll };
      active = next;
    } catch (err) {
      // Cannot happen for a config the schema accepted; if it does, the old config runs on.
      shared.store.setDestinations(active.destinations.map((d) => d.name));
      current = { ...buildForwarder(active, deps, shared), close: closeAll };
      current.pipeline.start();
      throw err;
    }
    current.pipeline.start();
  }

  async function closeAll(): Promise<void> {
    await reloading.catch(() => undefined);
    await current.pipeline.stop();
    shared.store.close();
  }
  current = { ...root, close: closeAll };

  return {
    get forwarder() {
      return current;
    },
    metricsServer,
    reload(next) {
      const run = reloading.then(() => swap(next));
      reloading = run.catch(() => undefined);
      return run;
    },
    stop() {
      stopping ??= (async () => {
        await closeAll();
        await metricsServer?.close();
      })();
      return stopping;
    },
  };
}

/**
 * Deletes the series of the tenants and destinations `next` no longer has, once their loops have stopped
 * (nothing writes them any more). A removed destination's undelivered events are counted as dropped after
 * this, when the new pipeline purges them: that one series stays, so that MdeEventsDropped sees the loss.
 */
async function forgetRemoved(metrics: Metrics, active: Config, next: Config): Promise<void> {
  const tenants = new Set(next.tenants.map((t) => t.name));
  for (const t of active.tenants) if (!tenants.has(t.name)) await forgetTenant(metrics, t.name);
  const destinations = new Set(next.destinations.map((d) => d.name));
  for (const d of active.destinations)
    if (!destinations.has(d.name)) await forgetDestination(metrics, d.name);
}

/** Settings a reload cannot change: the state file (its lock, its retention), the log format, the metrics listener. */
function restartOnly(active: Config, next: Config): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (next.state.path !== active.state.path) {
    issues.push({
      path: "state.path",
      message: "cannot change on reload; restart the forwarder to move its state",
    });
  }
  if (next.state.retention !== active.state.retention) {
    issues.push({ path: "state.retention", message: "cannot change on reload; restart the forwarder" });
  }
  if (next.log.format !== active.log.format) {
    issues.push({ path: "log.format", message: "cannot change on reload; restart the forwarder" });
  }
  const m = (c: Config) => JSON.stringify(c.metrics);
  if (m(next) !== m(active)) {
    issues.push({
      path: "metrics",
      message: "cannot change on reload; restart the forwarder to move its listener",
    });
  }
  return issues;
}
