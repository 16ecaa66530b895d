// Every metric name in one place (a public contract: dashboards and alert rules use these names).
// Each set of metrics lives on its own Registry, passed in: nothing is global.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** One metric of the set with its label names, so code can act on "every metric with a tenant label". */
export interface MetricDefinition {
  readonly name: string;
  readonly labelNames: readonly string[];
  readonly metric: Counter<string> | Gauge<string> | Histogram<string>;
}

export interface Metrics {
  readonly registry: Registry;
  /** Every metric below, as it was defined (forget.ts removes a tenant's or destination's series by it). */
  readonly definitions: readonly MetricDefinition[];
  readonly detectionsReceived: Counter<"tenant">;
  readonly detectionsDuplicate: Counter<"tenant">;
  readonly detectionsMalformed: Counter<"tenant">;
  readonly detectionsFuture: Counter<"tenant">;
  readonly detectionsQuarantined: Counter<"tenant" | "reason">;
  readonly eventsSent: Counter<"destination">;
  readonly eventsDropped: Counter<"destination" | "reason">;
  readonly eventsFiltered: Counter<"destination">;
  readonly fieldsTruncated: Counter<"destination">;
  readonly errors: Counter<"stage" | "code">;
  readonly apiRequests: Counter<"tenant" | "status">;
  readonly apiRequestDuration: Histogram<"tenant">;
  readonly tokenRequests: Counter<"tenant" | "outcome">;
  readonly pollDuration: Histogram<"tenant">;
  readonly outboxEvents: Gauge<"destination">;
  readonly checkpointTimestamp: Gauge<"tenant">;
  readonly lastSuccessfulPoll: Gauge<"tenant">;
  readonly destinationUp: Gauge<"destination">;
  readonly httpConnectionsDropped: Counter<"reason">;
  /** Sets where `mde_outbox_events` reads its values at scrape time. */
  setOutboxSource(read: () => ReadonlyMap<string, number>): void;
}

export interface MetricsOptions {
  /** prom-client's process and Node.js metrics (off in unit tests to keep them quick). */
  defaultMetrics?: boolean;
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  // The event-loop lag histogram samples every 100 ms, not prom-client's 10 ms: its timer woke the idle daemon
  // 100 times a second, nearly all of its idle CPU (a process with nothing else: 0.8% of a CPU at 10 ms,
  // 0.07% at 100 ms). A stall long enough to matter to a forwarder still shows.
  if (options.defaultMetrics ?? true) {
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });
  }
  const registers = [registry];
  let readOutbox: (() => ReadonlyMap<string, number>) | undefined;
  const definitions: MetricDefinition[] = [];
  const define = <M extends Counter<string> | Gauge<string> | Histogram<string>>(
    name: string,
    labelNames: readonly string[],
    metric: M,
  ): M => {
    definitions.push({ name, labelNames, metric });
    return metric;
  };

  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    define(name, labelNames, new Counter<L>({ name, help, labelNames, registers }));
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    define(name, labelNames, new Gauge<L>({ name, help, labelNames, registers }));
  const histogram = <L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    buckets: number[],
  ) => define(name, labelNames, new Histogram<L>({ name, help, labelNames, buckets, registers }));

  const metrics: Metrics = {
    registry,
    definitions,
    detectionsReceived: counter(
      "mde_detections_received_total",
      "Detections returned by the API, overlap re-reads included.",
      ["tenant"],
    ),
    detectionsDuplicate: counter(
      "mde_detections_duplicate_total",
      "Detections dropped because their FullId (or content hash) was already seen.",
      ["tenant"],
    ),
    detectionsMalformed: counter(
      "mde_detections_malformed_total",
      "Detections lacking FullId or a parseable LastProcessedTimeUtc (still forwarded).",
      ["tenant"],
    ),
    detectionsFuture: counter(
      "mde_detections_future_total",
      "Detections dated after the poll's upper bound (delivered; the checkpoint does not follow them), re-reads included.",
      ["tenant"],
    ),
    detectionsQuarantined: counter(
      "mde_detections_quarantined_total",
      "Detections that could not be stored or encoded, kept in the state's quarantine, by reason.",
      ["tenant", "reason"],
    ),
    eventsSent: counter("mde_events_sent_total", "Events confirmed sent to the destination.", [
      "destination",
    ]),
    eventsDropped: counter("mde_events_dropped_total", "Events that will never be sent, by reason.", [
      "destination",
      "reason",
    ]),
    eventsFiltered: counter(
      "mde_events_filtered_total",
      "New detections not queued for the destination because its selection (min_severity, include, exclude) said no.",
      ["destination"],
    ),
    fieldsTruncated: counter(
      "mde_fields_truncated_total",
      "Field values cut to the CEF dictionary length on the way out.",
      ["destination"],
    ),
    errors: counter("mde_errors_total", "Errors by pipeline stage and stable error code.", ["stage", "code"]),
    apiRequests: counter("mde_api_requests_total", "SIEM API calls by HTTP status (or error).", [
      "tenant",
      "status",
    ]),
    apiRequestDuration: histogram(
      "mde_api_request_duration_seconds",
      "Duration of one SIEM API call.",
      ["tenant"],
      [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    ),
    tokenRequests: counter("mde_token_requests_total", "OAuth token requests by outcome.", [
      "tenant",
      "outcome",
    ]),
    pollDuration: histogram(
      "mde_poll_duration_seconds",
      "Duration of one whole poll of a tenant.",
      ["tenant"],
      [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
    ),
    outboxEvents: define(
      "mde_outbox_events",
      ["destination"],
      new Gauge<"destination">({
        name: "mde_outbox_events",
        help: "Undelivered events per destination (read from the state at scrape time).",
        labelNames: ["destination"],
        registers,
        collect() {
          if (!readOutbox) return;
          // Only the destinations configured now: one removed by a reload must not linger at its last value.
          this.reset();
          for (const [destination, depth] of readOutbox()) this.set({ destination }, depth);
        },
      }),
    ),
    checkpointTimestamp: gauge(
      "mde_checkpoint_timestamp_seconds",
      "The tenant's checkpoint (greatest LastProcessedTimeUtc fully read) as a Unix time.",
      ["tenant"],
    ),
    lastSuccessfulPoll: gauge(
      "mde_last_successful_poll_timestamp_seconds",
      "Unix time of the tenant's last successful poll.",
      ["tenant"],
    ),
    destinationUp: gauge("mde_destination_up", "1 when the destination's last connect or send succeeded.", [
      "destination",
    ]),
    httpConnectionsDropped: counter(
      "mde_http_connections_dropped_total",
      "Connections to /metrics, /healthz, /readyz closed before an answer: limit (over metrics.max_connections), timeout (no complete request within metrics.header_timeout), bad_request.",
      ["reason"],
    ),
    setOutboxSource(read) {
      readOutbox = read;
    },
  };
  return metrics;
}
