// The simulator's Graph beyond Defender for Endpoint: alerts of every product with evolvable enum members
// hidden unless asked for, incidents grouping the alerts, and offset nextLinks.
import assert from "node:assert/strict";
import { test } from "node:test";
import { GRAPH_INCIDENTS_MAX_TOP } from "../../../src/simulator/index.js";
import { parseTimestamp } from "../../../src/timestamp.js";
import { GRAPH_SCOPE, getV2Token, type Json, manualClock, q, startSimulator, T0 } from "./helpers.js";

const PREFER = { prefer: "include-unknown-enum-members" };

async function get(url: string, token: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}`, ...headers } });
  const body = (await res.json()) as Json & { value: Json[] };
  return { res, body };
}

test("evolvable serviceSource and detectionSource members are unknownFutureValue unless the Prefer header asks", async (t) => {
  const clock = manualClock();
  const sim = await startSimulator(t, { clock: clock.fn });
  sim.addAlerts([
    { id: "cloud", serviceSource: "microsoftDefenderForCloud" },
    { id: "sentinel", serviceSource: "microsoftSentinel" },
    { id: "mdo", serviceSource: "microsoftDefenderForOffice365" },
    { id: "mde" },
  ]);
  const token = await getV2Token(sim, GRAPH_SCOPE);
  const url = `${sim.graphUrl}/v1.0/security/alerts_v2`;
  const plain = await get(url, token);
  const served = new Map(plain.body.value.map((a) => [String(a.id), a]));
  assert.equal(served.get("cloud")?.serviceSource, "unknownFutureValue");
  assert.equal(served.get("cloud")?.detectionSource, "unknownFutureValue");
  assert.equal(served.get("sentinel")?.serviceSource, "unknownFutureValue");
  assert.equal(served.get("mdo")?.serviceSource, "microsoftDefenderForOffice365");
  assert.equal(served.get("mde")?.serviceSource, "microsoftDefenderForEndpoint");
  assert.equal(plain.res.headers.get("preference-applied"), null);

  const asked = await get(url, token, { prefer: "odata.maxpagesize=10, include-unknown-enum-members" });
  const full = new Map(asked.body.value.map((a) => [String(a.id), a]));
  assert.equal(full.get("cloud")?.serviceSource, "microsoftDefenderForCloud");
  assert.equal(full.get("cloud")?.productName, "Microsoft Defender for Cloud");
  assert.equal(full.get("sentinel")?.serviceSource, "microsoftSentinel");
  assert.equal(full.get("sentinel")?.detectionSource, "scheduledAlerts");
  assert.equal(asked.res.headers.get("preference-applied"), "include-unknown-enum-members");
  const mdo = full.get("mdo");
  assert.ok(
    Array.isArray(mdo?.evidence) &&
      !(mdo.evidence as Json[]).some((e) => e["@odata.type"] === "#microsoft.graph.security.deviceEvidence"),
    "a mail alert has no device evidence",
  );

  // A filter on serviceSource, `or` between services, compares with what is sent.
  const filter = "(serviceSource eq 'microsoftSentinel' or serviceSource eq 'microsoftDefenderForOffice365')";
  const filtered = await get(`${url}?${q({ $filter: filter })}`, token, PREFER);
  assert.deepEqual(filtered.body.value.map((a) => a.id).sort(), ["mdo", "sentinel"]);
  const hidden = await get(`${url}?${q({ $filter: "serviceSource eq 'microsoftSentinel'" })}`, token);
  assert.equal(hidden.body.value.length, 0, "without the header, Sentinel alerts are unknownFutureValue");
});

test("serviceMix draws alerts from other products; the Alerts API serves only Defender for Endpoint's", async (t) => {
  const clock = manualClock();
  const sim = await startSimulator(t, { clock: clock.fn, serviceMix: 0.5, seed: 3 });
  sim.addAlerts(60, { from: T0 - 60_000, to: T0 });
  const services = new Set(sim.alertsOf().map((a) => String(a.graph.serviceSource)));
  assert.ok(services.size >= 4, `several products: ${[...services].join(", ")}`);
  assert.ok(services.has("microsoftDefenderForEndpoint"));
});

test("incidents group the alerts, change with them and on their own, and page like alerts", async (t) => {
  const clock = manualClock();
  const sim = await startSimulator(t, { clock: clock.fn, seed: 21 });
  sim.addAlerts(120, { from: T0 - 3_600_000, to: T0 });
  const token = await getV2Token(sim, GRAPH_SCOPE);
  const incidents = sim.incidentsOf();
  assert.ok(incidents.length > 10 && incidents.length < 120, `${incidents.length} incidents`);
  const grouped = incidents.find((i) => i.alertIds.length > 1);
  assert.ok(grouped, "an incident with several alerts");
  const alertIds = new Set(incidents.flatMap((i) => i.alertIds));
  assert.equal(alertIds.size, 120, "every alert in exactly one incident");

  const url = `${sim.graphUrl}/v1.0/security/incidents`;
  const first = await get(
    `${url}?${q({ $expand: "alerts", $orderby: "lastUpdateDateTime asc", $top: "20" })}`,
    token,
    PREFER,
  );
  assert.equal(first.res.status, 200);
  assert.equal(first.body["@odata.context"], `${sim.graphUrl}/v1.0/$metadata#security/incidents`);
  const one = first.body.value[0] as Json;
  for (const key of [
    "id",
    "incidentWebUrl",
    "displayName",
    "createdDateTime",
    "lastUpdateDateTime",
    "status",
    "severity",
    "classification",
    "determination",
    "assignedTo",
    "customTags",
    "systemTags",
    "alerts",
  ]) {
    assert.ok(key in one, `incident key ${key}`);
  }
  // Keyset nextLinks carry the expansion.
  let next = first.body["@odata.nextLink"];
  let seen = first.body.value.length;
  while (typeof next === "string") {
    const page = await get(next, token, PREFER);
    assert.ok((page.body.value[0] as Json).alerts !== undefined, "a later page keeps $expand=alerts");
    seen += page.body.value.length;
    next = page.body["@odata.nextLink"];
  }
  assert.equal(seen, incidents.length);
  const big = await fetch(`${url}?$top=${GRAPH_INCIDENTS_MAX_TOP + 1}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(big.status, 400);
  await big.text();

  // An alert update and an analyst's change each make a new version with a later lastUpdateDateTime.
  const before = parseTimestamp(grouped.lastUpdateTime) ?? 0n;
  clock.now += 1_000;
  sim.updateAlert(grouped.alertIds[0] ?? "", { status: "InProgress" });
  const afterAlert = sim.incidentsOf().find((i) => i.id === grouped.id);
  assert.ok(afterAlert && (parseTimestamp(afterAlert.lastUpdateTime) ?? 0n) > before);
  clock.now += 1_000;
  const changed = sim.updateIncident(grouped.id, { status: "resolved", classification: "TruePositive" });
  assert.equal(changed.version, (afterAlert?.version ?? 0) + 1);
  assert.equal((changed.graph as Json).classification, "truePositive");
  const filtered = await get(`${url}?${q({ $filter: "status eq 'resolved'" })}`, token, PREFER);
  assert.ok(filtered.body.value.some((i) => i.id === grouped.id));
});

test("offset paging: nextLinks carry $skip, so an update between pages shifts the rest", async (t) => {
  const clock = manualClock();
  const sim = await startSimulator(t, { clock: clock.fn, graphPaging: "offset" });
  const added = sim.addAlerts(10, { from: T0 - 60_000, to: T0 });
  const token = await getV2Token(sim, GRAPH_SCOPE);
  const url = `${sim.graphUrl}/v1.0/security/alerts_v2?${q({ $orderby: "lastUpdateDateTime asc", $top: "4" })}`;
  const first = await get(url, token);
  const next = String(first.body["@odata.nextLink"]);
  assert.match(next, /\$skip=4/);
  clock.now += 1_000;
  sim.updateAlert(String(first.body.value[0]?.id));
  const second = await get(next, token);
  assert.equal(second.body.value[0]?.id, added[5]?.id, "the 5th alert moved up into the first page: skipped");
});
