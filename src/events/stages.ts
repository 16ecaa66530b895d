// The stages of `mde_errors_total{stage,code}` and the codes each one can count. Each error event declares
// its stage (pollFailed takes the one its source declares: auth when the token request failed), and these
// declarations make the zero series (zero-series.ts): every code a stage can count exists at 0 from the
// start, so that rate() and increase() see its first error. A code counted outside its stage's list still
// counts, from 1; test/unit/events/zero-series.test.ts fails on a code that is in no stage's list and not
// declared uncounted.
import type { ErrorCode } from "../errors.js";

export const ERROR_STAGES = ["config", "auth", "poll", "state", "format", "send"] as const;

/**
 * config: a reload refused; auth: a token request; poll: an API call or a poll's own bounds; state: the
 * store refused a read or a write (or its pruning); format: a stored event that cannot be encoded; send: a
 * destination that failed a send, a probe or its rotated TLS files.
 */
export type ErrorStage = (typeof ERROR_STAGES)[number];

/** The stages a failed poll can be counted in: where its source failed (source.stageOf). */
export type SourceStage = Extract<ErrorStage, "auth" | "poll">;

/**
 * Codes no event counts: they stop the start (the state cannot be opened, the metrics port is taken) and
 * exit with their message, or are no failure (a shutdown), or are a drop (counted in
 * mde_events_dropped_total).
 */
export const UNCOUNTED_CODES: readonly ErrorCode[] = [
  "E_STATE_OPEN",
  "E_METRICS_LISTEN",
  "E_SHUTDOWN",
  "E_SINK_TOO_LARGE",
];

export const STAGE_CODES: { readonly [S in ErrorStage]: readonly ErrorCode[] } = {
  config: ["E_CONFIG_INVALID", "E_CONFIG_READ"],
  // The token endpoint throttles (429) and is reached through the proxy like the API.
  auth: ["E_AUTH_TOKEN", "E_AUTH_UNAVAILABLE", "E_API_THROTTLED", "E_API_NETWORK"],
  poll: [
    "E_API_UNAUTHORIZED",
    "E_API_FORBIDDEN",
    "E_API_THROTTLED",
    "E_API_SERVER",
    "E_API_NETWORK",
    "E_API_TIMEOUT",
    "E_API_BAD_RESPONSE",
    "E_API_CLIENT",
    "E_API_TOO_LARGE",
    "E_POLL_TOO_MANY_REQUESTS",
    "E_INTERNAL",
  ],
  // E_STATE_LOCKED: another process took the database's lock (SQLITE_BUSY) while it ran.
  state: ["E_STATE_CORRUPT", "E_STATE_WRITE", "E_STATE_LOCKED"],
  format: ["E_FORMAT"],
  send: [
    "E_SINK_CONNECT",
    "E_SINK_WRITE",
    "E_SINK_TLS",
    "E_SINK_TIMEOUT",
    "E_SINK_PROTOCOL",
    "E_SINK_REJECTED",
  ],
};
