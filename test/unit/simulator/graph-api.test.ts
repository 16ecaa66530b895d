import assert from "node:assert/strict";
import { test } from "node:test";
import { DEMO_TENANT, GRAPH_MAX_TOP } from "../../../src/simulator/index.js";
import { parseTimestamp } from "../../../src/timestamp.js";
import {
  ALERTS_API_SCOPE,
  GRAPH_SCOPE,
  getToken,
  getV2Token,
  graphPage,
  graphRequest,
  type Json,
  manualClock,
  mdeAlerts,
  q,
  startSimulator,
  T0,
} from "./helpers.js";

const ticks = (text: unknown): bigint => {
  const t = parseTimestamp(text);
  assert.ok(t !== undefined, `not a timestamp: ${String(text)}`);
  return t;
};
const ids = (alerts: Json[]): string[] => alerts.map((a) => String(a.id));

async function graphSim(t: Parameters<typeof startSimulator>[0], n: number, seed = 11) {
  const clock = manualClock();
  const sim = await startSimulator(t, { clock: clock.fn, seed });
  sim.addAlerts(n, { from: T0 - 3_600_000, to: T0 });
  const token = await getV2Token(sim, GRAPH_SCOPE);
  return { sim, token, clock };
}

/** Follows @odata.nextLink from a first query; returns every page. */
async function allPages(
  token: string,
  first: Json & { value: Json[] },
): Promise<Array<Json & { value: Json[] }>> {
  const pages = [first];
  let next = first["@odata.nextLink"];
  while (typeof next === "string") {
    const res = await fetch(next, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    const page = (await res.json()) as Json & { value: Json[] };
    pages.push(page);
    next = page["@odata.nextLink"];
  }
  return pages;
}

test("serves Graph's alert shape, with typed evidence led by the device", async (t) => {
  const { sim, token } = await graphSim(t, 40, 5);
  const res = await graphRequest(sim, token);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("request-id") ?? "", /^[0-9a-f-]{36}$/);
  const body = (await res.json()) as Json & { value: Json[] };
  assert.deepEqual(Object.keys(body), ["@odata.context", "value"]);
  assert.equal(body["@odata.context"], `${sim.graphUrl}/v1.0/$metadata#security/alerts_v2`);
  assert.equal(body.value.length, 40);
  const types = new Set<string>();
  for (const a of body.value) {
    for (const key of [
      "@odata.type",
      "id",
      "providerAlertId",
      "incidentId",
      "status",
      "severity",
      "classification",
      "determination",
      "serviceSource",
      "detectionSource",
      "detectorId",
      "tenantId",
      "title",
      "description",
      "recommendedActions",
      "category",
      "assignedTo",
      "alertWebUrl",
      "incidentWebUrl",
      "actorDisplayName",
      "threatDisplayName",
      "threatFamilyName",
      "mitreTechniques",
      "createdDateTime",
      "lastUpdateDateTime",
      "resolvedDateTime",
      "firstActivityDateTime",
      "lastActivityDateTime",
      "comments",
      "evidence",
    ]) {
      assert.ok(key in a, `${key} missing`);
    }
    assert.equal(a["@odata.type"], "#microsoft.graph.security.alert");
    assert.equal(typeof a.incidentId, "string");
    assert.ok(["new", "inProgress", "resolved"].includes(String(a.status)));
    assert.ok(["unknown", "informational", "low", "medium", "high"].includes(String(a.severity)));
    assert.ok(
      ["unknown", "truePositive", "falsePositive", "informationalExpectedActivity"].includes(
        String(a.classification),
      ),
    );
    assert.equal(a.serviceSource, "microsoftDefenderForEndpoint");
    assert.ok(
      ["antivirus", "microsoftDefenderForEndpoint", "customTi", "smartScreen"].includes(
        String(a.detectionSource),
      ),
    );
    assert.equal(a.tenantId, DEMO_TENANT.tenantId);
    assert.equal(a.alertWebUrl, `https://security.microsoft.com/alerts/${a.id}?tid=${DEMO_TENANT.tenantId}`);
    const evidence = a.evidence as Json[];
    assert.equal(evidence[0]?.["@odata.type"], "#microsoft.graph.security.deviceEvidence");
    for (const e of evidence) {
      types.add(String(e["@odata.type"]).replace("#microsoft.graph.security.", ""));
      assert.ok(Array.isArray(e.roles) && Array.isArray(e.tags));
    }
  }
  for (const type of [
    "deviceEvidence",
    "fileEvidence",
    "processEvidence",
    "userEvidence",
    "ipEvidence",
    "urlEvidence",
  ]) {
    assert.ok(types.has(type), type);
  }
  assert.ok(types.has("registryKeyEvidence") || types.has("registryValueEvidence"));
});

