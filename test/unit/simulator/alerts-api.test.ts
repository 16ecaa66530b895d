import assert from "node:assert/strict";
import { test } from "node:test";
import { ALERTS_API_MAX_TOP, DEMO_TENANT } from "../../../src/simulator/index.js";
import { parseTimestamp } from "../../../src/timestamp.js";
import {
  ALERTS_API_SCOPE,
  GRAPH_SCOPE,
  getToken,
  getV2Token,
  type Json,
  manualClock,
  mdeAlerts,
  mdeRequest,
  q,
  startSimulator,
  T0,
  tokenRequest,
} from "./helpers.js";

/** lastUpdateTime values around 11:59:59.2 with 1 to 7 fraction digits, as the real API mixes them. */
const MIXED = {
  a: "2024-05-01T11:59:59.2Z", // .2000000
  b: "2024-05-01T11:59:59.2000001Z",
  c: "2024-05-01T11:59:59.19Z", // .1900000
  d: "2024-05-01T11:59:59.1999999Z",
  e: "2024-05-01T11:59:59.20001Z", // .2000100
  f: "2024-05-01T11:59:58.999Z",
  g: "2024-05-01T11:59:59.123456Z",
} as const;

const ticks = (text: unknown): bigint => {
  const t = parseTimestamp(text);
  assert.ok(t !== undefined, `not a timestamp: ${String(text)}`);
  return t;
};

async function mixedSim(t: Parameters<typeof startSimulator>[0]) {
  const clock = manualClock();
  const sim = await startSimulator(t, { clock: clock.fn });
  const added = sim.addAlerts(Object.entries(MIXED).map(([id, lastUpdateTime]) => ({ id, lastUpdateTime })));
  const token = await getV2Token(sim, ALERTS_API_SCOPE);
  return { sim, token, added, clock };
}

const ids = (alerts: Json[]): string[] => alerts.map((a) => String(a.id));

test("serves the documented alert shape, with every key of Microsoft's example", async (t) => {
  const clock = manualClock();
  const sim = await startSimulator(t, { clock: clock.fn, seed: 7 });
  sim.addAlerts(30);
  const token = await getV2Token(sim, ALERTS_API_SCOPE);
  const res = await mdeRequest(sim, token, "$expand=evidence");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  const body = (await res.json()) as { "@odata.context": string; value: Json[] };
  assert.deepEqual(Object.keys(body), ["@odata.context", "value"]);
  assert.equal(body["@odata.context"], `${sim.alertsApiUrl}/api/$metadata#Alerts`);
  assert.equal(body.value.length, 30);
  const keys = [
    "id",
    "incidentId",
    "investigationId",
    "assignedTo",
    "severity",
    "status",
    "classification",
    "determination",
    "investigationState",
    "detectionSource",
    "detectorId",
    "category",
    "threatFamilyName",
    "threatName",
    "title",
    "description",
    "alertCreationTime",
    "firstEventTime",
    "lastEventTime",
    "lastUpdateTime",
    "resolvedTime",
    "machineId",
    "computerDnsName",
    "rbacGroupName",
    "aadTenantId",
    "relatedUser",
    "mitreTechniques",
    "comments",
    "evidence",
  ];
  const entityTypes = new Set<string>();
  for (const a of body.value) {
    assert.deepEqual(Object.keys(a), keys);
    assert.match(String(a.id), /^da\d{18}_-?\d+$/);
    assert.equal(typeof a.incidentId, "number");
    assert.ok(["UnSpecified", "Informational", "Low", "Medium", "High"].includes(String(a.severity)));
    assert.ok(["Unknown", "New", "InProgress", "Resolved"].includes(String(a.status)));
    assert.ok(
      ["WindowsDefenderAv", "WindowsDefenderAtp", "CustomerTI", "WindowsDefenderSmartScreen"].includes(
        String(a.detectionSource),
      ),
    );
    assert.equal(a.aadTenantId, DEMO_TENANT.tenantId);
    assert.equal(a.resolvedTime === null, a.status !== "Resolved");
    assert.ok(ticks(a.alertCreationTime) <= ticks(a.lastUpdateTime));
    assert.ok(ticks(a.firstEventTime) <= ticks(a.lastEventTime));
    for (const e of a.evidence as Json[]) {
      entityTypes.add(String(e.entityType));
      assert.equal(
        Object.keys(e).length,
        25,
        "every evidence field is present, null where it does not apply",
      );
      if (e.entityType === "User") assert.equal(typeof e.accountName, "string");
      if (e.entityType === "Process") assert.equal(typeof e.processCommandLine, "string");
      if (e.entityType === "Ip") assert.match(String(e.ipAddress), /^\d+\.\d+\.\d+\.\d+$/);
    }
  }
  for (const type of ["Process", "User", "Ip", "Url", "File"]) assert.ok(entityTypes.has(type), type);
  // What the API serves is what the simulator reports it holds.
  assert.deepEqual(body.value.map((a) => a.id).sort(), sim.alerts.map((a) => a.id).sort());
  const first = body.value[0];
  assert.deepEqual(first, sim.alerts.find((a) => a.id === first?.id)?.alertsApi);
});

