// Every event of src/events/ (issue 13, finding 1): driven once or more, each case asserts the parsed log
// line (level, message, fields) and every series it counts, on a real pino logger writing into a buffer
// and a real prom-client registry. A new event without a case here fails the first test.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError, type ErrorCode, ForwarderError } from "../../../src/errors.js";
import { createEvents, type Endpoint, type Events } from "../../../src/events/index.js";
import { createLogger, type Logger } from "../../../src/log.js";
import { createMetrics, type Metrics } from "../../../src/metrics/definitions.js";

interface LogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

interface Harness {
  events: Events;
  metrics: Metrics;
  log: Logger;
  lines: LogLine[];
}

function harness(): Harness {
  const metrics = createMetrics({ defaultMetrics: false });
  const lines: LogLine[] = [];
  const log = createLogger({
    level: "debug",
    format: "json",
    destination: { write: (line: string) => lines.push(JSON.parse(line) as LogLine) },
  }).child({ component: "test" });
  return { events: createEvents({ metrics }), metrics, log, lines };
}

/** Every series of `name` as `{a="x",b="y"} value` (histograms: their _count). */
async function series(metrics: Metrics, name: string): Promise<Map<string, number>> {
  const metric = await metrics.registry.getSingleMetric(name)?.get();
  const out = new Map<string, number>();
  for (const v of metric?.values ?? []) {
    const metricName = (v as { metricName?: string }).metricName;
    if (metricName !== undefined && !metricName.endsWith("_count")) continue;
    const labels = Object.entries(v.labels)
      .filter(([k]) => k !== "le")
      .map(([k, val]) => `${k}="${String(val)}"`)
      .join(",");
    out.set(`{${labels}}`, v.value);
  }
  return out;
}

const err = (code: ErrorCode, message = "what happened") => new ForwarderError(code, message);
const endpoint: Endpoint = { destination: "siem", protocol: "tcp", host: "10.0.0.1", port: 514 };

interface Case {
  /** The event this case drives. */
  event: Exclude<keyof Events, "zeroSeries">;
  title: string;
  run(h: Harness): void;
  /** The one line written (undefined: none), its fields a subset of the line's. */
  line?: { level: string; msg: string; fields?: Record<string, unknown>; absent?: readonly string[] };
  /** Every series counted: metric name -> { `{labels}`: value }; nothing else of those metrics exists. */
  counts: Record<string, Record<string, number>>;
}

