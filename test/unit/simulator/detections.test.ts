import assert from "node:assert/strict";
import { test } from "node:test";
import { createDetectionGenerator } from "../../../src/simulator/detections.js";
import { DEMO_TENANT, DETECTION_KEYS, type SimTenant } from "../../../src/simulator/index.js";
import { parseTimestamp } from "../../../src/timestamp.js";
import { getAlerts, getToken, manualClock, startSimulator, T0 } from "./helpers.js";

/** The response example of Microsoft's "Pull detections using SIEM REST API" page, verbatim. */
const MICROSOFT_EXAMPLE = {
  AlertTime: "2020-09-30T14:09:20.35743Z",
  ComputerDnsName: "mymachine1.domain.com",
  AlertTitle: "Suspicious File Activity",
  Category: "Malware",
  Severity: "High",
  AlertId: "da637370718981685665_16349121",
  Actor: "",
  LinkToWDATP: "https://securitycenter.windows.com/alert/da637370718981685665_16349121",
  IocName: "",
  IocValue: "",
  CreatorIocName: "",
  CreatorIocValue: "",
  Sha1: "aabbccddee1122334455aabbccddee1122334455",
  FileName: "cmdParent.exe",
  FilePath: "C:\\WINDOWS\\SysWOW64\\boo3\\qwerty",
  IpAddress: "",
  Url: "",
  IoaDefinitionId: "b20af1d2-5990-4672-87f1-acc2a8ff7725",
  UserName: "",
  AlertPart: 0,
  FullId: "da637370718981685665_16349121:R4xEdgAvDb2LQl3BgHoA3NYqKmRSiIAG7dpxAJCYZhY=",
  LastProcessedTimeUtc: "2020-09-30T14:11:44.0779765Z",
  ThreatCategory: "",
  ThreatFamily: "",
  ThreatName: "",
  RemediationAction: "",
  RemediationIsSuccess: null,
  Source: "EDR",
  Md5: "854b85cbff2752fcb88606bca76f83c6",
  Sha256: "",
  WasExecutingWhileDetected: null,
  UserDomain: "",
  LogOnUsers: "",
  MachineDomain: "domain.com",
  MachineName: "mymachine1",
  InternalIPv4List: "",
  InternalIPv6List: "",
  FileHash: "aabbccddee1122334455aabbccddee1122334455",
  DeviceID: "deadbeef000040830ee54503926f556dcaf82bb0",
  MachineGroup: "",
  Description: "Test Alert",
  DeviceCreatedMachineTags: "",
  CloudCreatedMachineTags: "",
  CommandLine: "",
  IncidentLinkToWDATP:
    "https://securitycenter.windows.com/incidents/byalert?alertId=da637370718981685665_16349121&source=SIEM",
  ReportID: 1053729833,
  LinkToMTP: "https://security.microsoft.com/alert/da637370718981685665_16349121",
  IncidentLinkToMTP:
    "https://security.microsoft.com/incidents/byalert?alertId=da637370718981685665_16349121&source=SIEM",
  ExternalId: "31DD0A845DDA4059FDEDE031014645350AECABD3",
  IocUniqueId: "R4xEdgAvDb2LQl3BgHoA3NYqKmRSiIAG7dpxAJCYZhY=",
};

const NULLABLE_BOOLEANS = new Set(["RemediationIsSuccess", "WasExecutingWhileDetected"]);
const NUMBERS = new Set(["AlertPart", "ReportID"]);

test("DETECTION_KEYS are exactly the keys of Microsoft's example, in order", () => {
  assert.deepEqual([...DETECTION_KEYS], Object.keys(MICROSOFT_EXAMPLE));
});