test("generated lastUpdateTime values mix 1 to 7 fraction digits", async (t) => {
  const sim = await startSimulator(t, { clock: manualClock().fn });
  const digits = new Set(sim.addAlerts(300).map((a) => /\.(\d+)Z$/.exec(a.lastUpdateTime)?.[1]?.length ?? 0));
  assert.deepEqual([...digits].sort(), [1, 2, 3, 4, 5, 6, 7]);
});

test("$filter on lastUpdateTime: ge, gt and le compare at 100-ns precision whatever the digits", async (t) => {
  const { sim, token } = await mixedSim(t);
  const filter = async (f: string) =>
    ids(await mdeAlerts(sim, token, q({ $filter: f, $orderby: "lastUpdateTime asc" })));

  assert.deepEqual(await filter("lastUpdateTime ge 2024-05-01T11:59:59.2Z"), ["a", "b", "e"]);
  assert.deepEqual(await filter("lastUpdateTime ge 2024-05-01T11:59:59.200Z"), ["a", "b", "e"]);
  assert.deepEqual(await filter("lastUpdateTime gt 2024-05-01T11:59:59.2000000Z"), ["b", "e"]);
  assert.deepEqual(await filter("lastUpdateTime gt 2024-05-01T11:59:59.2000001Z"), ["e"]);
  assert.deepEqual(await filter("lastUpdateTime le 2024-05-01T11:59:59.19Z"), ["f", "g", "c"]);
  assert.deepEqual(await filter("lastUpdateTime lt 2024-05-01T11:59:59.19Z"), ["f", "g"]);
  assert.deepEqual(
    await filter(
      "lastUpdateTime ge 2024-05-01T11:59:59.19Z and lastUpdateTime le 2024-05-01T11:59:59.2000001Z",
    ),
    ["c", "d", "a", "b"],
  );
  assert.deepEqual(
    await filter(
      "(lastUpdateTime gt 2024-05-01T11:59:59.1999999Z) and lastUpdateTime lt 2024-05-01T11:59:59.2000100Z",
    ),
    ["a", "b"],
  );
  // An offset is honoured: 13:59:59.2+02:00 is 11:59:59.2Z.
  assert.deepEqual(await filter("lastUpdateTime ge 2024-05-01T13:59:59.2+02:00"), ["a", "b", "e"]);
  // Each alert is served with its own text, not a normalised one.
  const served = await mdeAlerts(sim, token, q({ $filter: "lastUpdateTime ge 2024-05-01T11:59:59.2Z" }));
  assert.deepEqual(Object.fromEntries(served.map((a) => [a.id, a.lastUpdateTime])), {
    a: MIXED.a,
    b: MIXED.b,
    e: MIXED.e,
  });
});

test("$filter on other documented properties, joined by and", async (t) => {
  const sim = await startSimulator(t, { clock: manualClock().fn, seed: 3 });
  const all = sim.addAlerts(80);
  const token = await getV2Token(sim, ALERTS_API_SCOPE);
  const resolvedHigh = all
    .filter((a) => a.status === "Resolved" && a.alertsApi.severity === "High")
    .map((a) => a.id)
    .sort();
  assert.ok(resolvedHigh.length > 0, "the seed gives some resolved high alerts");
  const got = await mdeAlerts(sim, token, q({ $filter: "status eq 'Resolved' and severity eq 'High'" }));
  assert.deepEqual(ids(got).sort(), resolvedHigh);

  const one = all[5];
  assert.ok(one);
  const byIncident = await mdeAlerts(sim, token, q({ $filter: `incidentId eq ${one.alertsApi.incidentId}` }));
  assert.ok(byIncident.length >= 1 && byIncident.every((a) => a.incidentId === one.alertsApi.incidentId));
  const unassigned = await mdeAlerts(sim, token, q({ $filter: "assignedTo eq null" }));
  assert.deepEqual(
    ids(unassigned).sort(),
    all
      .filter((a) => a.alertsApi.assignedTo === null)
      .map((a) => a.id)
      .sort(),
  );
  const created = String(one.alertsApi.alertCreationTime);
  const since = await mdeAlerts(sim, token, q({ $filter: `alertCreationTime ge ${created}` }));
  assert.ok(since.length > 0 && since.every((a) => ticks(a.alertCreationTime) >= ticks(created)));
});

