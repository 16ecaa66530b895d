// The one HTTP client of the source side (got). Retries are ours (src/retry.ts), so got's are off;
// HTTP statuses are returned, not thrown, so each caller maps them to its own error codes.
import got, { type Got, RequestError } from "got";

export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

export interface HttpRequest {
  method: "GET" | "POST";
  url: string;
  headers?: Record<string, string>;
  form?: Record<string, string>;
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * A failure below HTTP: no status came back. `reason` is safe to log (errno-style, no URL query). got's
 * own error is deliberately not kept as `cause`: it carries the request options, and with them the
 * token request's form body (the client secret), which must never reach a log serializer.
 */
export class TransportFailure extends Error {
  constructor(
    readonly kind: "timeout" | "network" | "aborted",
    readonly reason: string,
  ) {
    super(reason);
    this.name = "TransportFailure";
  }
}

export interface HttpClient {
  request(req: HttpRequest): Promise<HttpResponse>;
}

const USER_AGENT = "mde-siem-forwarder/0.1 (+https://github.com/mde-siem-forwarder)";

export function createHttpClient(base: Got = got): HttpClient {
  const client = base.extend({
    retry: { limit: 0 },
    throwHttpErrors: false,
    followRedirect: false,
    decompress: true,
    headers: { "user-agent": USER_AGENT },
  });
  return {
    async request(req) {
      try {
        const res = await client(req.url, {
          method: req.method,
          headers: req.headers,
          form: req.form,
          timeout: { request: req.timeoutMs },
          signal: req.signal,
          responseType: "text",
        });
        return { status: res.statusCode, headers: res.headers, body: res.body };
      } catch (err) {
        if (req.signal?.aborted) throw new TransportFailure("aborted", "aborted");
        if (err instanceof RequestError) {
          if (err.name === "TimeoutError" || err.code === "ETIMEDOUT") {
            throw new TransportFailure("timeout", `timed out after ${req.timeoutMs} ms`);
          }
          // Body cut mid-stream, connection reset, DNS failure...: the code names it without the URL.
          throw new TransportFailure("network", err.code ?? err.name);
        }
        throw new TransportFailure("network", err instanceof Error ? err.name : "error");
      }
    },
  };
}

/** Retry-After as delay-seconds or an HTTP date, in ms; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined || raw.trim() === "") return undefined;
  if (/^\s*\d+\s*$/.test(raw)) return Number(raw) * 1_000;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