test("the same alerts in both shapes: one store, two renderings", async (t) => {
  const { sim, token } = await graphSim(t, 25, 9);
  const graph = (await graphPage(sim, token)).value;
  const mde = await mdeAlerts(sim, await getV2Token(sim, ALERTS_API_SCOPE), "$expand=evidence");
  assert.equal(graph.length, 25);
  const byId = new Map(mde.map((a) => [a.id, a]));
  for (const g of graph) {
    const m = byId.get(g.id);
    assert.ok(m, `${String(g.id)} missing from the Alerts API`);
    assert.equal(g.providerAlertId, m.id);
    assert.equal(g.incidentId, String(m.incidentId));
    assert.equal(g.lastUpdateDateTime, m.lastUpdateTime);
    assert.equal(g.createdDateTime, m.alertCreationTime);
    assert.equal(g.resolvedDateTime, m.resolvedTime);
    assert.equal(g.firstActivityDateTime, m.firstEventTime);
    assert.equal(g.title, m.title);
    assert.equal(g.category, m.category);
    assert.equal(g.assignedTo, m.assignedTo);
    assert.equal(g.tenantId, m.aadTenantId);
    assert.equal(g.threatDisplayName, m.threatName);
    assert.deepEqual(g.mitreTechniques, m.mitreTechniques);
    assert.equal(String(g.status).toLowerCase(), String(m.status).toLowerCase());
    assert.equal(String(g.severity), String(m.severity).toLowerCase());
    assert.equal(
      g.classification,
      m.classification === null ? "unknown" : lowerFirst(String(m.classification)),
    );
    const device = (g.evidence as Json[])[0];
    assert.equal(device?.mdeDeviceId, m.machineId);
    assert.equal(device?.deviceDnsName, m.computerDnsName);
    // Graph adds the device to the Alerts API's evidence, one for one after it.
    assert.equal((g.evidence as Json[]).length, (m.evidence as Json[]).length + 1);
  }
});

test("$filter on lastUpdateDateTime: ge, gt and le at 100-ns precision, mixed fraction digits", async (t) => {
  const sim = await startSimulator(t, { clock: manualClock().fn });
  sim.addAlerts([
    { id: "a", lastUpdateTime: "2024-05-01T11:59:59.2Z" },
    { id: "b", lastUpdateTime: "2024-05-01T11:59:59.2000001Z" },
    { id: "c", lastUpdateTime: "2024-05-01T11:59:59.19Z" },
    { id: "d", lastUpdateTime: "2024-05-01T11:59:59.1999999Z" },
    { id: "e", lastUpdateTime: "2024-05-01T11:59:59.2000100Z" },
  ]);
  const token = await getV2Token(sim, GRAPH_SCOPE);
  const filter = async (f: string) =>
    ids((await graphPage(sim, token, q({ $filter: f, $orderby: "lastUpdateDateTime asc" }))).value);
  assert.deepEqual(await filter("lastUpdateDateTime ge 2024-05-01T11:59:59.2Z"), ["a", "b", "e"]);
  assert.deepEqual(await filter("lastUpdateDateTime gt 2024-05-01T11:59:59.2Z"), ["b", "e"]);
  assert.deepEqual(await filter("lastUpdateDateTime gt 2024-05-01T11:59:59.20000009Z"), ["b", "e"]);
  assert.deepEqual(await filter("lastUpdateDateTime le 2024-05-01T11:59:59.1999999Z"), ["c", "d"]);
  assert.deepEqual(
    await filter(
      "lastUpdateDateTime ge 2024-05-01T11:59:59.1999999Z and lastUpdateDateTime le 2024-05-01T11:59:59.2000001Z",
    ),
    ["d", "a", "b"],
  );
  assert.deepEqual(await filter("lastUpdateDateTime eq 2024-05-01T11:59:59.20Z"), ["a"]);
  // Other documented filter properties, in Graph's spelling.
  assert.deepEqual(
    ids(
      (await graphPage(sim, token, q({ $filter: "serviceSource eq 'microsoftDefenderForEndpoint'" }))).value,
    ).length,
    5,
  );
  const res = await graphRequest(sim, token, q({ $filter: "lastUpdateTime ge 2024-05-01T11:59:59Z" }));
  assert.equal(res.status, 400, "the Alerts API's property name is not Graph's");
  const err = (await res.json()) as { error: { code: string; innerError: Json } };
  assert.equal(err.error.code, "BadRequest");
  assert.deepEqual(Object.keys(err.error.innerError), ["date", "request-id", "client-request-id"]);
});

