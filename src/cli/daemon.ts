// Builds the forwarder from a validated config: the only place where modules are constructed.
// `run`, `once` and `demo` share it.
import { hostname } from "node:os";
import type { Config } from "../config/schema.js";
import type { ForwarderError } from "../errors.js";
import { createFormatter } from "../format/index.js";
import type { Logger } from "../log.js";
import { createMetrics, type Metrics } from "../metrics/definitions.js";
import { type MetricsServer, startMetricsServer } from "../metrics/server.js";
import { createPipeline, type Pipeline } from "../pipeline/index.js";
import type { PollProgress } from "../pipeline/poll.js";
import { createRouter } from "../pipeline/route.js";
import { createSink } from "../sink/index.js";
import { createSource } from "../source/index.js";
import { createStore, type Store } from "../state/index.js";

export interface Forwarder {
  readonly pipeline: Pipeline;
  readonly store: Store;
  readonly metrics: Metrics;
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

export function buildForwarder(config: Config, deps: ForwarderDeps): Forwarder {
  const { log } = deps;
  const metrics = createMetrics();
  const store = createStore(
    { ...config.state, destinations: config.destinations.map((d) => d.name) },
    { log, clock: deps.clock },
  );
  try {
    for (const removed of store.purgeRemovedDestinations()) {
      log.warn(
        { destination: removed.destination, events: removed.events },
        "Outbox rows of a destination no longer configured were dropped.",
      );
      metrics.eventsDropped.inc(
        { destination: removed.destination, reason: "destination_removed" },
        removed.events,
      );
    }
    const sources = config.tenants.map((tenant) =>
      createSource(tenant, config.poll, { log, metrics, clock: deps.clock }),
    );
    const host = hostname();
    const destinations = config.destinations.map((d) => {
      const labels = { destination: d.name };
      metrics.destinationUp.set(labels, 0);
      return {
        name: d.name,
        maxMessageBytes: d.max_message_bytes,
        formatter: createFormatter(d, { hostname: host }),
        sink: createSink(d, {
          log,
          confirmAfterMs: deps.confirmAfterMs,
          onUpChange: (up) => metrics.destinationUp.set(labels, up ? 1 : 0),
          onError: (error) => metrics.errors.inc({ stage: "send", code: error.code }),
        }),
      };
    });
    const pipeline = createPipeline(
      { sources, destinations, store },
      {
        schedule: config.poll.schedule,
        maxOutbox: config.state.max_outbox,
        parkMs: config.poll.permanent_error_retry,
        router: createRouter(config.destinations),
      },
      { log, metrics, clock: deps.clock, onFatal: deps.onFatal, onProgress: deps.onProgress },
    );
    return {
      pipeline,
      store,
      metrics,
      async close() {
        await pipeline.stop();
        store.close();
      },
    };
  } catch (err) {
    store.close();
    throw err;
  }
}

export interface RunningDaemon {
  readonly forwarder: Forwarder;
  readonly metricsServer: MetricsServer | undefined;
  stop(): Promise<void>;
}

/** Starts polling, draining and the metrics server. */
export async function startDaemon(config: Config, deps: ForwarderDeps): Promise<RunningDaemon> {
  const forwarder = buildForwarder(config, deps);
  let metricsServer: MetricsServer | undefined;
  try {
    if (config.metrics.enabled) {
      metricsServer = await startMetricsServer(config.metrics, {
        log: deps.log,
        metrics: forwarder.metrics,
        readiness: () => forwarder.pipeline.readiness(),
      });
    }
  } catch (err) {
    await forwarder.close();
    throw err;
  }
  forwarder.pipeline.start();
  let stopping: Promise<void> | undefined;
  return {
    forwarder,
    metricsServer,
    stop() {
      stopping ??= (async () => {
        await forwarder.close();
        await metricsServer?.close();
      })();
      return stopping;
    },
  };
}
