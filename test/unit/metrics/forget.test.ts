// Issue 13, finding 5: a reload that removes a tenant or a destination deletes its series. Every metric with
// the label is covered, also one added later: the test walks the definitions and the registry, not a list.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Counter, Gauge, Histogram } from "prom-client";
import { createMetrics, type MetricDefinition, type Metrics } from "../../../src/metrics/definitions.js";
import { forgetDestination, forgetTenant } from "../../../src/metrics/forget.js";

/** Two series per value of `label` on every metric that has it (two values of any other label). */
function fill(metrics: Metrics, label: string, values: readonly string[]): MetricDefinition[] {
  const covered = metrics.definitions.filter((d) => d.labelNames.includes(label));
  for (const { metric, labelNames } of covered) {
    for (const value of values) {
      for (const other of ["a", "b"]) {
        const labels = Object.fromEntries(labelNames.map((name) => [name, name === label ? value : other]));
        if (metric instanceof Counter) metric.inc(labels, 2);
        else if (metric instanceof Gauge) metric.set(labels, 2);
        else if (metric instanceof Histogram) metric.observe(labels, 0.3);
      }
    }
  }
  return covered;
}

async function seriesOf(metrics: Metrics, label: string, value: string): Promise<string[]> {
  const text = await metrics.registry.metrics();
  return text.split("\n").filter((line) => line.includes(`${label}="${value}"`));
}

test("finding 5: every metric is a definition, so forgetting covers each one with the label", () => {
  const metrics = createMetrics({ defaultMetrics: false });
  const defined = new Set(metrics.definitions.map((d) => d.metric));
  const fields = Object.entries(metrics).filter(
    ([, v]) => v instanceof Counter || v instanceof Gauge || v instanceof Histogram,
  );
  for (const [key, metric] of fields) assert.ok(defined.has(metric), `metrics.${key} is not in definitions`);
  const registered = metrics.registry.getMetricsAsArray().map((m) => m.name);
  assert.deepEqual(registered.sort(), metrics.definitions.map((d) => d.name).sort());
  // The label names recorded are the ones prom-client was given (what remove() keys on).
  for (const d of metrics.definitions) {
    const own = (d.metric as unknown as { labelNames: string[] }).labelNames;
    assert.deepEqual([...own], [...d.labelNames], d.name);
  }
  // The public contract's per-tenant and per-destination metrics are all among them.
  const by = (label: string) =>
    metrics.definitions.filter((d) => d.labelNames.includes(label)).map((d) => d.name);
  for (const name of [
    "mde_checkpoint_timestamp_seconds",
    "mde_last_successful_poll_timestamp_seconds",
    "mde_poll_duration_seconds",
    "mde_api_request_duration_seconds",
    "mde_api_requests_total",
    "mde_token_requests_total",
    "mde_detections_quarantined_total",
    "mde_detections_future_total",
  ])
    assert.ok(by("tenant").includes(name), name);
  for (const name of [
    "mde_outbox_events",
    "mde_destination_up",
    "mde_events_sent_total",
    "mde_events_dropped_total",
  ])
    assert.ok(by("destination").includes(name), name);
});

test("finding 5: forgetTenant deletes every series of that tenant, whatever its other labels, and no other", async () => {
  const metrics = createMetrics({ defaultMetrics: false });
  const covered = fill(metrics, "tenant", ["gone", "kept"]);
  assert.ok(covered.length >= 10, `${covered.length} metrics with a tenant label`);
  assert.notDeepEqual(await seriesOf(metrics, "tenant", "gone"), []);
  const keptBefore = await seriesOf(metrics, "tenant", "kept");

  const removed = await forgetTenant(metrics, "gone");

  assert.equal(
    removed,
    covered.reduce((n, d) => n + (d.labelNames.length > 1 ? 2 : 1), 0),
  );
  assert.deepEqual(await seriesOf(metrics, "tenant", "gone"), []);
  assert.deepEqual(await seriesOf(metrics, "tenant", "kept"), keptBefore);
  assert.equal(await forgetTenant(metrics, "gone"), 0, "idempotent");
  // A metric forgotten is still usable: the series comes back at its first new value.
  metrics.checkpointTimestamp.set({ tenant: "gone" }, 5);
  assert.deepEqual(await seriesOf(metrics, "tenant", "gone"), [
    'mde_checkpoint_timestamp_seconds{tenant="gone"} 5',
  ]);
});

test("finding 5: forgetDestination deletes every series of that destination and no other", async () => {
  const metrics = createMetrics({ defaultMetrics: false });
  const covered = fill(metrics, "destination", ["gone", "kept"]);
  assert.ok(covered.length >= 6, `${covered.length} metrics with a destination label`);
  const keptBefore = await seriesOf(metrics, "destination", "kept");

  await forgetDestination(metrics, "gone");

  assert.deepEqual(await seriesOf(metrics, "destination", "gone"), []);
  assert.deepEqual(await seriesOf(metrics, "destination", "kept"), keptBefore);
});