test("$filter on status, severity and classification uses Graph's enum members", async (t) => {
  const { sim, token } = await graphSim(t, 60, 4);
  const expect = (pred: (g: Readonly<Json>) => boolean) =>
    sim.alerts
      .filter((a) => pred(a.graph))
      .map((a) => a.id)
      .sort();
  const got = async (f: string) => ids((await graphPage(sim, token, q({ $filter: f }))).value).sort();
  const inProgress = expect((g) => g.status === "inProgress");
  assert.ok(inProgress.length > 0);
  assert.deepEqual(await got("status eq 'inProgress'"), inProgress);
  assert.deepEqual(
    await got("severity eq 'high' and status ne 'resolved'"),
    expect((g) => g.severity === "high" && g.status !== "resolved"),
  );
  assert.deepEqual(
    await got("classification eq 'unknown'"),
    expect((g) => g.classification === "unknown"),
  );
  const created = String(sim.alerts[10]?.graph.createdDateTime);
  assert.deepEqual(
    await got(`createdDateTime ge ${created}`),
    expect((g) => ticks(g.createdDateTime) >= ticks(created)),
  );
});

test("$orderby, $top, $skip and $count", async (t) => {
  const { sim, token } = await graphSim(t, 12);
  const asc = [...sim.alerts]
    .sort((x, y) => (ticks(x.lastUpdateTime) < ticks(y.lastUpdateTime) ? -1 : 1))
    .map((a) => a.id);
  const page = async (params: Record<string, string>) => graphPage(sim, token, q(params));
  assert.deepEqual(ids((await page({ $orderby: "lastUpdateDateTime asc" })).value), asc);
  assert.deepEqual(ids((await page({ $orderby: "lastUpdateDateTime desc" })).value), [...asc].reverse());
  // Without $orderby: "the most recent alerts are displayed at the top of the list".
  assert.deepEqual(ids((await page({})).value), [...asc].reverse());
  const skipped = await page({ $orderby: "lastUpdateDateTime asc", $skip: "3", $top: "4" });
  assert.deepEqual(ids(skipped.value), asc.slice(3, 7));
  assert.equal(typeof skipped["@odata.nextLink"], "string", "more remain after this page");
  const counted = await page({
    $count: "true",
    $top: "2",
    $filter: `lastUpdateDateTime ge ${sim.alerts[0]?.lastUpdateTime}`,
  });
  const expected = sim.alerts.filter(
    (a) => ticks(a.lastUpdateTime) >= ticks(sim.alerts[0]?.lastUpdateTime),
  ).length;
  assert.equal(counted["@odata.count"], expected);
  assert.deepEqual(Object.keys(counted), ["@odata.context", "@odata.count", "value", "@odata.nextLink"]);
  // The count stays the whole result's on the following pages.
  const second = await allPages(token, counted);
  assert.ok(second.every((p) => p["@odata.count"] === expected));
  const last = await page({ $orderby: "lastUpdateDateTime asc", $skip: "10" });
  assert.equal(last.value.length, 2);
  assert.ok(!("@odata.nextLink" in last), "no next link on the last page");
  for (const bad of [`${GRAPH_MAX_TOP + 1}`, "x"]) {
    assert.equal((await graphRequest(sim, token, q({ $top: bad }))).status, 400);
  }
  assert.equal((await graphRequest(sim, token, q({ $orderby: "createdDateTime asc" }))).status, 400);
  assert.equal((await graphRequest(sim, token, q({ $expand: "evidence" }))).status, 400);
});