const CASES: Case[] = [
  {
    event: "apiRequestFinished",
    title: "a 403 is counted by status and timed; no line (the poll's failure says it)",
    run: (h) => h.events.apiRequestFinished("acme", 403, 0.25),
    counts: {
      mde_api_requests_total: { '{tenant="acme",status="403"}': 1 },
      mde_api_request_duration_seconds: { '{tenant="acme"}': 1 },
    },
  },
  {
    event: "apiRequestFinished",
    title: "a call without an answer is status error",
    run: (h) => h.events.apiRequestFinished("acme", "error", 5),
    counts: {
      mde_api_requests_total: { '{tenant="acme",status="error"}': 1 },
      mde_api_request_duration_seconds: { '{tenant="acme"}': 1 },
    },
  },
  {
    event: "tokenObtained",
    title: "a token is counted as success, at debug",
    run: (h) => h.events.tokenObtained(h.log, "acme", 3300),
    line: { level: "debug", msg: "Access token obtained.", fields: { refreshInSeconds: 3300 } },
    counts: { mde_token_requests_total: { '{tenant="acme",outcome="success"}': 1 } },
  },
  {
    event: "tokenFailed",
    title: "a rejected credential is counted as rejected, at debug (the poll's line is the operator's)",
    run: (h) => h.events.tokenFailed(h.log, "acme", "rejected", err("E_AUTH_TOKEN", "rejected with 401")),
    line: {
      level: "debug",
      msg: "Token request failed.",
      fields: { outcome: "rejected", code: "E_AUTH_TOKEN", err: "rejected with 401" },
    },
    counts: { mde_token_requests_total: { '{tenant="acme",outcome="rejected"}': 1 } },
  },
  {
    event: "apiCallRetrying",
    title: "a retried token request is a warning counted in stage auth",
    run: (h) =>
      h.events.apiCallRetrying(h.log, {
        stage: "auth",
        api: "Graph",
        error: err("E_AUTH_UNAVAILABLE"),
        attempt: 2,
        delayMs: 1999.6,
        where: { since: "2026-12-05T00:00:00.0000000Z" },
      }),
    line: {
      level: "warn",
      msg: "Graph call failed; retrying.",
      fields: {
        code: "E_AUTH_UNAVAILABLE",
        attempt: 2,
        delayMs: 2000,
        since: "2026-12-05T00:00:00.0000000Z",
      },
    },
    counts: { mde_errors_total: { '{stage="auth",code="E_AUTH_UNAVAILABLE"}': 1 } },
  },
  {
    event: "pollFailed",
    title: "a permanent failure (403) is an error with the next attempt, counted in stage poll",
    run: (h) =>
      h.events.pollFailed(h.log, "poll", err("E_API_FORBIDDEN", "answered 403"), "2026-12-06T01:00:00.000Z"),
    line: {
      level: "error",
      msg: "Poll failed; this tenant rests until the next attempt.",
      fields: { code: "E_API_FORBIDDEN", err: "answered 403", nextAttempt: "2026-12-06T01:00:00.000Z" },
    },
    counts: { mde_errors_total: { '{stage="poll",code="E_API_FORBIDDEN"}': 1 } },
  },
  {
    event: "pollFailed",
    title: "a retryable failure is a warning without a next attempt",
    run: (h) => h.events.pollFailed(h.log, "poll", err("E_API_SERVER", "answered 503")),
    line: {
      level: "warn",
      msg: "Poll failed; the checkpoint stays and the next poll reads the window again.",
      fields: { code: "E_API_SERVER", err: "answered 503" },
      absent: ["nextAttempt"],
    },
    counts: { mde_errors_total: { '{stage="poll",code="E_API_SERVER"}': 1 } },
  },
  {
    event: "pollFailed",
    title: "a rejected credential is counted in the stage the source declares (auth)",
    run: (h) => h.events.pollFailed(h.log, "auth", err("E_AUTH_TOKEN")),
    line: { level: "error", msg: "Poll failed; this tenant rests until the next attempt." },
    counts: { mde_errors_total: { '{stage="auth",code="E_AUTH_TOKEN"}': 1 } },
  },
  {
    event: "detectionsMalformed",
    title: "malformed detections are counted and warned about",
    run: (h) => h.events.detectionsMalformed(h.log, "acme", 3),
    line: {
      level: "warn",
      msg: "Detections without FullId or a parseable LastProcessedTimeUtc; forwarded anyway.",
      fields: { malformed: 3 },
    },
    counts: { mde_detections_malformed_total: { '{tenant="acme"}': 3 } },
  },
  {
    event: "detectionsQuarantined",
    title: "quarantined detections are counted per reason in one warning",
    run: (h) =>
      h.events.detectionsQuarantined(
        h.log,
        "acme",
        new Map([
          ["too_deep", 2],
          ["not_an_object", 1],
        ]),
      ),
    line: {
      level: "warn",
      msg: "Detections that cannot be stored were quarantined (`mde-forwarder state export-quarantine` lists them); the poll goes on.",
      fields: { quarantined: { too_deep: 2, not_an_object: 1 } },
    },
    counts: {
      mde_detections_quarantined_total: {
        '{tenant="acme",reason="too_deep"}': 2,
        '{tenant="acme",reason="not_an_object"}': 1,
      },
    },
  },
  {
    event: "stateFailed",
    title: "a state failure in a poll is an error counted in stage state",
    run: (h) => h.events.stateFailed(h.log, "poll", err("E_STATE_WRITE", "disk full")),
    line: {
      level: "error",
      msg: "Poll failed: the state cannot be written; the checkpoint did not move.",
      fields: { code: "E_STATE_WRITE", err: "disk full" },
    },
    counts: { mde_errors_total: { '{stage="state",code="E_STATE_WRITE"}': 1 } },
  },
  {
    event: "stateFailed",
    title: "a state failure in a drain stops that destination, counted in stage state",
    run: (h) => h.events.stateFailed(h.log, "drain", err("E_STATE_CORRUPT")),
    line: {
      level: "error",
      msg: "State failure; this destination stops draining.",
      fields: { code: "E_STATE_CORRUPT" },
    },
    counts: { mde_errors_total: { '{stage="state",code="E_STATE_CORRUPT"}': 1 } },
  },
  {
    event: "pruneFailed",
    title: "a failed pruning is an error, now counted (stage state)",
    run: (h) => h.events.pruneFailed(h.log, err("E_STATE_WRITE", "database is locked")),
    line: {
      level: "error",
      msg: "Pruning the dedupe table failed.",
      fields: { code: "E_STATE_WRITE", err: "database is locked" },
    },
    counts: { mde_errors_total: { '{stage="state",code="E_STATE_WRITE"}': 1 } },
  },
  {
    event: "configRejected",
    title: "a refused reload lists the config issues, counted in stage config",
    run: (h) =>
      h.events.configRejected(h.log, new ConfigError([{ path: "state.path", message: "cannot change" }])),
    line: {
      level: "error",
      msg: "New config rejected; the old one keeps running.",
      fields: { code: "E_CONFIG_INVALID", issues: [{ path: "state.path", message: "cannot change" }] },
      absent: ["err"],
    },
    counts: { mde_errors_total: { '{stage="config",code="E_CONFIG_INVALID"}': 1 } },
  },
  {
    event: "configRejected",
    title: "an unreadable file gives its message instead",
    run: (h) => h.events.configRejected(h.log, err("E_CONFIG_READ", "cannot read /etc/x.yaml")),
    line: {
      level: "error",
      msg: "New config rejected; the old one keeps running.",
      fields: { code: "E_CONFIG_READ", err: "cannot read /etc/x.yaml" },
    },
    counts: { mde_errors_total: { '{stage="config",code="E_CONFIG_READ"}': 1 } },
  },
  {
    event: "destinationUp",
    title: "the first connect sets the gauge to 1",
    run: (h) => h.events.destinationUp(h.log, endpoint, false),
    line: {
      level: "info",
      msg: "Destination is reachable.",
      fields: { protocol: "tcp", host: "10.0.0.1", port: 514 },
    },
    counts: { mde_destination_up: { '{destination="siem"}': 1 } },
  },
  {
    event: "destinationUp",
    title: "a UDP destination back says that UDP cannot confirm",
    run: (h) => h.events.destinationUp(h.log, { ...endpoint, protocol: "udp" }, true),
    line: { level: "info", msg: "Destination takes datagrams again (UDP cannot confirm delivery)." },
    counts: { mde_destination_up: { '{destination="siem"}': 1 } },
  },
  {
    event: "destinationDown",
    title: "going down sets the gauge to 0 with a warning",
    run: (h) => {
      h.events.destinationUp(h.log, endpoint, false);
      h.lines.length = 0;
      h.events.destinationDown(h.log, endpoint, err("E_SINK_CONNECT", "ECONNREFUSED"), false);
    },
    line: {
      level: "warn",
      msg: "Destination is down.",
      fields: {
        protocol: "tcp",
        host: "10.0.0.1",
        port: 514,
        code: "E_SINK_CONNECT",
        reason: "ECONNREFUSED",
      },
    },
    counts: { mde_destination_up: { '{destination="siem"}': 0 } },
  },
  {
    event: "destinationDown",
    title: "failing again while down is a debug line, and the gauge is left alone",
    run: (h) => h.events.destinationDown(h.log, endpoint, err("E_SINK_CONNECT"), true),
    line: { level: "debug", msg: "Send failed, destination still down.", fields: { code: "E_SINK_CONNECT" } },
    counts: { mde_destination_up: {} },
  },
  {
    event: "sendFailed",
    title: "the first failed send is a warning with its pause, counted in stage send",
    run: (h) => h.events.sendFailed(h.log, "siem", err("E_SINK_TIMEOUT"), { failures: 1, delayMs: 1234.4 }),
    line: {
      level: "warn",
      msg: "Send failed; resending after a pause.",
      fields: { code: "E_SINK_TIMEOUT", failures: 1, delayMs: 1234 },
    },
    counts: { mde_errors_total: { '{stage="send",code="E_SINK_TIMEOUT"}': 1 } },
  },
  {
    event: "sendFailed",
    title: "later failures in a row are debug lines, still counted",
    run: (h) => h.events.sendFailed(h.log, "siem", err("E_SINK_WRITE"), { failures: 4, delayMs: 8000 }),
    line: { level: "debug", msg: "Send failed; resending after a pause.", fields: { failures: 4 } },
    counts: { mde_errors_total: { '{stage="send",code="E_SINK_WRITE"}': 1 } },
  },
  {
    event: "sendFailed",
    title: "giving up (once) keeps the events in the outbox; refusals were counted when they came",
    run: (h) => h.events.sendFailed(h.log, "siem", err("E_SINK_REJECTED"), { failures: 1 }),
    line: {
      level: "warn",
      msg: "Send failed; the events stay in the outbox.",
      fields: { code: "E_SINK_REJECTED" },
      absent: ["delayMs"],
    },
    counts: { mde_errors_total: {} },
  },
  {
    event: "probeFailed",
    title: "a failed idle check is counted, at debug (destinationDown warns)",
    run: (h) => h.events.probeFailed(h.log, "siem", err("E_SINK_CONNECT", "ECONNREFUSED")),
    line: {
      level: "debug",
      msg: "Destination check failed.",
      fields: { code: "E_SINK_CONNECT", err: "ECONNREFUSED" },
    },
    counts: { mde_errors_total: { '{stage="send",code="E_SINK_CONNECT"}': 1 } },
  },
  {
    event: "messagesRefused",
    title: "refused messages are counted one each",
    run: (h) => h.events.messagesRefused(h.log, "siem", 3),
    line: {
      level: "debug",
      msg: "Refused messages stay in the outbox and are sent again.",
      fields: { refused: 3 },
    },
    counts: { mde_errors_total: { '{stage="send",code="E_SINK_REJECTED"}': 3 } },
  },
  {
    event: "eventUnencodable",
    title: "an unencodable event is an error, counted in stage format and as quarantined",
    run: (h) => h.events.eventUnencodable(h.log, { id: 7, tenant: "acme" }, err("E_FORMAT", "bad value")),
    line: {
      level: "error",
      msg: "Stored event cannot be encoded; quarantined, the destination goes on.",
      fields: { eventId: 7, tenant: "acme", err: "bad value" },
    },
    counts: {
      mde_errors_total: { '{stage="format",code="E_FORMAT"}': 1 },
      mde_detections_quarantined_total: { '{tenant="acme",reason="unencodable"}': 1 },
    },
  },
  {
    event: "eventsDropped",
    title: "events the transport cannot carry are dropped with an error",
    run: (h) => h.events.eventsDropped(h.log, { destination: "siem", reason: "too_large", count: 2 }),
    line: {
      level: "error",
      msg: "Events too large for the destination were dropped.",
      fields: { dropped: 2 },
    },
    counts: { mde_events_dropped_total: { '{destination="siem",reason="too_large"}': 2 } },
  },
  {
    event: "eventsDropped",
    title: "events that do not fit max_message_bytes even cut down say so",
    run: (h) =>
      h.events.eventsDropped(h.log, {
        destination: "siem",
        reason: "too_large",
        count: 1,
        unfit: { maxMessageBytes: 2048 },
      }),
    line: {
      level: "error",
      msg: "Events that cannot fit max_message_bytes even cut down were dropped.",
      fields: { events: 1, maxMessageBytes: 2048 },
    },
    counts: { mde_events_dropped_total: { '{destination="siem",reason="too_large"}': 1 } },
  },
  {
    event: "eventsDropped",
    title: "a removed destination's backlog is a warning",
    run: (h) =>
      h.events.eventsDropped(h.log, { destination: "old", reason: "destination_removed", count: 40 }),
    line: {
      level: "warn",
      msg: "Outbox rows of a destination no longer configured were dropped.",
      fields: { destination: "old", events: 40 },
    },
    counts: { mde_events_dropped_total: { '{destination="old",reason="destination_removed"}': 40 } },
  },
  {
    event: "tlsFilesInvalid",
    title: "rotated TLS files that do not validate are an error counted in stage send",
    run: (h) =>
      h.events.tlsFilesInvalid(h.log, "siem", err("E_SINK_TLS", "no certificate in cert.pem"), {
        changed: ["tls.cert_file"],
        files: ["/tls/cert.pem"],
      }),
    line: {
      level: "error",
      msg: "TLS files changed on disk but are not usable; the current connection stays on the old ones.",
      fields: {
        changed: ["tls.cert_file"],
        files: ["/tls/cert.pem"],
        code: "E_SINK_TLS",
        reason: "no certificate in cert.pem",
      },
    },
    counts: { mde_errors_total: { '{stage="send",code="E_SINK_TLS"}': 1 } },
  },
];

