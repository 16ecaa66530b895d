import assert from "node:assert/strict";
import { test } from "node:test";
import type { SimTenant } from "../../../src/simulator/index.js";
import { alertsRequest, getAlerts, getToken, manualClock, startSimulator, statusOf, T0 } from "./helpers.js";

const at = (iso: string) => ({ LastProcessedTimeUtc: iso });
const times = (list: Record<string, unknown>[]) => list.map((d) => d.LastProcessedTimeUtc);

test("sinceTimeUtc/untilTimeUtc are inclusive and compared at 100-ns precision", async (t) => {
  const clock = manualClock();
  const sim = await startSimulator(t, { clock: clock.fn });
  sim.add([
    at("2024-05-01T11:00:00.0000000Z"), // 100 ns before since
    at("2024-05-01T11:00:00.0000001Z"), // = since
    at("2024-05-01T11:15:00.1234567Z"),
    at("2024-05-01T11:30:00.0000005Z"), // = until
    at("2024-05-01T11:30:00.0000006Z"), // 100 ns after until
  ]);
  const token = await getToken(sim);
  const got = await getAlerts(
    sim,
    token,
    "sinceTimeUtc=2024-05-01T11:00:00.0000001Z&untilTimeUtc=2024-05-01T11:30:00.0000005Z",
  );
  assert.deepEqual(times(got), [
    "2024-05-01T11:30:00.0000005Z",
    "2024-05-01T11:15:00.1234567Z",
    "2024-05-01T11:00:00.0000001Z",
  ]);

  // Microsoft's own examples send milliseconds and no Z: read as UTC.
  const ms = await getAlerts(
    sim,
    token,
    "sinceTimeUtc=2024-05-01T11:15:00.123&untilTimeUtc=2024-05-01T11:15:00.124",
  );
  assert.deepEqual(times(ms), ["2024-05-01T11:15:00.1234567Z"]);
  // Whole seconds, no fraction at all.
  const secs = await getAlerts(
    sim,
    token,
    "sinceTimeUtc=2024-05-01T11:15:00Z&untilTimeUtc=2024-05-01T11:16:00",
  );
  assert.deepEqual(times(secs), ["2024-05-01T11:15:00.1234567Z"]);
});

test("without bounds the window is the last two hours up to now", async (t) => {
  const clock = manualClock();
  const sim = await startSimulator(t, { clock: clock.fn });
  sim.add([
    at("2024-05-01T09:59:59.9999999Z"), // 100 ns before now - 2 h
    at("2024-05-01T10:00:00.0000000Z"), // = now - 2 h
    at("2024-05-01T12:00:00.0000000Z"), // = now
    at("2024-05-01T12:00:00.0000001Z"), // 100 ns in the future
  ]);
  const token = await getToken(sim);
  assert.deepEqual(times(await getAlerts(sim, token)), [
    "2024-05-01T12:00:00.0000000Z",
    "2024-05-01T10:00:00.0000000Z",
  ]);
  // sinceTimeUtc alone: up to now.
  assert.deepEqual(times(await getAlerts(sim, token, "sinceTimeUtc=2024-05-01T00:00:00Z")), [
    "2024-05-01T12:00:00.0000000Z",
    "2024-05-01T10:00:00.0000000Z",
    "2024-05-01T09:59:59.9999999Z",
  ]);
  // Time moves on by 1 ms: the future detection comes in, the oldest drops out.
  clock.now += 1;
  assert.deepEqual(times(await getAlerts(sim, token)), [
    "2024-05-01T12:00:00.0000001Z",
    "2024-05-01T12:00:00.0000000Z",
  ]);
});

test("the response is newest first and limit keeps the MOST RECENT N", async (t) => {
  const clock = manualClock();
  const sim = await startSimulator(t, { clock: clock.fn });
  const added = sim.generate(25, { from: T0 - 3_600_000, to: T0 });
  const token = await getToken(sim);
  const all = await getAlerts(sim, token);
  assert.equal(all.length, 25);
  const sorted = [...added]
    .map((d) => String(d.LastProcessedTimeUtc))
    .sort()
    .reverse();
  assert.deepEqual(times(all), sorted);

  const limited = await getAlerts(sim, token, "limit=5");
  assert.deepEqual(times(limited), sorted.slice(0, 5));
  assert.equal((await getAlerts(sim, token, "limit=100")).length, 25);
  assert.deepEqual(
    sim.requests.filter((r) => r.path === "/api/alerts").map((r) => [r.query, r.count]),
    [
      [{}, 25],
      [{ limit: "5" }, 5],
      [{ limit: "100" }, 25],
    ],
  );
  // Everything returned counts as served.
  assert.equal(sim.served.size, 25);
  for (const d of added) assert.ok(sim.served.has(String(d.FullId)));
});

