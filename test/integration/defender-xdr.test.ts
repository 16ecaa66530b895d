// Issue 12, end to end through the simulator: Graph alerts of every Defender product keep their service
// (the Prefer header), alerts of one instant updated between page requests are all delivered (Alerts API
// and Graph, even with offset nextLinks), service_sources filters on the server, and every incident
// version is delivered once across polls and a restart.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { buildForwarder, type Forwarder } from "../../src/cli/daemon.js";
import { configSchema } from "../../src/config/schema.js";
import { silentLogger } from "../../src/log.js";
import {
  createSimulator,
  type Fault,
  type FaultTarget,
  type Simulator,
  type SimulatorOptions,
} from "../../src/simulator/index.js";
import { canonicalTimestamp } from "../../src/timestamp.js";
import { parseCef } from "../support/cef-parser.js";
import { rawConfig } from "../support/forwarder.js";
import { type Receiver, startReceiver } from "../support/receiver.js";

type Source = "alerts" | "graph" | "incidents";

interface Setup {
  sim: Simulator;
  rx: Receiver;
  cycle(): Promise<void>;
  restart(): Promise<void>;
  forwarder(): Forwarder;
}

async function setup(
  t: TestContext,
  source: Source,
  options: { sim?: SimulatorOptions; tenant?: Record<string, unknown>; poll?: Record<string, unknown> } = {},
): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), `mde-xdr-${source}-`));
  const sim = await createSimulator({ seed: 61, ...options.sim });
  const rx = await startReceiver({ protocol: "tcp" });
  const raw = () =>
    rawConfig({
      sim,
      receiverPort: rx.port,
      stateDir: dir,
      poll: { overlap: "1h", max_per_request: 25, ...options.poll },
      tenant: { source, api_url: source === "alerts" ? sim.alertsApiUrl : sim.graphUrl, ...options.tenant },
    });
  let forwarder = buildForwarder(configSchema.parse(raw()), { log: silentLogger(), confirmAfterMs: 20 });
  t.after(async () => {
    await forwarder.close();
    await rx.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    sim,
    rx,
    async cycle() {
      const polls = await forwarder.pipeline.pollOnce();
      assert.equal(polls[0]?.result.status, "ok", JSON.stringify(polls[0]?.result));
      assert.equal(await forwarder.pipeline.drainUntilEmpty(1), true);
    },
    async restart() {
      await forwarder.close();
      forwarder = buildForwarder(configSchema.parse(raw()), { log: silentLogger(), confirmAfterMs: 20 });
    },
    forwarder: () => forwarder,
  };
}

/** How often each FullId (cs3) arrived. */
function versions(rx: Receiver): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of rx.messages) {
    const id = parseCef(m).extension.get("cs3") ?? "";
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

const versionOf = (a: { id: string; lastUpdateTime: string }) =>
  `${a.id}@${canonicalTimestamp(a.lastUpdateTime)}`;
const incidentVersionOf = (i: { id: string; lastUpdateTime: string }) =>
  `incident:${i.id}@${canonicalTimestamp(i.lastUpdateTime)}`;

/** Queues faults through the simulator's control API, as a test in another process would. */
async function queueFaults(sim: Simulator, target: FaultTarget, faults: Fault[]): Promise<void> {
  const res = await fetch(`${sim.url}/_sim/faults`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ target, faults }),
  });
  assert.equal(res.status, 200, await res.text());
}

