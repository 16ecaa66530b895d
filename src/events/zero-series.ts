// Counters exist at 0 from the start: Prometheus' rate() and increase() never see a series' first value,
// so a series born at 1 hides its first error (a tenant locked out by one 403, which then rests for an
// hour, would never show on "Errors by code"). The label values come from the events' declarations.
import type { Metrics } from "../metrics/definitions.js";
import { QUARANTINE_REASONS } from "../record.js";
import { API_STATUSES, DROP_REASONS, TOKEN_OUTCOMES } from "./labels.js";
import { ERROR_STAGES, STAGE_CODES } from "./stages.js";

export interface SeriesScope {
  readonly tenants: readonly string[];
  readonly destinations: readonly string[];
}

/**
 * Creates at 0 every series the events can count for these tenants and destinations (a reload calls it
 * again for the new ones; existing values are kept), and marks each destination down until its first
 * connect.
 */
export function createZeroSeries(metrics: Metrics, scope: SeriesScope): void {
  for (const stage of ERROR_STAGES) {
    for (const code of STAGE_CODES[stage]) metrics.errors.inc({ stage, code }, 0);
  }
  for (const tenant of scope.tenants) {
    const t = { tenant };
    for (const status of API_STATUSES) metrics.apiRequests.inc({ tenant, status }, 0);
    for (const outcome of TOKEN_OUTCOMES) metrics.tokenRequests.inc({ tenant, outcome }, 0);
    metrics.detectionsReceived.inc(t, 0);
    metrics.detectionsDuplicate.inc(t, 0);
    metrics.detectionsMalformed.inc(t, 0);
    metrics.detectionsFuture.inc(t, 0);
    for (const reason of QUARANTINE_REASONS) metrics.detectionsQuarantined.inc({ tenant, reason }, 0);
  }
  for (const destination of scope.destinations) {
    const d = { destination };
    metrics.destinationUp.set(d, 0);
    metrics.eventsSent.inc(d, 0);
    metrics.eventsFiltered.inc(d, 0);
    metrics.fieldsTruncated.inc(d, 0);
    for (const reason of DROP_REASONS) metrics.eventsDropped.inc({ destination, reason }, 0);
  }
}
