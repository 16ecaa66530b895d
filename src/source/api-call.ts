// One authorized GET against a Defender API, shared by the SIEM API, Alerts API and Graph clients: bearer
// token, one fresh token and one more try on a 401, metrics per call, and the mapping of every failure to a
// classified ForwarderError. A body that is not JSON fails the call: an HTML error page or a cut connection
// is never mistaken for "nothing new". No error carries the body's text: a server (or a proxy) may reflect
// what it was sent, the Authorization header included.
import { ForwarderError } from "../errors.js";
import { createEvents, type SourceEvents } from "../events/index.js";
import type { Metrics } from "../metrics/definitions.js";
import { JsonBoundsError, parseBoundedJson } from "./bounded-json.js";
import { type HttpClient, type HttpResponse, parseRetryAfter, TransportFailure } from "./http.js";
import type { TokenProvider } from "./oauth.js";

/** Runs one call under the tenant's rate limit and the global concurrency limit (or directly). */
export type CallGate = <T>(call: () => Promise<T>, signal?: AbortSignal) => Promise<T>;

export interface ApiCallDeps {
  /** For messages: "SIEM API", "Alerts API", "Graph". */
  api: string;
  tenant: string;
  metrics: Metrics;
  /** Each request is counted and timed through these; events over `metrics` when absent. */
  events?: Pick<SourceEvents, "apiRequestFinished">;
  http: HttpClient;
  tokens: TokenProvider;
  timeoutMs: number;
  /** poll.max_response_bytes: the request is aborted past it (E_API_TOO_LARGE). */
  maxResponseBytes?: number;
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
  const events = deps.events ?? createEvents({ metrics: deps.metrics });
  const finished = (status: number | "error") =>
    events.apiRequestFinished(deps.tenant, status, (performance.now() - started) / 1000);
  try {
    const res = await deps.http.request({
      method: "GET",
      url,
      headers: { ...deps.headers, authorization: `Bearer ${token}`, accept: "application/json" },
      timeoutMs: deps.timeoutMs,
      signal,
      maxBytes: deps.maxResponseBytes,
    });
    finished(res.status);
    return res;
  } catch (err) {
    finished("error");
    if (err instanceof TransportFailure) {
      if (err.kind === "aborted") throw new ForwarderError("E_SHUTDOWN", "API request aborted by shutdown");
      if (err.kind === "too_large") {
        throw new ForwarderError(
          "E_API_TOO_LARGE",
          `${deps.api} for tenant ${deps.tenant} sent a ${err.reason} (poll.max_response_bytes); request aborted`,
          { cause: err, details: labels },
        );
      }
      throw new ForwarderError(
        err.kind === "timeout" ? "E_API_TIMEOUT" : "E_API_NETWORK",
        `${deps.api} request for tenant ${deps.tenant} failed: ${err.reason}`,
        { cause: err, details: labels },
      );
    }
    throw err;
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

/**
 * The body as JSON, parsed within bounds (see bounded-json.ts): items that cannot be used come back as
 * rejected items. E_API_BAD_RESPONSE when it is not JSON, E_API_TOO_LARGE when it holds more than the
 * forwarder parses at once. The message gives the status, content type and length, never the text.
 */
export function parseJson(res: HttpResponse, api: string, tenant: string): unknown {
  const raw = res.raw ?? Buffer.from(res.body, "utf8");
  try {
    return parseBoundedJson(raw);
  } catch (err) {
    if (!(err instanceof JsonBoundsError)) throw err;
    const what = `(status ${res.status}, content-type ${contentType(res)}, ${raw.length} bytes)`;
    if (err.kind === "too_large") {
      throw new ForwarderError("E_API_TOO_LARGE", `${api} for tenant ${tenant}: ${err.message} ${what}`, {
        details: { tenant, status: res.status },
      });
    }
    throw new ForwarderError(
      "E_API_BAD_RESPONSE",
      `${api} for tenant ${tenant} sent a body that is not JSON ${what}: ${err.message}`,
      { details: { tenant, status: res.status } },
    );
  }
}

/** The media type only (`text/html`), at most 64 characters of a safe alphabet: it is remote text too. */
function contentType(res: HttpResponse): string {
  const header = res.headers["content-type"];
  const value = (Array.isArray(header) ? header[0] : header) ?? "none";
  const type = value.split(";")[0]?.trim().toLowerCase() ?? "";
  return /^[a-z0-9!#$&^_.+-]{1,64}\/[a-z0-9!#$&^_.+-]{1,64}$/.test(type) ? type : "unrecognised";
}

export function badResponse(api: string, tenant: string, what: string): ForwarderError {
  return new ForwarderError("E_API_BAD_RESPONSE", `${api} for tenant ${tenant} sent ${what}`, {
    details: { tenant },
  });
}