test("issue 12: Defender for Cloud and Sentinel alerts keep their service in CEF (Prefer: include-unknown-enum-members)", async (t) => {
  const { sim, rx, cycle } = await setup(t, "graph");
  const added = sim.addAlerts([
    { id: "cloud-1", serviceSource: "microsoftDefenderForCloud" },
    { id: "sentinel-1", serviceSource: "microsoftSentinel" },
    { id: "mdo-1", serviceSource: "microsoftDefenderForOffice365" },
    { id: "mde-1" },
  ]);
  await cycle();
  assert.equal(rx.messages.length, added.length);
  const byId = new Map(rx.messages.map((m) => [parseCef(m).extension.get("externalId"), parseCef(m)]));
  const expected: Record<string, { product: string; source: string }> = {
    "cloud-1": { product: "Microsoft Defender for Cloud", source: "microsoftDefenderForServers" },
    "sentinel-1": { product: "Microsoft Sentinel", source: "scheduledAlerts" },
    "mdo-1": { product: "Microsoft Defender for Office 365", source: "microsoftDefenderForOffice365" },
  };
  for (const [id, want] of Object.entries(expected)) {
    const cef = byId.get(id);
    assert.ok(cef, `${id} delivered`);
    assert.equal(cef.product, want.product, `${id} product`);
    assert.equal(cef.extension.get("sourceServiceName"), want.source, `${id} sourceServiceName`);
    assert.ok(!cef.classId.includes("unknownFutureValue"), `${id} class id ${cef.classId}`);
    const service = sim.alertsOf().find((a) => a.id === id)?.graph.serviceSource;
    assert.equal(cef.extension.get("MicrosoftDefenderServiceSource"), service);
  }
  assert.equal(
    byId.get("mde-1")?.product,
    "Microsoft Defender ATP",
    "Defender for Endpoint keeps its header",
  );
  for (const m of rx.messages) assert.doesNotMatch(m, /unknownFutureValue/);
});

test("issue 12: Alerts API, 130 alerts at one instant updated between page requests: every version delivered", async (t) => {
  // A short overlap: the next poll does not read the instant again, so a skipped version would stay lost.
  const { sim, rx, cycle } = await setup(t, "alerts", { poll: { max_per_request: 50, overlap: "1s" } });
  const at = Date.now() - 60_000;
  const alerts = sim.addAlerts(130, { from: at, to: at, sameTime: true });
  const originals = alerts.map(versionOf);
  // The range query's first page is the first 50 created; before each of the next requests three of them
  // change (status, evidence...), which moves them out of the instant: with $skip paging, three unread
  // alerts would slide back across the page boundary and never be read.
  const readFirst = alerts.slice(0, 50).map((a) => a.id);
  await queueFaults(sim, "alerts-api", [
    { kind: "none" },
    { kind: "update", alerts: readFirst.slice(0, 3) },
    { kind: "update", alerts: readFirst.slice(3, 6) },
    { kind: "update", alerts: readFirst.slice(6, 9) },
  ]);
  await cycle();
  await cycle();
  const got = versions(rx);
  for (const v of originals) assert.equal(got.get(v), 1, `original ${v} once`);
  const updated = sim.alertsOf().filter((a) => a.version > 0);
  assert.equal(updated.length, 9);
  for (const a of updated) assert.equal(got.get(versionOf(a)), 1, `update ${versionOf(a)} once`);
  assert.equal(rx.messages.length, 139);
  const instantQueries = sim.requests.filter((r) => String(r.query.$filter ?? "").includes(" eq "));
  assert.ok(instantQueries.length >= 3, "the instant was read by id");
  assert.ok(
    sim.requests.every((r) => r.query.$skip === undefined),
    "no $skip",
  );
});

for (const source of ["graph", "incidents"] as const) {
  test(`issue 12: ${source} with offset nextLinks, items updated between page requests: every version delivered`, async (t) => {
    // A short overlap: the next poll does not read the first pages again, so a skipped item would stay lost.
    const { sim, rx, cycle } = await setup(t, source, {
      sim: { graphPaging: "offset" },
      poll: { overlap: "1s" },
    });
    const now = Date.now();
    sim.addAlerts(120, { from: now - 30 * 60_000, to: now - 60_000 });
    const before =
      source === "graph" ? sim.alertsOf().map(versionOf) : sim.incidentsOf().map(incidentVersionOf);
    // Between pages, items of the first page change: an offset would skip as many unread ones.
    const firstPage =
      source === "graph"
        ? {
            alerts: [...sim.alertsOf()]
              .sort(byTime)
              .slice(0, 4)
              .map((a) => a.id),
          }
        : {
            incidents: [...sim.incidentsOf()]
              .sort(byTime)
              .slice(0, 4)
              .map((i) => i.id),
          };
    const half = (n: 0 | 1) =>
      Object.fromEntries(Object.entries(firstPage).map(([k, ids]) => [k, ids.slice(n * 2, n * 2 + 2)]));
    await queueFaults(sim, source, [
      { kind: "none" },
      { kind: "update", ...half(0) },
      { kind: "update", ...half(1) },
    ]);
    await cycle();
    await cycle();
    const got = versions(rx);
    for (const v of before) assert.equal(got.get(v), 1, `${v} once`);
    const after =
      source === "graph" ? sim.alertsOf().map(versionOf) : sim.incidentsOf().map(incidentVersionOf);
    for (const v of after) assert.equal(got.get(v), 1, `${v} once`);
    assert.equal(rx.messages.length, new Set([...before, ...after]).size, "nothing twice");
  });
}