test("countServes counts each FullId served by /api/alerts, every time; off by default", async (t) => {
  const clock = manualClock();
  const sim = await startSimulator(t, { clock: clock.fn, countServes: true });
  const added = sim.generate(10, { from: T0 - 3_600_000, to: T0 });
  const token = await getToken(sim);
  await getAlerts(sim, token);
  await getAlerts(sim, token, "limit=3");
  const newest = new Set(times(await getAlerts(sim, token, "limit=3")));
  const counts = sim.serveCounts;
  assert.ok(counts !== undefined);
  assert.equal(counts.size, 10);
  for (const d of added) {
    const expected = newest.has(String(d.LastProcessedTimeUtc)) ? 3 : 1;
    assert.equal(counts.get(String(d.FullId)), expected, String(d.FullId));
  }
  assert.equal(sim.served.size, 10);

  const plain = await startSimulator(t, { clock: clock.fn });
  plain.generate(2, { from: T0 - 60_000, to: T0 });
  await getAlerts(plain, await getToken(plain));
  assert.equal(plain.served.size, 2);
  assert.equal(plain.serveCounts, undefined);
});

test("limit applies after the other filters", async (t) => {
  const clock = manualClock();
  const sim = await startSimulator(t, { clock: clock.fn });
  sim.add([
    { ...at("2024-05-01T11:00:00Z"), MachineGroup: "UKMachines" },
    { ...at("2024-05-01T11:10:00Z"), MachineGroup: "UKMachines" },
    { ...at("2024-05-01T11:20:00Z"), MachineGroup: "FranceMachines" },
  ]);
  const token = await getToken(sim);
  // A partial's timestamp is served as given (here without a fraction).
  assert.deepEqual(times(await getAlerts(sim, token, "machinegroups=UKMachines&limit=1")), [
    "2024-05-01T11:10:00Z",
  ]);
});

test("machinegroups is repeatable and matches MachineGroup; tag filters match their field", async (t) => {
  const tenant: SimTenant = {
    tenantId: "aaaaaaaa-0000-4000-8000-000000000001",
    clientId: "c",
    clientSecret: "s",
    machineGroups: ["UKMachines", "FranceMachines", "Servers"],
  };
  const clock = manualClock();
  const sim = await startSimulator(t, { clock: clock.fn, tenants: [tenant] });
  sim.generate(60, { from: T0 - 600_000, to: T0 });
  sim.add([
    { ...at("2024-05-01T11:59:00Z"), DeviceCreatedMachineTags: "Finance", CloudCreatedMachineTags: "" },
    { ...at("2024-05-01T11:59:01Z"), DeviceCreatedMachineTags: "", CloudCreatedMachineTags: "Pilot, VIP" },
  ]);
  const token = await getToken(sim, tenant);
  const all = await getAlerts(sim, token);
  const groups = new Set(all.map((d) => d.MachineGroup));
  assert.deepEqual([...groups].sort(), ["FranceMachines", "Servers", "UKMachines"]);

  const uk = await getAlerts(sim, token, "machinegroups=UKMachines");
  assert.ok(uk.length > 0);
  assert.ok(uk.every((d) => d.MachineGroup === "UKMachines"));
  const two = await getAlerts(sim, token, "machinegroups=UKMachines&machinegroups=FranceMachines");
  assert.equal(two.length, all.filter((d) => d.MachineGroup !== "Servers").length);
  assert.ok(two.some((d) => d.MachineGroup === "FranceMachines"));
  assert.deepEqual(await getAlerts(sim, token, "machinegroups=Nowhere"), []);

  const finance = await getAlerts(sim, token, "DeviceCreatedMachineTags=Finance");
  assert.ok(finance.length >= 1);
  assert.ok(finance.every((d) => String(d.DeviceCreatedMachineTags).includes("Finance")));
  const vip = await getAlerts(sim, token, "CloudCreatedMachineTags=VIP");
  assert.ok(vip.some((d) => d.CloudCreatedMachineTags === "Pilot, VIP"));
  assert.ok(vip.every((d) => String(d.CloudCreatedMachineTags).includes("VIP")));
});