test("served detections have the documented shape", async (t) => {
  const clock = manualClock();
  const sim = await startSimulator(t, { clock: clock.fn });
  sim.generate(300, { from: T0 - 3_600_000, to: T0 });
  const list = await getAlerts(sim, await getToken(sim));
  assert.equal(list.length, 300);

  const alerts = new Map<string, Record<string, unknown>[]>();
  const sources = new Set<unknown>();
  let trimmedAlertTimes = 0;
  for (const d of list) {
    assert.deepEqual(Object.keys(d), Object.keys(MICROSOFT_EXAMPLE));
    for (const [key, value] of Object.entries(d)) {
      if (NUMBERS.has(key)) assert.equal(typeof value, "number", key);
      else if (NULLABLE_BOOLEANS.has(key)) assert.ok(value === null || typeof value === "boolean", key);
      else assert.equal(typeof value, "string", key);
    }
    const alertId = String(d.AlertId);
    assert.match(alertId, /^da\d{18}_\d+$/);
    assert.match(String(d.IocUniqueId), /^[A-Za-z0-9+/]{43}=$/);
    assert.equal(d.FullId, `${alertId}:${d.IocUniqueId}`);
    assert.equal(d.LinkToWDATP, `https://securitycenter.windows.com/alert/${alertId}`);
    assert.equal(d.LinkToMTP, `https://security.microsoft.com/alert/${alertId}`);
    assert.equal(
      d.IncidentLinkToWDATP,
      `https://securitycenter.windows.com/incidents/byalert?alertId=${alertId}&source=SIEM`,
    );
    assert.equal(
      d.IncidentLinkToMTP,
      `https://security.microsoft.com/incidents/byalert?alertId=${alertId}&source=SIEM`,
    );
    assert.match(String(d.LastProcessedTimeUtc), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/);
    assert.match(String(d.AlertTime), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,7})?Z$/);
    if (!/\.\d{7}Z$/.test(String(d.AlertTime))) trimmedAlertTimes++;
    const processed = parseTimestamp(d.LastProcessedTimeUtc) ?? 0n;
    const alerted = parseTimestamp(d.AlertTime) ?? 0n;
    // AlertTime precedes processing by seconds to minutes.
    assert.ok(processed - alerted >= 1_000_000n * 10n, "at least a second");
    assert.ok(processed - alerted <= 3_600n * 10_000_000n, "at most an hour");
    assert.ok(processed >= BigInt(T0 - 3_600_000) * 10_000n && processed <= BigInt(T0) * 10_000n);
    for (const hash of ["Sha1", "FileHash"]) assert.match(String(d[hash]), /^([0-9a-f]{40})?$/);
    assert.match(String(d.Sha256), /^([0-9a-f]{64})?$/);
    assert.match(String(d.Md5), /^([0-9a-f]{32})?$/);
    assert.match(String(d.DeviceID), /^[0-9a-f]{40}$/);
    assert.match(String(d.ExternalId), /^[0-9A-F]{40}$/);
    assert.match(String(d.Severity), /^(Informational|Low|Medium|High)$/);
    assert.ok(
      String(d.MachineName).length > 0 && String(d.ComputerDnsName).startsWith(String(d.MachineName)),
    );
    assert.ok(DEMO_TENANT.machineGroups?.includes(String(d.MachineGroup)));
    assert.ok(String(d.AlertTitle).length > 0 && String(d.Category).length > 0);
    sources.add(d.Source);
    alerts.set(alertId, [...(alerts.get(alertId) ?? []), d]);
  }
  // Several detections per alert, sharing the alert's fields.
  const multi = [...alerts.values()].filter((ds) => ds.length > 1);
  assert.ok(multi.length >= 10, `alerts with several detections: ${multi.length}`);
  for (const ds of multi) {
    for (const key of ["AlertTime", "AlertTitle", "Severity", "MachineName", "Category", "Source"]) {
      assert.equal(new Set(ds.map((d) => d[key])).size, 1, key);
    }
    assert.equal(new Set(ds.map((d) => d.FullId)).size, ds.length);
  }
  // Variety: several detection sources, and some AlertTimes with trailing zeros trimmed.
  for (const s of ["EDR", "Antivirus"]) assert.ok(sources.has(s), s);
  assert.ok(trimmedAlertTimes > 0);
  assert.equal(new Set(list.map((d) => d.FullId)).size, 300);
});

test("the same seed gives the same detections; another seed does not", async (t) => {
  const make = async (seed: number) => {
    const clock = manualClock();
    const sim = await startSimulator(t, { clock: clock.fn, seed });
    return sim.generate(40, { from: T0 - 600_000, to: T0 });
  };
  const a = await make(7);
  const b = await make(7);
  const c = await make(8);
  assert.deepEqual(a, b);
  assert.notDeepEqual(
    a.map((d) => d.FullId),
    c.map((d) => d.FullId),
  );
  // The generator alone is deterministic too.
  const g1 = createDetectionGenerator({ seed: 3 });
  const g2 = createDetectionGenerator({ seed: 3 });
  assert.deepEqual(g1.generate(g1.spread(5, 0n, 10_000_000n)), g2.generate(g2.spread(5, 0n, 10_000_000n)));
});

