// One authorized GET against a Defender API, shared by the SIEM API, Alerts API and Graph clients: bearer
// token, one fresh token and one more try on a 401, metrics per call, and the mapping of every failure to a
// classified ForwarderError. A body that is not JSON fails the call: an HTML error page or a cut connection
// is never mistaken for "nothing new".
import { ForwarderError } from "../errors.js";
import type { Metrics } from "../metrics/definitions.js";
import { type HttpClient, type HttpResponse, parseRetryAfter, TransportFailure } from "./http.js";
import type { TokenProvider } from "./oauth.js";

/** Runs one call under the tenant's rate limit and the global concurrency limit (or directly). */
export type CallGate = <T>(call: () => Promise<T>, signal?: AbortSignal) => Promise<T>;

export interface ApiCallDeps {
  /** For messages: "SIEM API", "Alerts API", "Graph". */
  api: string;
  tenant: string;
  metrics: Metrics;
  http: HttpClient;
  tokens: TokenProvider;
  timeoutMs: number;
  clock?: () => number;
  gate?: CallGate;
  /** Sent with every call besides authorization and accept (Graph: `Prefer`). */
  headers?: Readonly<Record<string, string>>;
}

/** GET `url` with the tenant's token; resolves only with a 200 response. */
export async function authorizedGet(
  url: string,
  deps: ApiCallDeps,
  signal?: AbortSignal,
): Promise<HttpResponse> {
  const clock = deps.clock ?? Date.now;
  const gate: CallGate = deps.gate ?? ((call) => call());
  let token = await deps.tokens.getToken(signal);
  let res = await gate(() => call(url, token, deps, signal), signal);
  if (res.status === 401) {
    // Expired or revoked token: one fresh token, one more try.
    deps.tokens.invalidate(token);
    token = await deps.tokens.getToken(signal);
    res = await gate(() => call(url, token, deps, signal), signal);
  }
  if (res.status !== 200) throw statusError(res, deps.api, deps.tenant, clock());
  return res;
}

async function call(
  url: string,
  token: string,
  deps: ApiCallDeps,
  signal?: AbortSignal,
): Promise<HttpResponse> {
  const labels = { tenant: deps.tenant };
  const started = performance.now();
  try {
    const res = await deps.http.request({
      method: "GET",
      url,
      headers: { ...deps.headers, authorization: `Bearer ${token}`, accept: "application/json" },
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
        `${deps.api} request for tenant ${deps.tenant} failed: ${err.reason}`,
        { cause: err, details: labels },
      );
    }
    throw err;
  } finally {
    deps.metrics.apiRequestDuration.observe(labels, (performance.now() - started) / 1000);
  }
}

export function statusError(res: HttpResponse, api: string, tenant: string, now: number): ForwarderError {
  const details = { tenant, status: res.status };
  const retryAfterMs = parseRetryAfter(res.headers["retry-after"], now);
  const where = `${api} for tenant ${tenant} answered ${res.status}`;
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
      `${where}: the app may not read this tenant's alerts (permission missing or not consented, integration disabled, or tenant deleted)`,
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

/** The body as JSON, or E_API_BAD_RESPONSE saying what came instead (never more than its first bytes). */
export function parseJson(res: HttpResponse, api: string, tenant: string): unknown {
  try {
    return JSON.parse(res.body);
  } catch {
    const type = String(res.headers["content-type"] ?? "none");
    throw new ForwarderError(
      "E_API_BAD_RESPONSE",
      `${api} for tenant ${tenant} sent a body that is not JSON (content-type ${type}, ${res.body.length} bytes, starts ${JSON.stringify(res.body.slice(0, 24))})`,
      { details: { tenant, status: res.status } },
    );
  }
}

export function badResponse(api: string, tenant: string, what: string): ForwarderError {
  return new ForwarderError("E_API_BAD_RESPONSE", `${api} for tenant ${tenant} sent ${what}`, {
    details: { tenant },
  });
}