test("$orderby lastUpdateTime asc and desc; without it, newest first", async (t) => {
  const { sim, token } = await mixedSim(t);
  const asc = ids(await mdeAlerts(sim, token, q({ $orderby: "lastUpdateTime asc" })));
  assert.deepEqual(asc, ["f", "g", "c", "d", "a", "b", "e"]);
  assert.deepEqual(ids(await mdeAlerts(sim, token, q({ $orderby: "lastUpdateTime" }))), asc);
  assert.deepEqual(
    ids(await mdeAlerts(sim, token, q({ $orderby: "lastUpdateTime desc" }))),
    [...asc].reverse(),
  );
  assert.deepEqual(ids(await mdeAlerts(sim, token)), [...asc].reverse());
  const bad = await mdeRequest(sim, token, q({ $orderby: "severity asc" }));
  assert.equal(bad.status, 400);
  assert.equal(((await bad.json()) as { error: { code: string } }).error.code, "ODataError");
});

test("$top and $skip page through the ordered result", async (t) => {
  const { sim, token } = await mixedSim(t);
  const order = ["f", "g", "c", "d", "a", "b", "e"];
  const page = async (params: Record<string, string>) =>
    ids(await mdeAlerts(sim, token, q({ $orderby: "lastUpdateTime asc", ...params })));
  assert.deepEqual(await page({ $top: "3" }), order.slice(0, 3));
  assert.deepEqual(await page({ $top: "3", $skip: "2" }), order.slice(2, 5));
  assert.deepEqual(await page({ $skip: "5" }), order.slice(5));
  assert.deepEqual(await page({ $skip: "7" }), []);
  assert.deepEqual(await page({ $top: "0" }), []);
  assert.deepEqual(
    await page({ $filter: "lastUpdateTime gt 2024-05-01T11:59:59.19Z", $top: "2", $skip: "1" }),
    ["a", "b"],
  );
  const bads: Array<Record<string, string>> = [
    { $top: String(ALERTS_API_MAX_TOP + 1) },
    { $top: "-1" },
    { $skip: "x" },
  ];
  for (const bad of bads) {
    const res = await mdeRequest(sim, token, q(bad));
    assert.equal(res.status, 400, JSON.stringify(bad));
    const body = (await res.json()) as { error: { code: string; message: string; target: string } };
    assert.deepEqual(Object.keys(body.error), ["code", "message", "target"]);
  }
  assert.equal((await mdeAlerts(sim, token, q({ $top: String(ALERTS_API_MAX_TOP) }))).length, 7);
});

test("without $top at most 10,000 alerts come back: the newest, as there is no next link", async (t) => {
  const clock = manualClock();
  const sim = await startSimulator(t, { clock: clock.fn });
  sim.addAlerts(ALERTS_API_MAX_TOP + 5, { from: T0 - 3_600_000, to: T0 });
  const token = await getV2Token(sim, ALERTS_API_SCOPE);
  const res = await mdeRequest(sim, token);
  const body = (await res.json()) as Json;
  assert.deepEqual(Object.keys(body), ["@odata.context", "value"]);
  const value = body.value as Json[];
  assert.equal(value.length, ALERTS_API_MAX_TOP);
  const oldest = [...sim.alerts].sort((x, y) => (ticks(x.lastUpdateTime) < ticks(y.lastUpdateTime) ? -1 : 1));
  const left = new Set(oldest.slice(0, 5).map((a) => a.id));
  assert.ok(
    value.every((a) => !left.has(String(a.id))),
    "the five oldest are the ones left out",
  );
});

test("evidence only with $expand=evidence", async (t) => {
  const { sim, token } = await mixedSim(t);
  const plain = await mdeAlerts(sim, token);
  assert.ok(plain.every((a) => !("evidence" in a)));
  const expanded = await mdeAlerts(sim, token, "$expand=evidence");
  assert.ok(expanded.every((a) => Array.isArray(a.evidence)));
  assert.deepEqual(
    plain.map((a) => Object.keys(a)),
    expanded.map((a) => Object.keys(a).filter((k) => k !== "evidence")),
  );
  assert.equal((await mdeRequest(sim, token, "$expand=comments")).status, 400);
});

