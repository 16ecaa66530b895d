// The other declared label values of the events' counters: each exists at 0 per tenant or destination
// from the start (zero-series.ts), so that a first occurrence shows in rate() and increase().

/**
 * `mde_api_requests_total{status}`: the answers a Defender API gives in practice (Microsoft documents 400,
 * 401, 403, 404, 429 and 5xx for these APIs; 408 is a proxy's), and `error` for a call without an answer.
 * Any other status is counted too, from 1.
 */
export const API_STATUSES = [
  "200",
  "400",
  "401",
  "403",
  "404",
  "408",
  "429",
  "500",
  "502",
  "503",
  "504",
  "error",
] as const;

/** `mde_token_requests_total{outcome}`: rejected is a refused credential (400/401), error anything else. */
export const TOKEN_OUTCOMES = ["success", "rejected", "error"] as const;
export type TokenOutcome = (typeof TOKEN_OUTCOMES)[number];
export type TokenFailure = Exclude<TokenOutcome, "success">;

/** `mde_events_dropped_total{reason}`. */
export const DROP_REASONS = ["too_large", "destination_removed"] as const;
export type DropReason = (typeof DROP_REASONS)[number];
