import assert from "node:assert/strict";
import { test } from "node:test";
import { DEMO_TENANT } from "../../../src/simulator/index.js";
import {
  alertsRequest,
  credentials,
  getAlerts,
  getToken,
  manualClock,
  postJson,
  startSimulator,
  statusOf,
  T0,
  tokenRequest,
} from "./helpers.js";

interface Stats {
  detections: number;
  served: number;
  tokensIssued: number;
  requests: number;
}

async function stats(url: string): Promise<Stats> {
  const res = await fetch(`${url}/_sim/stats`);
  assert.equal(res.status, 200);
  return (await res.json()) as Stats;
}

test("POST /_sim/detections generates {count} or adds {detections}", async (t) => {
  const clock = manualClock();
  const sim = await startSimulator(t, { clock: clock.fn });
  const gen = await postJson(sim, "/_sim/detections", {
    count: 12,
    from: T0 - 60_000,
    to: "2024-05-01T12:00:00Z",
  });
  assert.equal(gen.status, 200);
  const genBody = (await gen.json()) as { added: number; fullIds: string[] };
  assert.equal(genBody.added, 12);
  assert.deepEqual(
    genBody.fullIds,
    sim.detections.map((d) => d.FullId),
  );

  const add = await postJson(sim, "/_sim/detections", {
    detections: [{ LastProcessedTimeUtc: "2024-05-01T11:59:59.9999999Z", AlertTitle: "Hello SIEM" }],
    tenantId: DEMO_TENANT.tenantId,
  });
  assert.equal(add.status, 200);
  assert.equal(((await add.json()) as { added: number }).added, 1);
  assert.equal(sim.detections.length, 13);
  assert.equal(sim.detections[12]?.AlertTitle, "Hello SIEM");

  // visibleAt through the control endpoint, as an ISO string.
  await postJson(sim, "/_sim/detections", { count: 2, visibleAt: "2024-05-01T12:05:00Z" }).then((r) =>
    r.text(),
  );
  const token = await getToken(sim);
  assert.equal((await getAlerts(sim, token)).length, 13);
  clock.now = Date.parse("2024-05-01T12:05:00Z");
  assert.equal((await getAlerts(sim, token)).length, 15);
});

test("POST /_sim/faults queues faults for a target", async (t) => {
  const sim = await startSimulator(t);
  const res = await postJson(sim, "/_sim/faults", {
    faults: [{ kind: "status", status: 429, retryAfterSeconds: 3 }, { kind: "html" }],
  });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { queued: 2, target: "alerts" });
  const tokenFault = await postJson(sim, "/_sim/faults", {
    target: "token",
    faults: [{ kind: "status", status: 500 }],
  });
  assert.deepEqual(await tokenFault.json(), { queued: 1, target: "token" });

  assert.equal(await statusOf(tokenRequest(sim, credentials())), 500);
  const token = await getToken(sim);
  const throttled = await alertsRequest(sim, token);
  assert.equal(throttled.status, 429);
  assert.equal(throttled.headers.get("retry-after"), "3");
  await throttled.text();
  const html = await alertsRequest(sim, token);
  assert.match(html.headers.get("content-type") ?? "", /^text\/html/);
  await html.text();
  assert.equal(await statusOf(alertsRequest(sim, token)), 200);
});

test("POST /_sim/expire-tokens invalidates issued tokens", async (t) => {
  const sim = await startSimulator(t);
  const token = await getToken(sim);
  assert.equal(await statusOf(alertsRequest(sim, token)), 200);
  const res = await postJson(sim, "/_sim/expire-tokens", {});
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { expired: 1 });
  assert.equal(await statusOf(alertsRequest(sim, token)), 401);
});

test("GET /_sim/stats counts detections, served, tokens and API requests (not control calls)", async (t) => {
  const sim = await startSimulator(t);
  assert.deepEqual(await stats(sim.url), { detections: 0, served: 0, tokensIssued: 0, requests: 0 });
  sim.generate(7);
  const token = await getToken(sim);
  await getAlerts(sim, token, "limit=3");
  assert.deepEqual(await stats(sim.url), { detections: 7, served: 3, tokensIssued: 1, requests: 2 });
  assert.equal(sim.requests.length, 2);
});

test("control endpoints refuse bad input with 400/404/405 and change nothing", async (t) => {
  const sim = await startSimulator(t);
  const bad: Array<[string, unknown]> = [
    ["/_sim/detections", { count: -1 }],
    ["/_sim/detections", { count: 1, tenantId: "nope" }],
    ["/_sim/detections", { count: 1, from: "yesterday" }],
    ["/_sim/detections", { cont: 1 }],
    ["/_sim/detections", { detections: [1, 2] }],
    ["/_sim/faults", { faults: [{ kind: "boom" }] }],
    ["/_sim/faults", { target: "both", faults: [] }],
    ["/_sim/faults", "not an object"],
  ];
  for (const [path, body] of bad) {
    const res = await postJson(sim, path, body);
    assert.equal(res.status, 400, `${path} ${JSON.stringify(body)}`);
    const json = (await res.json()) as { error: { message: string } };
    assert.ok(json.error.message.length > 0);
  }
  const notJson = await fetch(`${sim.url}/_sim/faults`, { method: "POST", body: "{" });
  assert.equal(notJson.status, 400);
  await notJson.text();
  assert.equal(await statusOf(fetch(`${sim.url}/_sim/nothing`)), 404);
  assert.equal(await statusOf(fetch(`${sim.url}/_sim/stats`, { method: "POST" })), 405);
  assert.equal(await statusOf(fetch(`${sim.url}/_sim/detections`)), 405);
  assert.equal(sim.detections.length, 0);
  // No fault was queued by the refused calls.
  const token = await getToken(sim);
  assert.equal(await statusOf(alertsRequest(sim, token)), 200);
  // Control calls are not API requests.
  assert.equal(sim.requests.length, 2);
});