function byTime(a: { lastUpdateTime: string }, b: { lastUpdateTime: string }): number {
  const x = canonicalTimestamp(a.lastUpdateTime) ?? "";
  const y = canonicalTimestamp(b.lastUpdateTime) ?? "";
  return x < y ? -1 : x > y ? 1 : 0;
}

test("issue 12: service_sources filters on the server", async (t) => {
  const wanted = ["microsoftSentinel", "microsoftDefenderForCloud"];
  const { sim, rx, cycle } = await setup(t, "graph", { tenant: { service_sources: wanted } });
  const now = Date.now();
  sim.addAlerts(10, { from: now - 60_000, to: now - 1_000 });
  sim.addAlerts([
    ...["s1", "s2", "s3"].map((id) => ({ id, serviceSource: "microsoftSentinel" })),
    ...["c1", "c2"].map((id) => ({ id, serviceSource: "microsoftDefenderForCloud" })),
    ...["o1", "o2"].map((id) => ({ id, serviceSource: "microsoftDefenderForOffice365" })),
  ]);
  await cycle();
  const delivered = rx.messages.map((m) => parseCef(m).extension.get("externalId")).sort();
  assert.deepEqual(delivered, ["c1", "c2", "s1", "s2", "s3"]);
  const graphCalls = sim.requests.filter((r) => r.path.includes("alerts_v2"));
  assert.ok(graphCalls.length >= 1);
  for (const call of graphCalls) {
    assert.match(
      String(call.query.$filter),
      /serviceSource eq 'microsoftSentinel' or serviceSource eq 'microsoftDefenderForCloud'/,
    );
  }
  assert.equal(
    graphCalls.reduce((n, r) => n + r.count, 0),
    5,
    "the API sent only the wanted services: the filter ran on the server",
  );
});

test("issue 12: every incident version is delivered once, across polls and a restart", async (t) => {
  const { sim, rx, cycle, restart } = await setup(t, "incidents");
  const now = Date.now();
  sim.addAlerts(90, { from: now - 40 * 60_000, to: now - 5 * 60_000 });
  const expected = new Set<string>();
  const snapshot = () => {
    for (const i of sim.incidentsOf()) expected.add(incidentVersionOf(i));
  };
  snapshot();
  assert.ok(expected.size > 25, `more incidents (${expected.size}) than a page of 25`);
  await cycle();

  // Alerts change (their incidents with them), alerts join incidents, analysts work on incidents.
  const incidents = sim.incidentsOf();
  for (const i of incidents.slice(0, 5)) sim.updateAlert(i.alertIds[0] ?? "", { status: "InProgress" });
  for (const i of incidents.slice(5, 10))
    sim.updateIncident(i.id, { status: "resolved", classification: "TruePositive" });
  sim.updateIncident(incidents[10]?.id ?? "", { addTag: "VIP" });
  snapshot();
  await cycle();
  await cycle(); // the overlap reads everything again: dropped as duplicates

  await restart();
  await cycle();
  sim.addAlerts(6, { from: Date.now() - 2_000, to: Date.now() - 1 });
  snapshot();
  await cycle();

  const got = versions(rx);
  for (const v of expected) assert.equal(got.get(v), 1, `${v} once`);
  assert.equal(rx.messages.length, expected.size, "nothing else, nothing twice");
  const cef = parseCef(rx.messages[0] ?? "");
  assert.equal(cef.product, "Microsoft Defender XDR");
  assert.equal(cef.classId, "MDE:Incident");
  const incident = sim.incidentsOf().find((i) => i.id === cef.extension.get("externalId"));
  assert.ok(incident, "externalId is the incident id");
  assert.ok(Number(cef.extension.get("MicrosoftDefenderAlertCount")) >= 1);
  // Every call asked for the alerts of each incident.
  const calls = sim.requests.filter((r) => r.path.includes("incidents"));
  assert.ok(
    calls.length > 0 && calls.every((r) => r.query.$expand === "alerts" || r.query.$skiptoken !== undefined),
  );
});
