// Builds a source (token cache + API client) against the simulator, with the tenant config the schema
// would produce, for the source tests.
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
    tenant_id: DEMO_TENANT.tenantId,
    client_id: DEMO_TENANT.clientId,
    client_secret: DEMO_TENANT.clientSecret,
    api_url: sim.url,
    authority_host: sim.authorityHost,
    resource: "https://graph.windows.net",
    machine_groups: [],
    ...overrides,
  };
}

export const POLL: PollConfig = {
  schedule: "*/1 * * * *",
  lookback: 2 * 3_600_000,
  overlap: 5 * 60_000,
  max_per_request: 5000,
  request_timeout: 5_000,
  permanent_error_retry: 3_600_000,
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