test("malformed or unsupported query options are 400 ODataError, unknown plain parameters are ignored", async (t) => {
  const { sim, token } = await mixedSim(t);
  const cases: Array<Record<string, string>> = [
    { $filter: "lastUpdateTime ge '2024-05-01T11:59:59Z'" }, // quoted: a string, not a DateTimeOffset
    { $filter: "lastUpdateTime ge 2024-05-01T11:59:59" }, // no offset
    { $filter: "lastUpdateTime ge 2024-13-01T11:59:59Z" },
    { $filter: "lastUpdateTime ge" },
    { $filter: "title eq 'x'" }, // not filterable
    { $filter: "status gt 'New'" },
    { $filter: "lastUpdateTime ge 2024-05-01T11:59:59Z or status eq 'Resolved'" }, // cursor under `or`
    { $filter: "not (status eq 'New')" },
    { $orderby: "id asc" }, // by id only within one instant
    { $orderby: "lastUpdateTime asc, id desc" },
    { $filter: "" },
    { $select: "id" },
    { $count: "true" },
    { $skiptoken: "abc" },
  ];
  for (const c of cases) {
    const res = await mdeRequest(sim, token, q(c));
    assert.equal(res.status, 400, JSON.stringify(c));
    const body = (await res.json()) as { error: { code: string } };
    assert.equal(body.error.code, "ODataError");
  }
  assert.equal((await mdeRequest(sim, token, "$top=1&$top=2")).status, 400);
  assert.equal((await mdeAlerts(sim, token, "foo=bar")).length, 7);
  // IIS paths are case-insensitive, and the versioned path works too.
  const versioned = await fetch(`${sim.alertsApiUrl}/API/v1.0/Alerts/`, {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(versioned.status, 200);
  assert.equal(((await versioned.json()) as { value: unknown[] }).value.length, 7);
  const post = await fetch(`${sim.alertsApiUrl}/api/alerts`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(post.status, 405);
  await post.text();
});

test("only tokens for an Alerts API resource are accepted", async (t) => {
  const { sim } = await mixedSim(t);
  const unauthorized = async (token: string | undefined, why: string) => {
    const res = await mdeRequest(sim, token);
    assert.equal(res.status, 401, why);
    assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer/);
    const body = (await res.json()) as { error: { code: string; target: string } };
    assert.equal(body.error.code, "Unauthorized");
    assert.match(body.error.target, /^[0-9a-f-]{36}$/);
  };
  await unauthorized(undefined, "no token");
  await unauthorized("sim.forged", "unknown token");
  await unauthorized(await getV2Token(sim, GRAPH_SCOPE), "a Graph token");
  await unauthorized(await getToken(sim), "a SIEM API (graph.windows.net) token");
  // The v1 endpoint with the Alerts API resource (what Elastic's integration does) is fine, as is the
  // portal's older application id URI.
  const v1 = await tokenRequest(sim, {
    grant_type: "client_credentials",
    client_id: DEMO_TENANT.clientId,
    client_secret: DEMO_TENANT.clientSecret,
    resource: "https://api.securitycenter.windows.com/",
  });
  const v1Token = ((await v1.json()) as { access_token: string }).access_token;
  assert.equal((await mdeAlerts(sim, v1Token)).length, 7);
  const legacy = await getV2Token(sim, "https://securitycenter.onmicrosoft.com/windowsatpservice/.default");
  assert.equal((await mdeAlerts(sim, legacy)).length, 7);
});

test("an instant is paged by id: `lastUpdateTime eq` with `id gt`, $orderby=id; only Endpoint alerts", async (t) => {
  const clock = manualClock();
  const sim = await startSimulator(t, { clock: clock.fn });
  const at = "2024-05-01T11:59:59.5Z";
  sim.addAlerts(["c", "a", "e", "b", "d"].map((id) => ({ id, lastUpdateTime: at })));
  sim.addAlerts([{ id: "o365", lastUpdateTime: at, serviceSource: "microsoftDefenderForOffice365" }]);
  const token = await getV2Token(sim, ALERTS_API_SCOPE);
  const page = async (filter: string, orderby: string) =>
    ids(await mdeAlerts(sim, token, q({ $filter: filter, $orderby: orderby, $top: "2" })));
  assert.deepEqual(await page(`lastUpdateTime eq ${at}`, "id asc"), ["a", "b"]);
  assert.deepEqual(await page(`lastUpdateTime eq ${at} and id gt 'b'`, "id asc"), ["c", "d"]);
  assert.deepEqual(await page(`lastUpdateTime eq ${at} and id gt 'd'`, "id asc"), ["e"]);
  assert.deepEqual(await page(`lastUpdateTime ge ${at}`, "lastUpdateTime asc, id asc"), ["a", "b"]);
  // Ties without id: creation order.
  assert.deepEqual(await page(`lastUpdateTime ge ${at}`, "lastUpdateTime asc"), ["c", "a"]);
  assert.equal(
    (await mdeAlerts(sim, token, q({ $filter: `lastUpdateTime eq ${at}` }))).length,
    5,
    "the Office 365 alert is Graph's only",
  );
});
