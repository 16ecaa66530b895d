// The one HTTP client of the source side (got). Retries are ours (src/retry.ts), so got's are off;
// HTTP statuses are returned, not thrown, so each caller maps them to its own error codes.
// Each request picks its connection by target: through the proxy's CONNECT tunnel, or direct (no proxy
// configured, an http:// target, or a NO_PROXY match). Extra CAs (`proxy.ca_file`, for TLS-inspecting
// proxies) are trusted on both paths, on top of Node's bundled roots.
import { X509Certificate } from "node:crypto";
import https from "node:https";
import tls from "node:tls";
import got, { type Request, RequestError } from "got";
import { FileRefusedError, MAX_CA_FILE_BYTES, readSmallFile } from "../config/read-file.js";
import { ForwarderError } from "../errors.js";
import type { Logger } from "../log.js";
import { createTunnelAgent, type ProxySettings, ProxyTunnelError, proxyFor } from "./proxy.js";

export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The body as text (UTF-8), decoded when first read. */
  readonly body: string;
  /** The body as received (decompressed); absent when a test builds a response from text. */
  readonly raw?: Buffer;
}

export interface HttpRequest {
  method: "GET" | "POST";
  url: string;
  headers?: Record<string, string>;
  form?: Record<string, string>;
  timeoutMs: number;
  signal?: AbortSignal;
  /**
   * The body (decompressed) may take at most this many bytes: the request is aborted as soon as it is over
   * (TransportFailure "too_large"), so that no answer costs more memory than this. Default 64 MiB.
   */
  maxBytes?: number;
}

/**
 * A failure below HTTP: no status came back. `reason` is safe to log (errno-style, no URL query). got's
 * own error is deliberately not kept as `cause`: it carries the request options, and with them the
 * token request's form body (the client secret), which must never reach a log serializer.
 */
export class TransportFailure extends Error {
  constructor(
    readonly kind: "timeout" | "network" | "aborted" | "too_large",
    readonly reason: string,
    /** `host:port` of the proxy when the proxy itself failed (refused, unreachable); never credentials. */
    readonly proxy?: string,
  ) {
    super(reason);
    this.name = "TransportFailure";
  }
}

export interface HttpClient {
  request(req: HttpRequest): Promise<HttpResponse>;
}

const USER_AGENT = "mde-siem-forwarder/0.1 (+https://github.com/mde-siem-forwarder)";

export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1_048_576;

export interface HttpClientOptions {
  /** From `resolveProxy(config.proxy, process.env)`; undefined: every request goes direct. */
  proxy?: ProxySettings | undefined;
  /** PEM file of extra CA certificates, trusted for every HTTPS request besides Node's roots. */
  caFile?: string | undefined;
  /** Logs the proxy in use once (by `host:port`). */
  log?: Logger | undefined;
  /** Gives up a CONNECT the proxy has not answered in this long; default 30 s. */
  proxyConnectTimeoutMs?: number | undefined;
}

/** Throws E_CONFIG_INVALID (naming the file) when `caFile` cannot be read or holds no certificate. */
export function createHttpClient(options: HttpClientOptions = {}): HttpClient {
  const ca =
    options.caFile === undefined ? undefined : [...tls.rootCertificates, ...readCaFile(options.caFile)];
  // Without extra CAs a direct request keeps got's default (Node's global agent).
  const direct = ca === undefined ? undefined : new https.Agent({ keepAlive: true, ca });
  const tunnel =
    options.proxy === undefined
      ? undefined
      : createTunnelAgent(options.proxy.https, {
          ca,
          connectTimeoutMs: options.proxyConnectTimeoutMs ?? 30_000,
        });
  if (options.proxy !== undefined) {
    options.log?.info(
      { proxy: options.proxy.https.label },
      "HTTPS requests of the source go through a proxy.",
    );
  }
  const client = got.extend({
    retry: { limit: 0 },
    throwHttpErrors: false,
    followRedirect: false,
    decompress: true,
    headers: { "user-agent": USER_AGENT },
  });
  return {
    async request(req) {
      let proxy: string | undefined;
      const abort = new AbortController();
      const onAbort = () => abort.abort();
      try {
        const target = new URL(req.url);
        proxy = proxyFor(options.proxy, target)?.label;
        const agent = proxy !== undefined ? tunnel : direct;
        // got takes its abort listener off the signal only when a request is destroyed, never when it
        // completes: on the daemon's long-lived signal every request (and the body it read) would stay
        // reachable. Each request gets a signal of its own, linked to the caller's only while it runs.
        if (req.signal !== undefined) {
          if (req.signal.aborted) abort.abort();
          else req.signal.addEventListener("abort", onAbort, { once: true });
        }
        // Streamed and counted as it arrives (after decompression), never buffered whole by got: a huge,
        // endless or gzip-bombed body is cut off at maxBytes instead of being held in memory.
        const stream = client.stream(req.url, {
          method: req.method,
          headers: req.headers,
          form: req.form,
          timeout: { request: req.timeoutMs },
          signal: req.signal === undefined ? undefined : abort.signal,
          agent: { https: agent },
        });
        return await readBounded(stream, req.maxBytes ?? DEFAULT_MAX_RESPONSE_BYTES);
      } catch (err) {
        if (err instanceof TransportFailure) throw err;
        if (req.signal?.aborted) throw new TransportFailure("aborted", "aborted");
        const tunnelError = findTunnelError(err);
        if (tunnelError) throw new TransportFailure("network", tunnelError.message, tunnelError.proxy);
        const via = proxy === undefined ? "" : ` (via proxy ${proxy})`;
        if (err instanceof RequestError) {
          if (err.name === "TimeoutError" || err.code === "ETIMEDOUT") {
            throw new TransportFailure("timeout", `timed out after ${req.timeoutMs} ms${via}`);
          }
          // Body cut mid-stream, connection reset, DNS failure...: the code names it without the URL.
          throw new TransportFailure("network", `${err.code ?? err.name}${via}`);
        }
        throw new TransportFailure("network", err instanceof Error ? err.name : "error");
      } finally {
        req.signal?.removeEventListener("abort", onAbort);
      }
    },
  };
}

