// The source of one tenant: token cache, API client and window reading, with retries.
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics/definitions.js";
import { DEFAULT_POLICY, type RetryPolicy, retry } from "../retry.js";
import { formatTimestamp, parseTimestamp, TICKS_PER_MS, type Ticks, ticksFromMs } from "../timestamp.js";
import type { PollConfig, TenantConfig } from "./config.js";
import { createHttpClient, type HttpClient } from "./http.js";
import { createTokenProvider } from "./oauth.js";
import { createSiemApi } from "./siem-api.js";
import { readWindow, type WindowPart } from "./window.js";

export type { WindowPart } from "./window.js";

export interface PollWindow {
  readonly since: Ticks;
  readonly until: Ticks;
}

export interface Source {
  readonly tenant: string;
  /** The window a poll reads: [checkpoint - overlap, now], or [now - lookback, now] without a checkpoint. */
  windowFor(checkpoint: string | undefined): PollWindow;
  /** Reads the window, yielding fully read parts oldest first. Throws a ForwarderError when a part fails. */
  read(window: PollWindow, signal?: AbortSignal): AsyncGenerator<WindowPart>;
}

export interface SourceDeps {
  log: Logger;
  metrics: Metrics;
  clock?: () => number;
  http?: HttpClient;
  retryPolicy?: RetryPolicy;
}

export function createSource(tenant: TenantConfig, poll: PollConfig, deps: SourceDeps): Source {
  const clock = deps.clock ?? Date.now;
  const log = deps.log.child({ component: "source", tenant: tenant.name });
  const http = deps.http ?? createHttpClient();
  const policy = deps.retryPolicy ?? DEFAULT_POLICY;
  const tokens = createTokenProvider(tenant, {
    log: deps.log,
    metrics: deps.metrics,
    http,
    clock,
    timeoutMs: poll.request_timeout,
  });
  const api = createSiemApi(tenant, {
    log: deps.log,
    metrics: deps.metrics,
    http,
    tokens,
    timeoutMs: poll.request_timeout,
    clock,
  });

  return {
    tenant: tenant.name,
    windowFor(checkpoint) {
      const now = ticksFromMs(clock());
      const cp = checkpoint === undefined ? undefined : parseTimestamp(checkpoint);
      if (cp === undefined) return { since: now - ticksFromMs(poll.lookback), until: now };
      const since = cp - ticksFromMs(poll.overlap);
      // A checkpoint ahead of our clock means the clocks disagree; still read up to it rather than nothing.
      return { since, until: now > cp ? now : cp + TICKS_PER_MS };
    },
    read(window, signal) {
      return readWindow(window.since, window.until, poll.max_per_request, (query) =>
        retry(() => api.fetch(query, signal), {
          policy,
          signal,
          onRetry: (error, attempt, delayMs) => {
            deps.metrics.errors.inc({
              stage: error.code.startsWith("E_AUTH") ? "auth" : "poll",
              code: error.code,
            });
            log.warn(
              {
                code: error.code,
                attempt,
                delayMs: Math.round(delayMs),
                since: formatTimestamp(query.since),
                until: formatTimestamp(query.until),
              },
              "SIEM API call failed; retrying.",
            );
          },
        }),
      );
    },
  };
}
