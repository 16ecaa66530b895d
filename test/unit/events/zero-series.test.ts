// The zero series (issue 13, finding 5): every series the events can count exists at 0 before anything
// happened, made from the events' declarations, so that Prometheus' rate() and increase() see the first
// error. test/ops/zero-series.test.ts shows it on a real Prometheus.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ERROR_CODES, type ErrorCode, ForwarderError } from "../../../src/errors.js";
import {
  API_STATUSES,
  createEvents,
  ERROR_STAGES,
  STAGE_CODES,
  UNCOUNTED_CODES,
} from "../../../src/events/index.js";
import { silentLogger } from "../../../src/log.js";
import { createMetrics, type Metrics } from "../../../src/metrics/definitions.js";
import { QUARANTINE_REASONS } from "../../../src/record.js";

async function series(metrics: Metrics, name: string): Promise<Map<string, number>> {
  const metric = await metrics.registry.getSingleMetric(name)?.get();
  return new Map(
    (metric?.values ?? []).map((v) => [
      Object.values(v.labels)
        .map((x) => String(x))
        .join(" "),
      v.value,
    ]),
  );
}

const scope = { tenants: ["acme", "globex"], destinations: ["siem", "qradar"] };

test("every code a stage declares, and nothing else, exists at 0 in mde_errors_total", async () => {
  const metrics = createMetrics({ defaultMetrics: false });
  createEvents({ metrics }).zeroSeries(scope);
  const expected = ERROR_STAGES.flatMap((stage) => STAGE_CODES[stage].map((code) => [`${stage} ${code}`, 0]));
  assert.deepEqual([...(await series(metrics, "mde_errors_total"))].sort(), expected.sort());
});

test("each tenant has every declared API status and token outcome at 0, each destination its counters", async () => {
  const metrics = createMetrics({ defaultMetrics: false });
  createEvents({ metrics }).zeroSeries(scope);
  const api = await series(metrics, "mde_api_requests_total");
  assert.equal(api.size, scope.tenants.length * API_STATUSES.length);
  for (const tenant of scope.tenants) {
    for (const status of ["200", "401", "403", "429", "503", "error"])
      assert.equal(api.get(`${tenant} ${status}`), 0);
  }
  assert.equal((await series(metrics, "mde_token_requests_total")).get("globex rejected"), 0);
  assert.equal(
    (await series(metrics, "mde_detections_quarantined_total")).size,
    2 * QUARANTINE_REASONS.length,
  );
  assert.deepEqual([...(await series(metrics, "mde_events_dropped_total")).keys()].sort(), [
    "qradar destination_removed",
    "qradar too_large",
    "siem destination_removed",
    "siem too_large",
  ]);
  assert.deepEqual([...(await series(metrics, "mde_destination_up")).values()], [0, 0]);
  for (const name of ["mde_events_sent_total", "mde_events_filtered_total", "mde_fields_truncated_total"]) {
    assert.equal((await series(metrics, name)).size, 2, name);
  }
});

test("issue 13 finding 5: one 403 moves series that existed at 0 instead of creating them at 1", async () => {
  const metrics = createMetrics({ defaultMetrics: false });
  const events = createEvents({ metrics });
  events.zeroSeries(scope);
  const before = {
    api: await series(metrics, "mde_api_requests_total"),
    errors: await series(metrics, "mde_errors_total"),
  };
  events.apiRequestFinished("acme", 403, 0.1);
  events.pollFailed(
    silentLogger(),
    "poll",
    new ForwarderError("E_API_FORBIDDEN", "answered 403"),
    "2026-12-06T01:00:00.000Z",
  );
  const api = await series(metrics, "mde_api_requests_total");
  const errors = await series(metrics, "mde_errors_total");
  assert.equal(before.api.get("acme 403"), 0);
  assert.equal(before.errors.get("poll E_API_FORBIDDEN"), 0);
  assert.equal(api.get("acme 403"), 1);
  assert.equal(errors.get("poll E_API_FORBIDDEN"), 1);
  assert.deepEqual([...api.keys()].sort(), [...before.api.keys()].sort(), "no series was added");
  assert.deepEqual([...errors.keys()].sort(), [...before.errors.keys()].sort(), "no series was added");
  // A reload declares the series again: what was counted stays.
  events.zeroSeries(scope);
  assert.equal((await series(metrics, "mde_errors_total")).get("poll E_API_FORBIDDEN"), 1);
});

test("every error code is counted in a stage, or declared uncounted with a reason", () => {
  const staged = new Set<ErrorCode>(ERROR_STAGES.flatMap((stage) => STAGE_CODES[stage]));
  const missing = (Object.keys(ERROR_CODES) as ErrorCode[]).filter(
    (code) => !staged.has(code) && !UNCOUNTED_CODES.includes(code),
  );
  assert.deepEqual(missing, [], "codes without a stage: add them to STAGE_CODES or UNCOUNTED_CODES");
  for (const code of UNCOUNTED_CODES) assert.equal(staged.has(code), false, `${code} is counted after all`);
});
