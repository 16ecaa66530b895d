import assert from "node:assert/strict";
import { test } from "node:test";
import { ForwarderError } from "../../../src/errors.js";
import { DEMO_TENANT, type FaultTarget, type SimTenant } from "../../../src/simulator/index.js";
import {
  ALERTS_API_SCOPE,
  alertsRequest,
  GRAPH_SCOPE,
  getToken,
  getV2Token,
  graphRequest,
  manualClock,
  mdeRequest,
  postJson,
  startSimulator,
  statusOf,
  T0,
} from "./helpers.js";

const OTHER: SimTenant = {
  tenantId: "44444444-0000-4000-8000-000000000000",
  clientId: "other",
  clientSecret: "other-secret",
};

async function calls(n: number, call: () => Promise<Response>): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < n; i++) statuses.push(await statusOf(call()));
  return statuses;
}

test("the Alerts API allows 100 calls a minute per tenant, then 429 with Retry-After", async (t) => {
  const clock = manualClock();
  const sim = await startSimulator(t, {
    clock: clock.fn,
    tenants: [DEMO_TENANT, OTHER],
    enforceRateLimits: true,
  });
  const token = await getV2Token(sim, ALERTS_API_SCOPE);
  const statuses = await calls(100, () => mdeRequest(sim, token));
  assert.ok(statuses.every((s) => s === 200));

  const throttled = await mdeRequest(sim, token);
  assert.equal(throttled.status, 429);
  assert.equal(throttled.headers.get("retry-after"), "60");
  const body = (await throttled.json()) as { error: { code: string; message: string; target: string } };
  assert.equal(body.error.code, "TooManyRequests");
  assert.match(body.error.message, /100 calls per minute/);

  // Refused calls do not count; the wait shrinks as the window slides.
  clock.now = T0 + 45_000;
  const later = await mdeRequest(sim, token);
  assert.equal(later.status, 429);
  assert.equal(later.headers.get("retry-after"), "15");
  await later.text();
  // Another tenant has its own quota, and Graph is another API.
  assert.equal(await statusOf(mdeRequest(sim, await getV2Token(sim, ALERTS_API_SCOPE, OTHER))), 200);
  assert.equal(await statusOf(graphRequest(sim, await getV2Token(sim, GRAPH_SCOPE))), 200);

  clock.now = T0 + 60_000;
  assert.equal(await statusOf(mdeRequest(sim, token)), 200);
  assert.deepEqual(
    sim.requests
      .filter((r) => r.path === "/mde/api/alerts")
      .map((r) => r.status)
      .slice(100),
    [429, 429, 200, 200],
  );
});

test("the hourly quota applies too (limits can be lowered for tests)", async (t) => {
  const clock = manualClock();
  const sim = await startSimulator(t, {
    clock: clock.fn,
    tokenLifetimeSeconds: 7_200,
    enforceRateLimits: { alertsApiPerMinute: 3, alertsApiPerHour: 5 },
  });
  const token = await getV2Token(sim, ALERTS_API_SCOPE);
  assert.deepEqual(await calls(4, () => mdeRequest(sim, token)), [200, 200, 200, 429]);
  clock.now = T0 + 60_000;
  assert.deepEqual(await calls(2, () => mdeRequest(sim, token)), [200, 200]);
  const hourly = await mdeRequest(sim, token);
  assert.equal(hourly.status, 429);
  // The first three calls at T0 leave the hour window at T0 + 1 h: 59 minutes from now.
  assert.equal(hourly.headers.get("retry-after"), String(3_540));
  assert.match(((await hourly.json()) as { error: { message: string } }).error.message, /5 calls per hour/);
  clock.now = T0 + 3_600_000;
  assert.equal(await statusOf(mdeRequest(sim, token)), 200);
});

test("Graph allows 150 calls a minute per tenant; without enforceRateLimits nothing is throttled", async (t) => {
  const clock = manualClock();
  const sim = await startSimulator(t, { clock: clock.fn, enforceRateLimits: true });
  const token = await getV2Token(sim, GRAPH_SCOPE);
  assert.ok((await calls(150, () => graphRequest(sim, token))).every((s) => s === 200));
  const throttled = await graphRequest(sim, token);
  assert.equal(throttled.status, 429);
  assert.equal(throttled.headers.get("retry-after"), "60");
  assert.equal(((await throttled.json()) as { error: { code: string } }).error.code, "TooManyRequests");

  const free = await startSimulator(t, { clock: clock.fn });
  const freeToken = await getV2Token(free, ALERTS_API_SCOPE);
  assert.ok((await calls(101, () => mdeRequest(free, freeToken))).every((s) => s === 200));
});

test("invalid limits are refused", async (t) => {
  await assert.rejects(
    startSimulator(t, { enforceRateLimits: { graphPerMinute: 0 } }),
    (err: unknown) => err instanceof ForwarderError && err.code === "E_CONFIG_INVALID",
  );
});

test("faults target the Alerts API and Graph separately, and not the SIEM API", async (t) => {
  const sim = await startSimulator(t);
  sim.addAlerts(3);
  sim.generate(2);
  const mdeToken = await getV2Token(sim, ALERTS_API_SCOPE);
  const graphToken = await getV2Token(sim, GRAPH_SCOPE);
  const siemToken = await getToken(sim);
  sim.injectFaults([{ kind: "status", status: 429, retryAfterSeconds: 7 }, { kind: "html" }], "alerts-api");
  sim.injectFaults([{ kind: "status", status: 503 }, { kind: "cut" }], "graph");

  assert.equal(await statusOf(alertsRequest(sim, siemToken)), 200);
  const throttled = await mdeRequest(sim, mdeToken);
  assert.equal(throttled.status, 429);
  assert.equal(throttled.headers.get("retry-after"), "7");
  assert.equal(((await throttled.json()) as { error: { code: string } }).error.code, "TooManyRequests");
  const html = await mdeRequest(sim, mdeToken);
  assert.equal(html.status, 200);
  assert.match(html.headers.get("content-type") ?? "", /^text\/html/);
  await html.text();
  assert.equal(await statusOf(mdeRequest(sim, mdeToken)), 200);

  assert.equal(await statusOf(graphRequest(sim, graphToken)), 503);
  const cut = await graphRequest(sim, graphToken);
  assert.equal(cut.status, 200);
  await assert.rejects(cut.text());
  assert.equal(await statusOf(graphRequest(sim, graphToken)), 200);
  assert.deepEqual(
    sim.requests.filter((r) => r.path.startsWith("/graph")).map((r) => [r.status, r.count]),
    [
      [503, 0],
      [200, 0],
      [200, 3],
    ],
  );

  // Through the control endpoint too; an unknown target is refused.
  const queued = await postJson(sim, "/_sim/faults", {
    target: "graph",
    faults: [{ kind: "status", status: 500 }],
  });
  assert.deepEqual(await queued.json(), { queued: 1, target: "graph" });
  assert.equal(await statusOf(graphRequest(sim, graphToken)), 500);
  assert.throws(
    () => sim.injectFaults([{ kind: "cut" }], "elsewhere" as FaultTarget),
    (err: unknown) => err instanceof ForwarderError && err.code === "E_CONFIG_INVALID",
  );
  // "token" faults hit the v2 endpoint as well.
  sim.injectFaults([{ kind: "status", status: 503, retryAfterSeconds: 3 }], "token");
  const res = await fetch(sim.tokenUrl(), {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "client_credentials" }).toString(),
  });
  assert.equal(res.status, 503);
  assert.equal(res.headers.get("retry-after"), "3");
  await res.text();
});
