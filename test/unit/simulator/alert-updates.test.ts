import assert from "node:assert/strict";
import { test } from "node:test";
import { ForwarderError } from "../../../src/errors.js";
import { createSimulator, DEMO_TENANT, type SimTenant } from "../../../src/simulator/index.js";
import { parseTimestamp } from "../../../src/timestamp.js";
import {
  ALERTS_API_SCOPE,
  GRAPH_SCOPE,
  getV2Token,
  graphPage,
  type Json,
  manualClock,
  mdeAlerts,
  postJson,
  q,
  startSimulator,
  T0,
  until,
} from "./helpers.js";

const ticks = (text: unknown): bigint => {
  const t = parseTimestamp(text);
  assert.ok(t !== undefined, `not a timestamp: ${String(text)}`);
  return t;
};
const ids = (alerts: Json[]): string[] => alerts.map((a) => String(a.id));
const maxTime = (alerts: Json[], key: string): string =>
  alerts.map((a) => String(a[key])).reduce((x, y) => (ticks(x) >= ticks(y) ? x : y));

test("an update moves the alert to a new lastUpdateTime that a ge query from before finds, in both APIs", async (t) => {
  const clock = manualClock();
  const sim = await startSimulator(t, { clock: clock.fn });
  sim.addAlerts(10, { from: T0 - 600_000, to: T0 });
  const mdeToken = await getV2Token(sim, ALERTS_API_SCOPE);
  const graphToken = await getV2Token(sim, GRAPH_SCOPE);
  const before = await mdeAlerts(sim, mdeToken);
  const cursor = maxTime(before, "lastUpdateTime");

  clock.now = T0 + 60_000;
  const target = sim.alerts.find((a) => a.status === "New") ?? sim.alerts[0];
  assert.ok(target);
  const updated = sim.updateAlert(target.id, { status: "InProgress", assignedTo: "ana.silva@contoso.com" });
  assert.equal(updated.version, 1);
  assert.ok(ticks(updated.lastUpdateTime) > ticks(target.lastUpdateTime));
  // At the clock's time, at whatever precision the backend stamped it (never later than now).
  assert.ok(ticks(updated.lastUpdateTime) <= ticks(new Date(T0 + 60_000).toISOString()));
  assert.ok(ticks(updated.lastUpdateTime) > ticks(new Date(T0 + 59_000).toISOString()));

  const mde = await mdeAlerts(sim, mdeToken, q({ $filter: `lastUpdateTime ge ${cursor}` }));
  const fresh = mde.filter((a) => a.id === target.id);
  assert.equal(fresh.length, 1);
  assert.equal(fresh[0]?.lastUpdateTime, updated.lastUpdateTime);
  assert.equal(fresh[0]?.status, "InProgress");
  assert.equal(fresh[0]?.assignedTo, "ana.silva@contoso.com");
  // Only the cursor's own alert (ge is inclusive) and the updated one are at or after the cursor.
  assert.ok(mde.length <= 2);
  const graph = await graphPage(sim, graphToken, q({ $filter: `lastUpdateDateTime gt ${cursor}` }));
  assert.deepEqual(ids(graph.value), [target.id]);
  assert.equal(graph.value[0]?.status, "inProgress");
  // The API serves one version per alert: the newest.
  assert.equal((await mdeAlerts(sim, mdeToken)).length, 10);
  assert.equal(sim.alerts.find((a) => a.id === target.id)?.version, 1);
});

