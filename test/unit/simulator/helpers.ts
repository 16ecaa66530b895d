// Shared by the simulator tests: start a simulator that is closed after the test, get a token,
// query /api/alerts with the global fetch.
import type { TestContext } from "node:test";
import {
  createSimulator,
  DEMO_TENANT,
  type SimTenant,
  type Simulator,
  type SimulatorOptions,
} from "../../../src/simulator/index.js";

/** 2024-05-01T12:00:00Z: tests inject this clock so that windows and expiry are exact. */
export const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);

export interface ManualClock {
  now: number;
  readonly fn: () => number;
}

export function manualClock(start = T0): ManualClock {
  const clock = {
    now: start,
    fn: () => clock.now,
  };
  return clock;
}

export async function startSimulator(t: TestContext, options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = await createSimulator(options);
  t.after(() => sim.close());
  return sim;
}

export function tokenRequest(
  sim: Simulator,
  fields: Record<string, string>,
  tenantId = DEMO_TENANT.tenantId,
) {
  return fetch(`${sim.authorityHost}/${tenantId}/oauth2/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
  });
}

export function credentials(tenant: SimTenant = DEMO_TENANT): Record<string, string> {
  return {
    grant_type: "client_credentials",
    client_id: tenant.clientId,
    client_secret: tenant.clientSecret,
    resource: "https://graph.windows.net",
  };
}

export async function getToken(sim: Simulator, tenant: SimTenant = DEMO_TENANT): Promise<string> {
  const res = await tokenRequest(sim, credentials(tenant), tenant.tenantId);
  if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { access_token: string };
  return body.access_token;
}

export function alertsRequest(sim: Simulator, token: string | undefined, query = ""): Promise<Response> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  return fetch(`${sim.url}/api/alerts${query === "" ? "" : `?${query}`}`, { headers });
}

export async function getAlerts(
  sim: Simulator,
  token: string,
  query = "",
): Promise<Record<string, unknown>[]> {
  const res = await alertsRequest(sim, token, query);
  if (res.status !== 200) throw new Error(`alerts request failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>[];
}

export function postJson(sim: Simulator, path: string, body: unknown): Promise<Response> {
  return fetch(`${sim.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** The status of a response whose body is not needed (read anyway, so the connection is reusable). */
export async function statusOf(response: Promise<Response>): Promise<number> {
  const res = await response;
  await res.arrayBuffer();
  return res.status;
}

/**
 * Waits for a condition that the simulator reaches on its own (a server-side close, say) and that
 * exposes no event; checks once per loop turn, fails after `ms`.
 */
export async function until(condition: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export const ALERTS_API_SCOPE = "https://api.securitycenter.microsoft.com/.default";
export const GRAPH_SCOPE = "https://graph.microsoft.com/.default";

export function v2TokenRequest(
  sim: Simulator,
  fields: Record<string, string>,
  tenantId = DEMO_TENANT.tenantId,
): Promise<Response> {
  return fetch(`${sim.authorityHost}/${tenantId}/oauth2/v2.0/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
  });
}

export function v2Credentials(scope: string, tenant: SimTenant = DEMO_TENANT): Record<string, string> {
  return {
    grant_type: "client_credentials",
    client_id: tenant.clientId,
    client_secret: tenant.clientSecret,
    scope,
  };
}

export async function getV2Token(
  sim: Simulator,
  scope: string,
  tenant: SimTenant = DEMO_TENANT,
): Promise<string> {
  const res = await v2TokenRequest(sim, v2Credentials(scope, tenant), tenant.tenantId);
  if (res.status !== 200) throw new Error(`v2 token request failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

/** GET {alertsApiUrl}/api/alerts; `query` is appended as is (the caller encodes it). */
export function mdeRequest(sim: Simulator, token: string | undefined, query = ""): Promise<Response> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  return fetch(`${sim.alertsApiUrl}/api/alerts${query === "" ? "" : `?${query}`}`, { headers });
}

export function graphRequest(sim: Simulator, token: string | undefined, query = ""): Promise<Response> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  return fetch(`${sim.graphUrl}/v1.0/security/alerts_v2${query === "" ? "" : `?${query}`}`, { headers });
}

export type Json = Record<string, unknown>;

/** The `value` of a 200 Alerts API answer. */
export async function mdeAlerts(sim: Simulator, token: string, query = ""): Promise<Json[]> {
  const res = await mdeRequest(sim, token, query);
  if (res.status !== 200) throw new Error(`alerts api request failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { value: Json[] }).value;
}

/** A whole 200 Graph answer (value, @odata.nextLink, @odata.count). */
export async function graphPage(
  sim: Simulator,
  token: string,
  query = "",
): Promise<Json & { value: Json[] }> {
  const res = await graphRequest(sim, token, query);
  if (res.status !== 200) throw new Error(`graph request failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as Json & { value: Json[] };
}

/** An OData $filter (or any value) for a query string. */
export function q(params: Record<string, string>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
    .join("&");
}
