// A tenant or destination removed by a reload must leave /metrics with it: a series left behind keeps its
// last value until a restart, so MdeCheckpointLag and MdeNoSuccessfulPoll go on firing for a tenant that no
// longer exists, and the dashboard lists it. Every metric defined with the label is covered (derived from
// `metrics.definitions`, so a metric added later is too).
import type { MetricDefinition, Metrics } from "./definitions.js";

/** Deletes every series of `tenant` (all label combinations); returns how many were removed. */
export function forgetTenant(metrics: Metrics, tenant: string): Promise<number> {
  return forgetLabelValue(metrics, "tenant", tenant);
}

/** Deletes every series of `destination` (all label combinations); returns how many were removed. */
export function forgetDestination(metrics: Metrics, destination: string): Promise<number> {
  return forgetLabelValue(metrics, "destination", destination);
}

async function forgetLabelValue(metrics: Metrics, label: string, value: string): Promise<number> {
  let removed = 0;
  for (const definition of metrics.definitions) {
    if (!definition.labelNames.includes(label)) continue;
    for (const labels of await seriesWith(definition, label, value)) {
      definition.metric.remove(labels);
      removed++;
    }
  }
  return removed;
}

/**
 * The label sets of the metric's series where `label` is `value`. prom-client (15) removes one exact label
 * set only, so a metric with more labels (tenant and reason, say) is enumerated through its public `get()`;
 * a histogram's buckets carry `le` besides its own labels, which is not part of the series' key.
 */
async function seriesWith(
  definition: MetricDefinition,
  label: string,
  value: string,
): Promise<Array<Record<string, string | number>>> {
  const { values } = await definition.metric.get();
  const found = new Map<string, Record<string, string | number>>();
  for (const { labels } of values) {
    if (labels[label] !== value) continue;
    const own: Record<string, string | number> = {};
    for (const name of definition.labelNames) {
      const v = labels[name];
      if (v !== undefined) own[name] = v;
    }
    found.set(JSON.stringify(definition.labelNames.map((name) => own[name] ?? null)), own);
  }
  return [...found.values()];
}