test("updates change status, triage, assignment, evidence and comments; an empty one is random", async (t) => {
  const clock = manualClock();
  const sim = await startSimulator(t, { clock: clock.fn, seed: 21 });
  const [alert] = sim.addAlerts([{ status: "New", assignedTo: null, classification: null }]);
  assert.ok(alert);
  const evidence0 = (alert.alertsApi.evidence as Json[]).length;

  clock.now += 1_000;
  const withEvidence = sim.updateAlert(alert.id, { addEvidence: "registry" });
  const mdeEvidence = withEvidence.alertsApi.evidence as Json[];
  assert.equal(mdeEvidence.length, evidence0 + 1);
  assert.equal(mdeEvidence[mdeEvidence.length - 1]?.entityType, "Registry");
  const graphEvidence = withEvidence.graph.evidence as Json[];
  assert.match(
    String(graphEvidence[graphEvidence.length - 1]?.["@odata.type"]),
    /registry(Key|Value)Evidence$/,
  );

  clock.now += 1_000;
  const resolved = sim.updateAlert(alert.id, {
    status: "Resolved",
    classification: "TruePositive",
    determination: "Malware",
    comment: "Confirmed, cleaned up.",
  });
  assert.equal(resolved.alertsApi.status, "Resolved");
  assert.equal(resolved.alertsApi.classification, "TruePositive");
  assert.equal(resolved.graph.determination, "malware");
  assert.equal(resolved.alertsApi.resolvedTime, resolved.lastUpdateTime);
  assert.equal(resolved.graph.resolvedDateTime, resolved.lastUpdateTime);
  const comments = resolved.alertsApi.comments as Json[];
  assert.equal(comments[comments.length - 1]?.comment, "Confirmed, cleaned up.");
  assert.equal((resolved.graph.comments as Json[]).at(-1)?.comment, "Confirmed, cleaned up.");

  let previous = resolved;
  for (let i = 0; i < 8; i++) {
    clock.now += 1_000;
    const next = sim.updateAlert(alert.id);
    assert.ok(ticks(next.lastUpdateTime) > ticks(previous.lastUpdateTime), "always later");
    const { lastUpdateTime: _a, ...before } = previous.alertsApi;
    const { lastUpdateTime: _b, ...after } = next.alertsApi;
    assert.notDeepEqual(after, before, "a random update changes something besides the time");
    previous = next;
  }
  assert.equal(previous.version, 10);

  assert.throws(
    () => sim.updateAlert("da000_1"),
    (err: unknown) => err instanceof ForwarderError && err.code === "E_CONFIG_INVALID",
  );
});

test("two updates in the same 100 ns still get increasing lastUpdateTime values", async (t) => {
  const clock = manualClock();
  const sim = await startSimulator(t, { clock: clock.fn });
  const [alert] = sim.addAlerts(1, { sameTime: true });
  assert.ok(alert);
  const times = [alert.lastUpdateTime];
  for (let i = 0; i < 5; i++) times.push(sim.updateAlert(alert.id, { comment: `c${i}` }).lastUpdateTime);
  for (let i = 1; i < times.length; i++) assert.ok(ticks(times[i]) > ticks(times[i - 1]), times.join(" "));
});

test("visibleAt delays new alerts, and keeps the previous version of an updated one until then", async (t) => {
  const clock = manualClock();
  const sim = await startSimulator(t, { clock: clock.fn });
  const [shown] = sim.addAlerts(1, { to: T0 - 1_000 });
  const [late] = sim.addAlerts(1, { to: T0 - 500, visibleAt: T0 + 30_000 });
  assert.ok(shown && late);
  const token = await getV2Token(sim, GRAPH_SCOPE);
  assert.deepEqual(ids((await graphPage(sim, token)).value), [shown.id]);

  clock.now = T0 + 10_000;
  const update = sim.updateAlert(shown.id, { status: "Resolved", visibleAt: T0 + 20_000 });
  const now = (await graphPage(sim, token)).value;
  assert.deepEqual(ids(now), [shown.id]);
  assert.equal(
    now[0]?.lastUpdateDateTime,
    shown.lastUpdateTime,
    "the previous version, until the update shows",
  );

  clock.now = T0 + 20_000;
  const later = (await graphPage(sim, token)).value;
  assert.equal(later[0]?.lastUpdateDateTime, update.lastUpdateTime);
  assert.equal(later[0]?.status, "resolved");

  clock.now = T0 + 30_000;
  // The late alert shows with its own (earlier) lastUpdateTime: a cursor already past it misses it.
  const all = (await graphPage(sim, token, q({ $orderby: "lastUpdateDateTime asc" }))).value;
  assert.deepEqual(ids(all), [late.id, shown.id]);
});

