// Builds a source (token cache + API client) against the simulator, with the tenant config the schema
// would produce, for the source tests.
import { once } from "node:events";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { silentLogger } from "../../src/log.js";
import { createMetrics, type Metrics } from "../../src/metrics/definitions.js";
import { DEMO_TENANT, type Simulator } from "../../src/simulator/index.js";
import type { PollConfig, TenantConfig } from "../../src/source/config.js";
import { createHttpClient } from "../../src/source/http.js";
import { createTokenProvider, type TokenProvider } from "../../src/source/oauth.js";
import { createSiemApi, type SiemApi } from "../../src/source/siem-api.js";

export function tenantFor(sim: Simulator, overrides: Partial<TenantConfig> = {}): TenantConfig {
  return {
    name: "demo",
    source: "siem",
    cloud: "global",
    tenant_id: DEMO_TENANT.tenantId,
    client_id: DEMO_TENANT.clientId,
    client_secret: DEMO_TENANT.clientSecret,
    api_url: sim.url,
    authority_host: sim.authorityHost,
    resource: "https://graph.windows.net",
    events: "alert",
    machine_groups: [],
    ...overrides,
  };
}

export const POLL: PollConfig = {
  schedule: "*/1 * * * *",
  lookback: 2 * 3_600_000,
  overlap: 5 * 60_000,
  short_overlap: 2_000,
  settle: 500,
  max_per_request: 5000,
  request_timeout: 5_000,
  permanent_error_retry: 3_600_000,
  max_concurrent_requests: 8,
  max_response_bytes: 64 * 1_048_576,
  max_requests_per_poll: 1_000,
};

export interface ApiHarness {
  metrics: Metrics;
  tokens: TokenProvider;
  api: SiemApi;
}

export function apiFor(
  sim: Simulator,
  options: { tenant?: Partial<TenantConfig>; timeoutMs?: number; clock?: () => number } = {},
): ApiHarness {
  const metrics = createMetrics({ defaultMetrics: false });
  const log = silentLogger();
  const http = createHttpClient();
  const tenant = tenantFor(sim, options.tenant);
  const timeoutMs = options.timeoutMs ?? 5_000;
  const tokens = createTokenProvider(tenant, { log, metrics, http, timeoutMs, clock: options.clock });
  const api = createSiemApi(tenant, { log, metrics, http, tokens, timeoutMs, clock: options.clock });
  return { metrics, tokens, api };
}

export async function counterValue(
  metrics: Metrics,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const metric = await metrics.registry.getSingleMetric(name)?.get();
  const match = metric?.values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val));
  return match?.value ?? 0;
}

export interface TokenCall {
  readonly path: string;
  readonly form: URLSearchParams;
}

export interface TokenServer {
  /** `http(s)://HOST:PORT`, for `authority_host`. */
  readonly url: string;
  readonly calls: readonly TokenCall[];
  /** Answers the following requests with this status and body instead of a token. */
  fail(status: number, body?: Record<string, unknown>): void;
  /** Issues tokens again. */
  succeed(): void;
  close(): Promise<void>;
}

/**
 * A minimal Azure AD token endpoint (v1 and v2 paths alike) that records each request's form and answers
 * with a fresh token, `expires_in` as a number as the v2 endpoint sends it. HTTPS when given a certificate,
 * served as `https://localhost:PORT`.
 */
export async function startTokenServer(tls?: { cert: string; key: string }): Promise<TokenServer> {
  const calls: TokenCall[] = [];
  let failure: { status: number; body: Record<string, unknown> } | undefined;
  let issued = 0;
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      calls.push({ path: req.url ?? "", form: new URLSearchParams(Buffer.concat(chunks).toString("utf8")) });
      const status = failure?.status ?? 200;
      const body = failure?.body ?? {
        token_type: "Bearer",
        expires_in: 3599,
        ext_expires_in: 3599,
        access_token: `test-token-${++issued}`,
      };
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    });
  };
  const server = tls
    ? https.createServer({ cert: tls.cert, key: tls.key }, handler)
    : http.createServer(handler);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  return {
    url: tls ? `https://localhost:${port}` : `http://127.0.0.1:${port}`,
    calls,
    fail(
      status,
      body = { error: "invalid_client", error_description: "AADSTS7000215: Invalid client secret." },
    ) {
      failure = { status, body };
    },
    succeed() {
      failure = undefined;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
