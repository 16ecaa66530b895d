// Events, after Vector's internal events: each noteworthy occurrence is one function that writes its log
// line at its level and counts its metric together, so that the two cannot drift apart. The line goes to
// the logger of the component where it happens (passed in, so it carries its component, tenant or
// destination); the counters are those of the registry passed to createEvents. Nothing is global.
//
// Adding an error: an event here (or a new case of one) with its stage, its code in stages.ts (the zero
// series follow), a row in the README's error-code table; test/unit/events/ drives every event.
import type { Metrics } from "../metrics/definitions.js";
import { type ConfigEvents, createConfigEvents } from "./config-events.js";
import { createDeliveryEvents, type DeliveryEvents } from "./delivery-events.js";
import { createPollEvents, type PollEvents } from "./poll-events.js";
import { createSourceEvents, type SourceEvents } from "./source-events.js";
import { createStateEvents, type StateEvents } from "./state-events.js";
import { createZeroSeries, type SeriesScope } from "./zero-series.js";

export type { ConfigEvents } from "./config-events.js";
export type { DeliveryEvents, Endpoint, SinkEvents } from "./delivery-events.js";
export { API_STATUSES, DROP_REASONS, type DropReason, TOKEN_OUTCOMES, type TokenFailure } from "./labels.js";
export type { PollEvents } from "./poll-events.js";
export type { SourceEvents } from "./source-events.js";
export { ERROR_STAGES, type ErrorStage, type SourceStage, STAGE_CODES, UNCOUNTED_CODES } from "./stages.js";
export type { StateEvents } from "./state-events.js";
export type { SeriesScope } from "./zero-series.js";

export interface Events extends SourceEvents, PollEvents, StateEvents, ConfigEvents, DeliveryEvents {
  /** Every series these events can count for the tenants and destinations, at 0 (zero-series.ts). */
  zeroSeries(scope: SeriesScope): void;
}

export interface EventsDeps {
  metrics: Metrics;
}

export function createEvents({ metrics }: EventsDeps): Events {
  return {
    ...createSourceEvents(metrics),
    ...createPollEvents(metrics),
    ...createStateEvents(metrics),
    ...createConfigEvents(metrics),
    ...createDeliveryEvents(metrics),
    zeroSeries: (scope) => createZeroSeries(metrics, scope),
  };
}
