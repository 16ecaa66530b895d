// The source of one tenant: token cache, the API client of its `source` (SIEM API, Alerts API, Graph alerts
// or Graph incidents), the tenant's rate limit and the shared concurrency limit, the bounds of a poll
// (poll.max_requests_per_poll, poll.max_response_bytes) and reading with retries.
import { ForwarderError } from "../errors.js";
import { createEvents, type Events, type SourceStage } from "../events/index.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics/definitions.js";
import type { Detection, SourceKind } from "../record.js";
import { DEFAULT_POLICY, type RetryPolicy, retry } from "../retry.js";
import { formatTimestamp, parseTimestamp, type Ticks, ticksFromMs } from "../timestamp.js";
import { readByKeyset, readGraph, splitEvidence } from "./alert-reader.js";
import { createAlertsApi } from "./alerts-api.js";
import type { CallGate } from "./api-call.js";
import { takeItemText } from "./bounded-json.js";
import { apiBaseOf } from "./clouds.js";
import type { SourceConfig } from "./config.js";
import { createGraphApi, type GraphApi } from "./graph-api.js";
import { createHttpClient, type HttpClient } from "./http.js";
import { createTokenProvider } from "./oauth.js";
import { type PollPlan, type PollWindow, planPoll, type VolumeEstimate } from "./overlap.js";
import {
  API_RATE_LIMITS,
  createRateLimiter,
  createSemaphore,
  limited,
  type Semaphore,
} from "./rate-limit.js";
import { createSiemApi } from "./siem-api.js";
import { type Density, readWindow, type WindowPart } from "./window.js";

export { buildSourceConfig, type SourceConfig, type SourcesConfig } from "./config.js";
export {
  createOverlapVolume,
  type OverlapVolume,
  type PollPlan,
  type PollWindow,
  settledAfter,
  type VolumeEstimate,
} from "./overlap.js";
export type { WindowPart } from "./window.js";

export interface Source {
  readonly tenant: string;
  readonly kind: SourceKind;
  /**
   * The windows a poll reads (overlap.ts): [now - lookback, now] without a checkpoint; the whole overlap
   * [checkpoint - overlap, now] while `settled` is unknown (the first poll after a start) or `volume`
   * estimates the overlap to fit one request; else the second look [settled, now - overlap] and a fresh
   * window: [end of the last window, now - settle] after a second-look poll, [checkpoint - short_overlap,
   * now] after a whole one.
   */
  planPoll(
    checkpoint: string | undefined,
    settled: Ticks | undefined,
    readUntil?: Ticks,
    volume?: VolumeEstimate,
  ): PollPlan;
  /**
   * Reads the window, yielding fully read parts oldest first. Throws a ForwarderError when a part fails.
   * The SIEM API reads [since, until]; the Alerts API and Graph read every item updated at or after since
   * (a second look stops at the first page that reaches `until`).
   */
  read(window: PollWindow, signal?: AbortSignal): AsyncGenerator<WindowPart>;
  /**
   * Where an error of read() arose: `auth` when getting the token failed, else `poll`. Declared by the
   * token provider's calls, not guessed from the code (a token endpoint's 429 is E_API_THROTTLED too).
   */
  stageOf?(error: unknown): SourceStage;
}

export interface SourceDeps {
  log: Logger;
  metrics: Metrics;
  /** Retries, token requests and API requests are counted and logged through these; over `metrics` when absent. */
  events?: Events;
  clock?: () => number;
  /** One client for every tenant (proxy, CA bundle); a direct one when absent. */
  http?: HttpClient;
  /** API calls in flight across all tenants (poll.max_concurrent_requests); one per source when absent. */
  concurrency?: Semaphore;
  retryPolicy?: RetryPolicy;
}

/**
 * Page sizes: the Alerts API allows $top up to 10,000; Graph documents no maximum (Elastic uses 2,000 for
 * alerts). An incident comes with all its alerts and their evidence, so its pages are kept small (50).
 */
const ALERTS_MAX_PAGE = 10_000;
const GRAPH_MAX_PAGE = 2_000;
const INCIDENTS_MAX_PAGE = 50;