test("a tenant's detections do not depend on another tenant's activity", async (t) => {
  const other: SimTenant = { tenantId: "t-2", clientId: "c2", clientSecret: "s2" };
  const clock = manualClock();
  const one = await startSimulator(t, { clock: clock.fn, tenants: [DEMO_TENANT, other] });
  const two = await startSimulator(t, { clock: clock.fn, tenants: [DEMO_TENANT, other] });
  one.generate(10, { tenantId: "t-2", to: T0 });
  const a = one.generate(10, { to: T0 });
  const b = two.generate(10, { to: T0 });
  assert.deepEqual(a, b);
  const others = one.detections.filter((d) => !a.includes(d));
  assert.ok(
    others.every((d) => d.MachineGroup === ""),
    "a tenant without groups has MachineGroup ''",
  );
});

test("generate spreads over [from, to] ascending, or puts all at `to` with sameTime", async (t) => {
  const clock = manualClock();
  const sim = await startSimulator(t, { clock: clock.fn });
  const spread = sim.generate(50, { from: T0 - 1_000, to: T0 });
  const ticks = spread.map((d) => parseTimestamp(d.LastProcessedTimeUtc) ?? 0n);
  for (const x of ticks) assert.ok(x >= BigInt(T0 - 1_000) * 10_000n && x <= BigInt(T0) * 10_000n);
  assert.deepEqual(
    ticks,
    [...ticks].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)),
  );
  assert.ok(new Set(ticks).size > 40, "sub-ms resolution");

  const same = sim.generate(20, { from: T0 - 60_000, to: T0 - 30_000, sameTime: true });
  assert.deepEqual(
    new Set(same.map((d) => d.LastProcessedTimeUtc)),
    new Set(["2024-05-01T11:59:30.0000000Z"]),
  );
  // Default span: the hour before now.
  const dflt = sim.generate(10);
  for (const d of dflt) {
    const x = parseTimestamp(d.LastProcessedTimeUtc) ?? 0n;
    assert.ok(x >= BigInt(T0 - 3_600_000) * 10_000n && x <= BigInt(T0) * 10_000n);
  }
  assert.throws(() => sim.generate(1, { from: T0, to: T0 - 1 }), /from and to/);
  assert.throws(() => sim.generate(-1), /whole number/);
  assert.throws(() => sim.generate(1, { tenantId: "nope" }), /no tenant/);
});

test("add() overrides generated fields, keeps FullId consistent, and can remove fields", async (t) => {
  const clock = manualClock();
  const sim = await startSimulator(t, { clock: clock.fn });
  const [plain, joined, custom, malformed, atNow] = sim.add([
    { LastProcessedTimeUtc: "2024-05-01T11:00:00.1234567Z", Severity: "Low", Extra: "x" },
    { AlertId: "da637370718981685665_16349121" },
    { FullId: "my-own-id", IocUniqueId: "abc" },
    { FullId: undefined, LastProcessedTimeUtc: "not a time" },
    {},
  ]);
  assert.ok(plain && joined && custom && malformed && atNow);
  assert.equal(plain.Severity, "Low");
  assert.equal(plain.LastProcessedTimeUtc, "2024-05-01T11:00:00.1234567Z");
  assert.deepEqual(Object.keys(plain), [...Object.keys(MICROSOFT_EXAMPLE), "Extra"]);
  // AlertTime is derived from the partial's processing time.
  assert.ok((parseTimestamp(plain.AlertTime) ?? 0n) < (parseTimestamp(plain.LastProcessedTimeUtc) ?? 0n));

  assert.equal(joined.AlertId, "da637370718981685665_16349121");
  assert.equal(joined.FullId, `da637370718981685665_16349121:${joined.IocUniqueId}`);
  assert.equal(joined.LinkToWDATP, "https://securitycenter.windows.com/alert/da637370718981685665_16349121");

  assert.equal(custom.FullId, "my-own-id");
  assert.equal("FullId" in malformed, false);
  assert.equal(malformed.LastProcessedTimeUtc, "not a time");
  assert.equal(atNow.LastProcessedTimeUtc, "2024-05-01T12:00:00.0000000Z");
  assert.ok(Object.isFrozen(plain));

  // The malformed one is served (at the time it was added) like any other.
  const served = await getAlerts(sim, await getToken(sim));
  assert.equal(served.length, 5);
  assert.ok(served.some((d) => d.LastProcessedTimeUtc === "not a time" && !("FullId" in d)));
  assert.equal(sim.served.size, 4, "only FullIds are counted as served");
});
