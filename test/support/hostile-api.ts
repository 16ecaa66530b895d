// A small hostile (or just buggy) MDE API on 127.0.0.1: a token endpoint that always answers, and
// GET /api/alerts answered by whatever the test says: huge, endless, gzip bombs, deep nesting, future
// dates, a `limit` ignored, reflected headers. The simulator stays well-behaved; this one does not.
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { TestContext } from "node:test";
import { stringify } from "yaml";

export interface ApiRequest {
  readonly path: string;
  readonly query: URLSearchParams;
  readonly authorization: string | undefined;
}

/** Answers one GET /api/alerts. Whatever it does with `res`, the server ends nothing for it. */
export type AlertsHandler = (
  req: http.IncomingMessage,
  res: http.ServerResponse,
  query: URLSearchParams,
) => void | Promise<void>;

export interface HostileApi {
  /** `http://127.0.0.1:PORT`: api_url and authority_host of the tenant. */
  readonly url: string;
  /** Every GET /api/alerts, in order. */
  readonly requests: ApiRequest[];
  /** The access token the token endpoint hands out (a JWT, as Azure AD's are). */
  readonly token: string;
  handle(handler: AlertsHandler): void;
  close(): Promise<void>;
}

/** A JWT-shaped token: header.payload.signature, base64url. */
export const HOSTILE_TOKEN = [
  Buffer.from('{"typ":"JWT","alg":"RS256"}').toString("base64url"),
  Buffer.from('{"aud":"https://graph.windows.net","tid":"hostile"}').toString("base64url"),
  "c2lnbmF0dXJlLW9mLWEtaG9zdGlsZS10ZXN0LXRva2Vu",
].join(".");

export async function startHostileApi(t: TestContext, handler?: AlertsHandler): Promise<HostileApi> {
  const requests: ApiRequest[] = [];
  let current: AlertsHandler = handler ?? ((_req, res) => json(res, []));
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (req.method === "POST" && url.pathname.endsWith("/oauth2/token")) {
      req.resume();
      req.on("end", () => json(res, { access_token: HOSTILE_TOKEN, token_type: "Bearer", expires_in: 3599 }));
      return;
    }
    if (req.method === "GET" && url.pathname === "/api/alerts") {
      requests.push({
        path: url.pathname,
        query: url.searchParams,
        authorization: req.headers.authorization,
      });
      Promise.resolve(current(req, res, url.searchParams)).catch(() => res.destroy());
      return;
    }
    res.statusCode = 404;
    res.end();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  t.after(close);
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    token: HOSTILE_TOKEN,
    handle(next) {
      current = next;
    },
    close,
  };
}

export function json(res: http.ServerResponse, body: unknown, status = 200): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** A SIEM API detection with the fields the forwarder keys on; `extra` adds or replaces any. */
export function detection(
  id: string,
  time: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    AlertId: `da${id}`,
    FullId: `da${id}:hostile`,
    LastProcessedTimeUtc: time,
    AlertTime: time,
    AlertTitle: `Hostile test ${id}`,
    Severity: "Medium",
    Category: "Malware",
    MachineName: "host1",
    ...extra,
  };
}

/** `{"a":{"a":...}}` nested `depth` levels around `leaf`, as text (building it as an object would recurse). */
export function nestedText(depth: number, leaf = "1"): string {
  return `${'{"a":'.repeat(depth)}${leaf}${"}".repeat(depth)}`;
}

/** ISO time `ms` from now. */
export function isoIn(ms: number): string {
  return new Date(Date.now() + ms).toISOString();
}

export interface HostileConfigOptions {
  api: HostileApi;
  receiverPort: number;
  stateDir: string;
  poll?: Record<string, unknown>;
  destination?: Record<string, unknown>;
  metrics?: Record<string, unknown>;
}

/** The config as a user writes it: one SIEM API tenant on the hostile API, one TCP CEF destination. */
export function hostileConfig(o: HostileConfigOptions): Record<string, unknown> {
  return {
    tenants: [
      {
        name: "hostile",
        tenant_id: "00000000-0000-0000-0000-00000000beef",
        client_id: "11111111-1111-1111-1111-111111111111",
        client_secret: "not-a-real-secret",
        api_url: o.api.url,
        authority_host: o.api.url,
      },
    ],
    poll: { schedule: "0 0 1 1 *", lookback: "2h", overlap: "5m", request_timeout: "10s", ...o.poll },
    state: { path: `${o.stateDir}/state.db` },
    destinations: [
      {
        name: "siem",
        format: "cef",
        protocol: "tcp",
        host: "127.0.0.1",
        port: o.receiverPort,
        ...o.destination,
      },
    ],
    metrics: { enabled: false, ...o.metrics },
    log: { level: "info", format: "json" },
  };
}

export function hostileConfigYaml(o: HostileConfigOptions): string {
  return stringify(hostileConfig(o));
}