export function createSource({ tenant, poll }: SourceConfig, deps: SourceDeps): Source {
  const clock = deps.clock ?? Date.now;
  const log = deps.log.child({ component: "source", tenant: tenant.name });
  const http = deps.http ?? createHttpClient();
  const policy = deps.retryPolicy ?? DEFAULT_POLICY;
  const kind = tenant.source;
  const events = deps.events ?? createEvents({ metrics: deps.metrics });
  const provider = createTokenProvider(tenant, {
    log: deps.log,
    metrics: deps.metrics,
    events,
    http,
    clock,
    timeoutMs: poll.request_timeout,
  });
  // The errors of token requests, as they pass: a failure that is one of them arose in stage auth.
  const authErrors = new WeakSet<object>();
  const tokens: typeof provider = {
    getToken: (signal) =>
      provider.getToken(signal).catch((err: unknown) => {
        if (typeof err === "object" && err !== null) authErrors.add(err);
        throw err;
      }),
    invalidate: (token) => provider.invalidate(token),
  };
  const stageOf = (error: unknown): SourceStage =>
    typeof error === "object" && error !== null && authErrors.has(error) ? "auth" : "poll";
  // The tenant's quota first, then a shared slot: a tenant waiting for its quota holds no slot.
  const rate = createRateLimiter(API_RATE_LIMITS[kind]);
  const concurrency = deps.concurrency ?? createSemaphore(poll.max_concurrent_requests);
  // API requests of the running poll (a tenant's polls never overlap; `bounded` resets it when a poll is
  // planned, so the second look and the fresh window share one budget), so that no server can keep one poll
  // going forever: past the bound the poll ends and keeps what it stored.
  let requests = 0;
  const gate: CallGate = (call, signal) => {
    if (++requests > poll.max_requests_per_poll) {
      return Promise.reject(
        new ForwarderError(
          "E_POLL_TOO_MANY_REQUESTS",
          `poll of tenant ${tenant.name} stopped after ${poll.max_requests_per_poll} API requests (poll.max_requests_per_poll); the next poll goes on from the checkpoint`,
          { details: { tenant: tenant.name } },
        ),
      );
    }
    return limited({ rate, concurrency }, call, signal);
  };
  const bounded = (source: Source): Source => ({
    ...source,
    stageOf,
    planPoll(...args) {
      requests = 0;
      return source.planPoll(...args);
    },
  });
  const call = {
    metrics: deps.metrics,
    events,
    http,
    tokens,
    timeoutMs: poll.request_timeout,
    maxResponseBytes: poll.max_response_bytes,
    clock,
    gate,
  };
  const base = apiBaseOf(tenant);
  const apiName =
    kind === "siem"
      ? "SIEM API"
      : kind === "alerts"
        ? "Alerts API"
        : kind === "graph"
          ? "Graph"
          : "Graph incidents";

  /** One request with the retry policy; a server-requested pause also holds the tenant's later calls. */
  function withRetry<T>(
    request: () => Promise<T>,
    describe: () => Record<string, string>,
    signal?: AbortSignal,
  ) {
    return retry(request, {
      policy,
      signal,
      onRetry: (error: ForwarderError, attempt, delayMs) => {
        if (error.retryAfterMs !== undefined) rate.pause(error.retryAfterMs);
        events.apiCallRetrying(log, {
          stage: stageOf(error),
          api: apiName,
          error,
          attempt,
          delayMs,
          where: describe(),
        });
      },
    });
  }

  function plan(
    checkpoint: string | undefined,
    settled: Ticks | undefined,
    readUntil?: Ticks,
    volume?: VolumeEstimate,
  ): PollPlan {
    const cp = checkpoint === undefined ? undefined : parseTimestamp(checkpoint);
    return planPoll(cp, settled, ticksFromMs(clock()), poll, readUntil, volume);
  }

  if (kind === "siem") {
    const api = createSiemApi(tenant, { log: deps.log, ...call });
    let overLimitLogged = false;
    // The density of the last complete part, kept from poll to poll: a live poll's window is cut to about
    // 70% of max_per_request before it is asked for, instead of after a full (discarded) response. The
    // second looks keep their own: they read what the fresh windows read `overlap` earlier, so a tenant that
    // just went quiet (empty fresh windows, which widen the estimate fourfold each) would otherwise have every
    // second look over its last busy stretch asked for uncut, answered full and read again in halves.
    const density: Density = { span: undefined };
    const secondDensity: Density = { span: undefined };
    const onOverLimit = (items: number, limit: number) => {
      if (overLimitLogged) return;
      overLimitLogged = true;
      log.warn(
        { items, limit },
        "The API answered with more detections than the requested limit: it ignores `limit`, so such a response is taken as complete and never split.",
      );
    };
    // The next part is requested while this one is stored only after a response of at most a quarter of
    // max_response_bytes: two responses in memory then cost little more than one of the largest allowed.
    const sizes = new WeakMap<readonly Detection[], number>();
    const mayPrefetch = (detections: readonly Detection[]) =>
      (sizes.get(detections) ?? Number.POSITIVE_INFINITY) <= poll.max_response_bytes / 4;
    return bounded({
      tenant: tenant.name,
      kind,
      planPoll: plan,
      read(window, signal) {
        // The first second look starts from what the fresh reads measured.
        if (window.second === true) secondDensity.span ??= density.span;
        return readWindow(
          window.since,
          window.until,
          poll.max_per_request,
          (query) =>
            withRetry(
              async () => {
                const { detections, bytes } = await api.read(query, signal);
                sizes.set(detections, bytes);
                return detections;
              },
              () => ({ since: formatTimestamp(query.since), until: formatTimestamp(query.until) }),
              signal,
            ),
          onOverLimit,
          mayPrefetch,
          window.second === true ? secondDensity : density,
        );
      },
    });
  }

  const items = (alerts: Detection[]) =>
    tenant.events === "evidence" && kind !== "incidents" ? alerts.flatMap(splitEvidence) : alerts;
  const part = (window: PollWindow, alerts: Detection[], requests: number): WindowPart => {
    const detections = items(alerts);
    return {
      kind,
      since: window.since,
      until: window.until,
      detections,
      bodies: detections.map(takeItemText),
      requests,
    };
  };

  const alertsTime = (alert: Detection) => parseTimestamp(alert.lastUpdateTime);
  if (kind === "alerts") {
    const api = createAlertsApi(base, { tenant: tenant.name, ...call });
    const pageSize = Math.min(poll.max_per_request, ALERTS_MAX_PAGE);
    return bounded({
      tenant: tenant.name,
      kind,
      planPoll: plan,
      async *read(window, signal) {
        const pages = readByKeyset(
          window.since,
          pageSize,
          (query) =>
            withRetry(
              () => api.fetch(query, signal),
              (): Record<string, string> =>
                query.kind === "range"
                  ? { since: formatTimestamp(query.since) }
                  : { instant: formatTimestamp(query.at), afterId: query.afterId ?? "" },
              signal,
            ),
          alertsTime,
        );
        for await (const page of pages) {
          yield part(window, page.alerts, page.requests);
          if (window.second === true && reaches(page.alerts, window.until, alertsTime)) return;
        }
      },
    });
  }

  const graph = createGraphApi(
    base,
    kind === "incidents"
      ? { path: "incidents", expand: "alerts" }
      : { path: "alerts_v2", serviceSources: tenant.service_sources },
    { tenant: tenant.name, ...call },
  );
  const pageSize = Math.min(poll.max_per_request, kind === "incidents" ? INCIDENTS_MAX_PAGE : GRAPH_MAX_PAGE);
  const retried: GraphApi = {
    first: (since, top, signal) =>
      withRetry(
        () => graph.first(since, top, signal),
        () => ({ since: formatTimestamp(since) }),
        signal,
      ),
    page: (url, signal) =>
      withRetry(
        () => graph.page(url, signal),
        () => ({ page: "next" }),
        signal,
      ),
  };
  const timeOf = (item: Detection) => parseTimestamp(item.lastUpdateDateTime);
  return bounded({
    tenant: tenant.name,
    kind,
    planPoll: plan,
    async *read(window, signal) {
      for await (const page of readGraph(window.since, pageSize, retried, timeOf, signal)) {
        yield part(window, page.alerts, page.requests);
        if (window.second === true && reaches(page.alerts, window.until, timeOf)) return;
      }
    },
  });
}

/** Whether a page (oldest first) holds an item at or after `until`: a second look has read all it needs. */
function reaches(
  items: readonly Detection[],
  until: Ticks,
  timeOf: (item: Detection) => Ticks | undefined,
): boolean {
  for (let i = items.length - 1; i >= 0; i--) {
    const t = timeOf(items[i] as Detection);
    if (t !== undefined) return t >= until;
  }
  return false;
}