test("every event has a case", () => {
  const events = Object.keys(createEvents({ metrics: createMetrics({ defaultMetrics: false }) }));
  const driven = new Set(CASES.map((c) => c.event));
  assert.deepEqual(
    events.filter((e) => e !== "zeroSeries" && !driven.has(e as Case["event"])),
    [],
    "events without a case",
  );
});

for (const c of CASES) {
  test(`${c.event}: ${c.title}`, async () => {
    const h = harness();
    c.run(h);
    if (c.line === undefined) {
      assert.deepEqual(h.lines, []);
    } else {
      assert.equal(h.lines.length, 1, `one line: ${JSON.stringify(h.lines)}`);
      const line = h.lines[0] as LogLine;
      assert.equal(line.level, c.line.level);
      assert.equal(line.msg, c.line.msg);
      // Written on the caller's logger: its bindings are kept.
      assert.equal(line.component, "test");
      for (const [key, value] of Object.entries(c.line.fields ?? {})) {
        assert.deepEqual(line[key], value, `field ${key}`);
      }
      for (const key of c.line.absent ?? []) assert.equal(key in line, false, `no field ${key}`);
    }
    for (const [name, expected] of Object.entries(c.counts)) {
      assert.deepEqual(Object.fromEntries(await series(h.metrics, name)), expected, name);
    }
  });
}