test("ago is an ISO-8601 duration back from now", async (t) => {
  const clock = manualClock();
  const sim = await startSimulator(t, { clock: clock.fn });
  sim.add([
    at("2024-05-01T11:49:59.9999999Z"), // 100 ns before now - 10 min
    at("2024-05-01T11:50:00.0000000Z"), // = now - 10 min
    at("2024-05-01T11:59:30.0000000Z"),
    at("2024-05-01T10:30:00.0000000Z"),
  ]);
  const token = await getToken(sim);
  assert.deepEqual(times(await getAlerts(sim, token, "ago=PT10M")), [
    "2024-05-01T11:59:30.0000000Z",
    "2024-05-01T11:50:00.0000000Z",
  ]);
  assert.equal((await getAlerts(sim, token, "ago=PT30S")).length, 1);
  assert.equal((await getAlerts(sim, token, "ago=PT1H30M")).length, 4);
  assert.equal((await getAlerts(sim, token, "ago=P1D")).length, 4);
  assert.equal((await getAlerts(sim, token, "ago=PT600.0000001S")).length, 3);
});

test("invalid parameters get 400 with a JSON error", async (t) => {
  const sim = await startSimulator(t);
  const token = await getToken(sim);
  for (const query of [
    "sinceTimeUtc=yesterday",
    "untilTimeUtc=2024-02-30T00:00:00Z",
    "sinceTimeUtc=",
    "sinceTimeUtc=2024-05-01T12:00:00Z&untilTimeUtc=2024-05-01T11:00:00Z",
    "sinceTimeUtc=2024-05-01T11:00:00Z&sinceTimeUtc=2024-05-01T10:00:00Z",
    "limit=0",
    "limit=-5",
    "limit=ten",
    "limit=1.5",
    "ago=10m",
    "ago=P1M",
    "ago=PT",
    "ago=PT10M&sinceTimeUtc=2024-05-01T11:00:00Z",
  ]) {
    const res = await alertsRequest(sim, token, query);
    assert.equal(res.status, 400, query);
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, "InvalidParameter", query);
    assert.ok(body.error.message.length > 0);
  }
});

test("parameter names are case-insensitive, unknown ones ignored, /api/alerts/ accepted", async (t) => {
  const clock = manualClock();
  const sim = await startSimulator(t, { clock: clock.fn });
  sim.add([at("2024-05-01T11:00:00Z"), at("2024-05-01T11:30:00Z")]);
  const token = await getToken(sim);
  const res = await fetch(`${sim.url}/api/alerts/?SINCETIMEUTC=2024-05-01T11:15:00Z&Limit=5&foo=bar`, {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(res.status, 200);
  assert.deepEqual(times((await res.json()) as Record<string, unknown>[]), ["2024-05-01T11:30:00Z"]);
  assert.equal(await statusOf(fetch(`${sim.url}/api/nothing`)), 404);
  assert.equal(
    await statusOf(
      fetch(`${sim.url}/api/alerts`, { method: "POST", headers: { authorization: `Bearer ${token}` } }),
    ),
    405,
  );
});

test("visibleAt hides a detection until the clock reaches it", async (t) => {
  const clock = manualClock();
  const sim = await startSimulator(t, { clock: clock.fn });
  // Processed a minute ago, but the API only shows it two minutes from now (late arrival).
  const [late] = sim.add([at("2024-05-01T11:59:00Z")], { visibleAt: T0 + 120_000 });
  const [now] = sim.add([at("2024-05-01T11:58:00Z")]);
  const token = await getToken(sim);
  const query = "sinceTimeUtc=2024-05-01T11:00:00Z&untilTimeUtc=2024-05-01T12:00:00Z";
  assert.deepEqual(
    (await getAlerts(sim, token, query)).map((d) => d.FullId),
    [now?.FullId],
  );
  clock.now = T0 + 119_999;
  assert.equal((await getAlerts(sim, token, query)).length, 1);
  clock.now = T0 + 120_000;
  assert.deepEqual(
    (await getAlerts(sim, token, query)).map((d) => d.FullId),
    [late?.FullId, now?.FullId],
  );
  assert.equal(sim.detections.length, 2);
});

test("generate(visibleAt) applies to every generated detection", async (t) => {
  const clock = manualClock();
  const sim = await startSimulator(t, { clock: clock.fn });
  sim.generate(5, { visibleAt: T0 + 1 });
  const token = await getToken(sim);
  assert.equal((await getAlerts(sim, token)).length, 0);
  clock.now = T0 + 1;
  assert.equal((await getAlerts(sim, token)).length, 5);
});