/** Collects a got stream's response, destroying the request as soon as the body passes `maxBytes`. */
function readBounded(stream: Request, maxBytes: number): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let status = 0;
    let headers: HttpResponse["headers"] = {};
    let settled = false;
    // A kept-alive socket keeps its last request (and that request its listeners) alive: left attached, the
    // listeners below would keep this promise, and so the whole response body, alive too, one body per
    // connection and request (a backfill's RSS grew by every byte it fetched). Once settled they go, and a
    // late error from the finished stream meets a listener that holds nothing.
    const settle = () => {
      settled = true;
      stream.off("response", onResponse);
      stream.off("data", onData);
      stream.off("error", onError);
      stream.off("end", onEnd);
      stream.on("error", ignoreLateError);
    };
    const tooLarge = (what: string) => {
      if (settled) return;
      settle();
      chunks.length = 0;
      stream.destroy();
      reject(new TransportFailure("too_large", `response body ${what}; the limit is ${maxBytes} bytes`));
    };
    const onResponse = (res: { statusCode: number; headers: HttpResponse["headers"] }) => {
      status = res.statusCode;
      headers = res.headers;
      // Without content-encoding the announced length is the body's: refuse before reading any of it.
      const length = Number(res.headers["content-length"]);
      if (res.headers["content-encoding"] === undefined && length > maxBytes) {
        tooLarge(`announced as ${length} bytes`);
      }
    };
    const onData = (chunk: Buffer) => {
      if (settled) return;
      received += chunk.length;
      if (received > maxBytes) tooLarge(`over ${maxBytes} bytes`);
      else chunks.push(chunk);
    };
    const onError = (err: Error) => {
      if (settled) return;
      settle();
      reject(err);
    };
    const onEnd = () => {
      if (settled) return;
      settle();
      resolve(responseOf(status, headers, chunks, received));
      chunks.length = 0;
    };
    stream.on("response", onResponse);
    stream.on("data", onData);
    stream.once("error", onError);
    stream.once("end", onEnd);
  });
}

function ignoreLateError(): void {
  // The response was already settled; nothing waits for this stream any more.
}

/** The response from its pieces, built apart from readBounded's closures so that it holds only what it needs. */
function responseOf(
  status: number,
  headers: HttpResponse["headers"],
  chunks: readonly Buffer[],
  received: number,
): HttpResponse {
  const raw = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received);
  let text: string | undefined;
  return {
    status,
    headers,
    raw,
    get body() {
      text ??= raw.toString("utf8");
      return text;
    },
  };
}

function findTunnelError(err: unknown): ProxyTunnelError | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    if (current instanceof ProxyTunnelError) return current;
    current = current.cause;
  }
  return undefined;
}

/** The certificates of a PEM bundle, each checked, so that a wrong file fails at start-up and says so. */
export function readCaFile(file: string, key = "proxy.ca_file"): string[] {
  let text: string;
  try {
    text = readSmallFile(file, MAX_CA_FILE_BYTES).toString("utf8");
  } catch (err) {
    const reason = err instanceof FileRefusedError ? err.reason : "cannot read";
    throw new ForwarderError("E_CONFIG_INVALID", `${key} ${file}: ${reason}`, {
      details: { file },
    });
  }
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) {
    throw new ForwarderError(
      "E_CONFIG_INVALID",
      `${key} ${file}: no PEM certificate (BEGIN CERTIFICATE) in it`,
      { details: { file } },
    );
  }
  blocks.forEach((pem, index) => {
    try {
      new X509Certificate(pem);
    } catch {
      throw new ForwarderError(
        "E_CONFIG_INVALID",
        `${key} ${file}: certificate ${index + 1} of ${blocks.length} cannot be parsed`,
        { details: { file } },
      );
    }
  });
  return blocks;
}

/** Retry-After as delay-seconds or an HTTP date, in ms; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined || raw.trim() === "") return undefined;
  if (/^\s*\d+\s*$/.test(raw)) return Number(raw) * 1_000;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
