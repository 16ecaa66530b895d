// One call to GET {api_url}/api/alerts, with explicit bounds (never `ago`), mapped to a typed outcome.
// A 401 gets one fresh token and one more try; anything that is not a JSON array of objects fails the call,
// so a cut connection or an HTML error page can never be mistaken for "no detections".
import { ForwarderError } from "../errors.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics/definitions.js";
import { type Detection, isDetection } from "../record.js";
import { formatApiTime, type Ticks } from "../timestamp.js";
import { apiUrlOf, type TenantConfig } from "./config.js";
import { type HttpClient, type HttpResponse, parseRetryAfter, TransportFailure } from "./http.js";
import type { TokenProvider } from "./oauth.js";

export interface AlertsQuery {
  since: Ticks;
  until: Ticks;
  /** Sent as `limit`; omitted to read everything in the range. */
  limit?: number;
}

export interface SiemApi {
  fetch(query: AlertsQuery, signal?: AbortSignal): Promise<Detection[]>;
}

export interface SiemApiDeps {
  log: Logger;
  metrics: Metrics;
  http: HttpClient;
  tokens: TokenProvider;
  timeoutMs: number;
  clock?: () => number;
}

export function createSiemApi(tenant: TenantConfig, deps: SiemApiDeps): SiemApi {
  const clock = deps.clock ?? Date.now;
  const base = `${apiUrlOf(tenant)}/api/alerts`;
  const labels = { tenant: tenant.name };

  function buildUrl(q: AlertsQuery): string {
    const params = new URLSearchParams();
    params.set("sinceTimeUtc", formatApiTime(q.since, "floor"));
    params.set("untilTimeUtc", formatApiTime(q.until, "ceil"));
    if (q.limit !== undefined) params.set("limit", String(q.limit));
    for (const group of tenant.machine_groups) params.append("machinegroups", group);
    if (tenant.device_created_machine_tags) {
      params.set("DeviceCreatedMachineTags", tenant.device_created_machine_tags);
    }
    if (tenant.cloud_created_machine_tags)
      params.set("CloudCreatedMachineTags", tenant.cloud_created_machine_tags);
    return `${base}?${params.toString()}`;
  }

  async function call(url: string, token: string, signal?: AbortSignal): Promise<HttpResponse> {
    const started = performance.now();
    try {
      const res = await deps.http.request({
        method: "GET",
        url,
        headers: { authorization: `Bearer ${token}`, accept: "application/json" },
        timeoutMs: deps.timeoutMs,
        signal,
      });
      deps.metrics.apiRequests.inc({ ...labels, status: String(res.status) });
      return res;
    } catch (err) {
      deps.metrics.apiRequests.inc({ ...labels, status: "error" });
      if (err instanceof TransportFailure) {
        if (err.kind === "aborted") throw new ForwarderError("E_SHUTDOWN", "API request aborted by shutdown");
        throw new ForwarderError(
          err.kind === "timeout" ? "E_API_TIMEOUT" : "E_API_NETWORK",
          `SIEM API request for tenant ${tenant.name} failed: ${err.reason}`,
          { cause: err, details: labels },
        );
      }
      throw err;
    } finally {
      deps.metrics.apiRequestDuration.observe(labels, (performance.now() - started) / 1000);
    }
  }

  return {
    async fetch(query, signal) {
      const url = buildUrl(query);
      let token = await deps.tokens.getToken(signal);
      let res = await call(url, token, signal);
      if (res.status === 401) {
        // Expired or revoked token: one fresh token, one more try.
        deps.tokens.invalidate(token);
        token = await deps.tokens.getToken(signal);
        res = await call(url, token, signal);
      }
      if (res.status !== 200) throw statusError(res, tenant.name, clock());
      return parseBody(res, tenant.name);
    },
  };
}

function statusError(res: HttpResponse, tenant: string, now: number): ForwarderError {
  const details = { tenant, status: res.status };
  const retryAfterMs = parseRetryAfter(res.headers["retry-after"], now);
  const where = `SIEM API for tenant ${tenant} answered ${res.status}`;
  if (res.status === 401) {
    return new ForwarderError(
      "E_API_UNAUTHORIZED",
      `${where} with a fresh token; check the app's permissions`,
      {
        details,
      },
    );
  }
  if (res.status === 403) {
    return new ForwarderError(
      "E_API_FORBIDDEN",
      `${where}: the app may not read this tenant's detections (SIEM integration disabled, or tenant deleted)`,
      { details },
    );
  }
  if (res.status === 429 || (res.status === 503 && retryAfterMs !== undefined)) {
    return new ForwarderError("E_API_THROTTLED", `${where} (throttled)`, { retryAfterMs, details });
  }
  if (res.status >= 500) return new ForwarderError("E_API_SERVER", where, { details });
  if (res.status === 408) return new ForwarderError("E_API_TIMEOUT", where, { details });
  return new ForwarderError("E_API_CLIENT", `${where}; the request was refused as invalid`, { details });
}

function parseBody(res: HttpResponse, tenant: string): Detection[] {
  const details = { tenant, status: res.status };
  let json: unknown;
  try {
    json = JSON.parse(res.body);
  } catch {
    const type = String(res.headers["content-type"] ?? "none");
    throw new ForwarderError(
      "E_API_BAD_RESPONSE",
      `SIEM API for tenant ${tenant} sent a body that is not JSON (content-type ${type}, ${res.body.length} bytes, starts ${JSON.stringify(res.body.slice(0, 24))})`,
      { details },
    );
  }
  if (!Array.isArray(json)) {
    throw new ForwarderError(
      "E_API_BAD_RESPONSE",
      `SIEM API for tenant ${tenant} sent JSON that is not an array`,
      {
        details,
      },
    );
  }
  const bad = json.findIndex((item) => !isDetection(item));
  if (bad !== -1) {
    throw new ForwarderError(
      "E_API_BAD_RESPONSE",
      `SIEM API for tenant ${tenant} sent an array whose element ${bad} is not an object`,
      { details },
    );
  }
  return json as Detection[];
}