test("POST /_sim/alerts adds {count} or {alerts}; POST /_sim/alerts/{id}/update updates", async (t) => {
  const clock = manualClock();
  const sim = await startSimulator(t, { clock: clock.fn });
  const gen = await postJson(sim, "/_sim/alerts", {
    count: 4,
    from: T0 - 60_000,
    to: "2024-05-01T12:00:00Z",
  });
  assert.equal(gen.status, 200);
  const genBody = (await gen.json()) as { added: number; ids: string[]; lastUpdateTimes: string[] };
  assert.equal(genBody.added, 4);
  assert.deepEqual(
    genBody.ids,
    sim.alerts.map((a) => a.id),
  );
  assert.deepEqual(
    genBody.lastUpdateTimes,
    sim.alerts.map((a) => a.lastUpdateTime),
  );

  const given = await postJson(sim, "/_sim/alerts", {
    alerts: [
      {
        id: "da638500000000000000_42",
        title: "Hello SIEM",
        severity: "High",
        lastUpdateTime: "2024-05-01T11:59:59.5Z",
        evidence: ["ip", "url"],
      },
    ],
    tenantId: DEMO_TENANT.tenantId,
  });
  assert.equal(given.status, 200);
  const mine = sim.alerts.find((a) => a.id === "da638500000000000000_42");
  assert.ok(mine);
  assert.equal(mine.alertsApi.title, "Hello SIEM");
  assert.equal(mine.lastUpdateTime, "2024-05-01T11:59:59.5Z");
  assert.deepEqual(
    (mine.alertsApi.evidence as Json[]).map((e) => e.entityType),
    ["Ip", "Url"],
  );

  clock.now = T0 + 5_000;
  const upd = await postJson(sim, "/_sim/alerts/da638500000000000000_42/update", {
    status: "Resolved",
    classification: "FalsePositive",
    determination: "NotMalicious",
  });
  assert.equal(upd.status, 200);
  const updBody = (await upd.json()) as {
    id: string;
    lastUpdateTime: string;
    status: string;
    version: number;
  };
  assert.equal(updBody.status, "Resolved");
  assert.equal(updBody.version, 1);
  assert.ok(ticks(updBody.lastUpdateTime) > ticks("2024-05-01T12:00:04Z"));
  // No body: a random update.
  const random = await fetch(`${sim.url}/_sim/alerts/${genBody.ids[0]}/update`, { method: "POST" });
  assert.equal(random.status, 200);
  assert.equal(((await random.json()) as { version: number }).version, 1);

  const missing = await postJson(sim, "/_sim/alerts/da000_404/update", {});
  assert.equal(missing.status, 404);
  await missing.text();
  for (const bad of [
    { count: -1 },
    { alerts: [{ status: "Closed" }] },
    { alerts: [{ lastUpdateTime: "yesterday" }] },
    { alerts: [{ id: "da638500000000000000_42" }] }, // exists
    { count: 1, tenantId: "nobody" },
  ]) {
    const res = await postJson(sim, "/_sim/alerts", bad);
    assert.equal(res.status, 400, JSON.stringify(bad));
    await res.text();
  }
  const badUpdate = await postJson(sim, `/_sim/alerts/${genBody.ids[1]}/update`, { addEvidence: "mailbox" });
  assert.equal(badUpdate.status, 400);
  await badUpdate.text();
  const get = await fetch(`${sim.url}/_sim/alerts`);
  assert.equal(get.status, 405);
  await get.text();
  // Control calls are not API requests.
  assert.equal(sim.requests.length, 0);
});

test("alerts are deterministic per seed and tenant", async (t) => {
  const make = async (seed: number) => {
    const sim = await createSimulator({ seed, clock: () => T0 });
    t.after(() => sim.close());
    sim.addAlerts(15);
    return sim.alerts.map((a) => a.graph);
  };
  const a = await make(5);
  const b = await make(5);
  const c = await make(6);
  assert.deepEqual(a, b);
  assert.notDeepEqual(
    a.map((x) => x.id),
    c.map((x) => x.id),
  );
});

test("steady rates create and update alerts in every tenant", async (t) => {
  const other: SimTenant = {
    tenantId: "22222222-0000-4000-8000-000000000000",
    clientId: "o",
    clientSecret: "s",
  };
  const sim = await startSimulator(t, {
    tenants: [DEMO_TENANT, other],
    alertRatePerMinute: 1_200,
    updateRatePerMinute: 1_200,
  });
  await until(() => sim.alertsOf(other.tenantId).some((a) => a.version > 0));
  await until(() => sim.alertsOf(DEMO_TENANT.tenantId).some((a) => a.version > 0));
  assert.ok(sim.alertsOf(other.tenantId).every((a) => a.tenantId === other.tenantId));
  await sim.close();
  const count = sim.alerts.length;
  // Closed: no timer adds anything any more (checked after the timer's period has surely passed).
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.equal(sim.alerts.length, count);
});