test("@odata.nextLink pages through 5 pages with no alert lost or repeated", async (t) => {
  const { sim, token } = await graphSim(t, 23);
  const first = await graphPage(
    sim,
    token,
    q({
      $filter: `lastUpdateDateTime ge ${new Date(T0 - 3_600_000).toISOString()}`,
      $orderby: "lastUpdateDateTime asc",
      $top: "5",
    }),
  );
  const pages = await allPages(token, first);
  assert.deepEqual(
    pages.map((p) => p.value.length),
    [5, 5, 5, 5, 3],
  );
  for (const p of pages.slice(0, 4)) {
    const next = String(p["@odata.nextLink"]);
    assert.ok(next.startsWith(`${sim.graphUrl}/v1.0/security/alerts_v2?$skiptoken=`), next);
  }
  const seen = pages.flatMap((p) => ids(p.value));
  assert.equal(new Set(seen).size, 23, "no alert twice");
  assert.deepEqual([...seen].sort(), sim.alerts.map((a) => a.id).sort());
  const times = pages.flatMap((p) => p.value.map((a) => ticks(a.lastUpdateDateTime)));
  assert.ok(
    times.every((x, i) => i === 0 || (times[i - 1] ?? 0n) <= x),
    "ascending across pages",
  );

  // Descending, the default order, pages just as well.
  const desc = await allPages(token, await graphPage(sim, token, q({ $top: "5" })));
  assert.equal(desc.length, 5);
  assert.deepEqual(
    desc.flatMap((p) => ids(p.value)),
    [...seen].reverse(),
  );
});

test("an alert updated while a client pages is never lost: it comes again after the cursor", async (t) => {
  const { sim, token, clock } = await graphSim(t, 20);
  const first = await graphPage(sim, token, q({ $orderby: "lastUpdateDateTime asc", $top: "5" }));
  const firstIds = ids(first.value);
  // An offset-based continuation would skip an alert here: the updated one leaves page 2's range.
  const page2 = await graphPage(sim, token, q({ $orderby: "lastUpdateDateTime asc", $top: "5", $skip: "5" }));
  const moved = String(page2.value[0]?.id);
  clock.now = T0 + 60_000;
  sim.updateAlert(moved, { status: "InProgress" });
  const rest = await allPages(token, first);
  const seen = rest.flatMap((p) => ids(p.value));
  assert.deepEqual(seen.slice(0, 5), firstIds);
  assert.deepEqual([...new Set(seen)].sort(), sim.alerts.map((a) => a.id).sort(), "every alert seen");
  assert.equal(seen[seen.length - 1], moved, "the updated alert comes last, with its new time");
  assert.equal(seen.length, 20);
});

test("a $skiptoken is opaque and alone; a bad one is a 400", async (t) => {
  const { sim, token } = await graphSim(t, 6);
  const first = await graphPage(sim, token, q({ $top: "2" }));
  const next = String(first["@odata.nextLink"]);
  const tampered = await fetch(`${next}&$top=3`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(tampered.status, 400);
  await tampered.text();
  const garbage = await graphRequest(sim, token, "$skiptoken=bm90LWpzb24");
  assert.equal(garbage.status, 400);
  assert.match(((await garbage.json()) as { error: { message: string } }).error.message, /skiptoken/);
});

test("only tokens for a Graph resource are accepted, with Graph's error body", async (t) => {
  const { sim } = await graphSim(t, 3);
  const refused = async (token: string | undefined, message: RegExp) => {
    const res = await fetch(`${sim.graphUrl}/v1.0/security/alerts_v2`, {
      headers: {
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        "client-request-id": "abc-123",
      },
    });
    assert.equal(res.status, 401);
    const body = (await res.json()) as { error: { code: string; message: string; innerError: Json } };
    assert.equal(body.error.code, "InvalidAuthenticationToken");
    assert.match(body.error.message, message);
    assert.equal(body.error.innerError["client-request-id"], "abc-123");
  };
  await refused(undefined, /empty/);
  await refused("sim.forged", /validation failure/);
  await refused(await getV2Token(sim, ALERTS_API_SCOPE), /Invalid audience/);
  await refused(await getToken(sim), /Invalid audience/);
  // The US Government clouds' Graph is Graph too.
  assert.equal(
    (await graphPage(sim, await getV2Token(sim, "https://graph.microsoft.us/.default"))).value.length,
    3,
  );
});

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}
