// The normalizers: every rule that turns an Alerts API or Graph alert into a detection in the SIEM API
// schema, and the documented extra keys. Expected values are written out by hand from the fixtures.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ForwarderError } from "../../../src/errors.js";
import { normalizeDetection, selectionFieldsOf } from "../../../src/format/normalize.js";
import { NORMALIZED_FIELDS } from "../../../src/format/normalized-fields.js";
import type { Detection, SourceKind } from "../../../src/record.js";
import { EVIDENCE_INDEX_FIELD } from "../../../src/record.js";
import { loadDetection } from "./fixtures.js";

const graph = (alert: Record<string, unknown>) => normalizeDetection(alert, "graph");
const alerts = (alert: Record<string, unknown>) => normalizeDetection(alert, "alerts");
const ev = (type: string, fields: Record<string, unknown>) => ({
  "@odata.type": `#microsoft.graph.security.${type}`,
  ...fields,
});

test("Graph: every SIEM field from Microsoft's SIEM-to-Graph table, on a multi-evidence alert", () => {
  const n = normalizeDetection(loadDetection("graph-alert"), "graph");
  const tid = "?tid=0c4f8e2a-6b1d-4a3e-9f57-1e2d3c4b5a69";
  const alertUrl = `https://security.microsoft.com/alerts/da638412947112345678_-1830244912${tid}`;
  const incidentUrl = `https://security.microsoft.com/incidents/4127${tid}`;
  assert.deepEqual(
    { ...n, Evidence: undefined },
    {
      AlertTime: "2024-01-15T08:21:51.1234567Z",
      ComputerDnsName: "fin-ws-042.corp.contoso.example",
      AlertTitle: "'Kryptik' malware was prevented",
      Category: "Malware",
      Severity: "High",
      AlertId: "da638412947112345678_-1830244912",
      Actor: "STRONTIUM",
      LinkToWDATP: alertUrl,
      // The file evidence, not the process image: file evidence comes first for the file fields.
      Sha1: "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3",
      FileName: "invoice_2024-01.exe",
      FilePath: "C:\\Users\\j.doe\\Downloads",
      IpAddress: "203.0.113.77",
      Url: "http://files.example.net/dl?id=42&ref=mail",
      IoaDefinitionId: "7f2c1a9e-4b3d-4e15-9c6a-2d8f0b1e5a47",
      // The user evidence wins over the process's account (j.doe).
      UserName: "jane.doe",
      FullId: "da638412947112345678_-1830244912@2024-01-15T09:02:13.4500000Z",
      LastProcessedTimeUtc: "2024-01-15T09:02:13.45Z",
      ThreatFamily: "Kryptik",
      ThreatName: "Trojan:Win32/Kryptik!ml",
      // The first entity with a remediation status other than none: the file, prevented.
      RemediationAction: "prevented",
      RemediationIsSuccess: true,
      Source: "antivirus",
      Md5: "5eb63bbbe01eeed093cb22bb8f5acdc3",
      Sha256: "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
      WasExecutingWhileDetected: true,
      UserDomain: "CONTOSO",
      LogOnUsers: "CONTOSO\\j.doe; CONTOSO\\helpdesk",
      MachineDomain: "corp.contoso.example",
      MachineName: "fin-ws-042",
      DeviceID: "3f9a1c7e5b2d4086a1e3c5b7d9f0a2c4e6b8d0f1",
      MachineGroup: "Finance Workstations",
      Description:
        "Malware and unwanted software are undesirable applications that perform annoying, disruptive, or harmful actions on affected machines.",
      CommandLine:
        "powershell.exe -NoProfile -Command \"Start-Process 'invoice_2024-01.exe' -ArgumentList '/q=1'\"",
      LinkToMTP: alertUrl,
      IncidentLinkToMTP: incidentUrl,
      ProviderAlertId: "da638412947112345678_-1830244912",
      IncidentId: "4127",
      Status: "inProgress",
      Classification: "truePositive",
      Determination: "malware",
      AssignedTo: "soc-analyst@contoso.example",
      ServiceSource: "microsoftDefenderForEndpoint",
      MitreTechniques: "T1204.002, T1059.001",
      FirstActivityTime: "2024-01-15T08:20:02.871Z",
      LastActivityTime: "2024-01-15T08:20:04.002Z",
      LastUpdateTime: "2024-01-15T09:02:13.45Z",
      TenantId: "0c4f8e2a-6b1d-4a3e-9f57-1e2d3c4b5a69",
      MachineTags: "Finance, VIP",
      EvidenceCount: 7,
      Evidence: undefined,
    },
  );
  assert.deepEqual(
    Object.keys(n),
    NORMALIZED_FIELDS.filter((k) => k in n),
    "keys in the documented order",
  );
});

test("Alerts API: every SIEM field from its Alerts API equivalent, on a multi-evidence alert", () => {
  const n = normalizeDetection(loadDetection("alerts-api-alert"), "alerts");
  assert.deepEqual(
    { ...n, Evidence: undefined },
    {
      AlertTime: "2024-01-15T10:14:22.9876543Z",
      ComputerDnsName: "hr-laptop-07.emea.contoso.example",
      AlertTitle: "'Emotet' malware was detected and quarantined",
      Category: "Malware",
      Severity: "High",
      AlertId: "da638413001122334455_1422113808",
      Sha1: "0a4d55a8d778e5022fab701977c5d840bbc486d0",
      FileName: "Q1_payroll.docm",
      FilePath:
        "C:\\Users\\m.smith\\AppData\\Local\\Microsoft\\Windows\\INetCache\\Content.Outlook\\7X2K9Q1B",
      IpAddress: "2001:db8:85a3::8a2e:370:7334",
      Url: "https://cdn.example.org/payload|stage2?x=1",
      IoaDefinitionId: "5c7e9a1b-3d2f-4e6a-8b0c-1d3e5f7a9b2c",
      // The User entity wins over relatedUser (m.smith).
      UserName: "mary.smith",
      FullId: "da638413001122334455_1422113808@2024-01-15T11:30:59.2000000Z",
      LastProcessedTimeUtc: "2024-01-15T11:30:59.2Z",
      ThreatFamily: "Emotet",
      ThreatName: "Trojan:Win32/Emotet.RPX!MTB",
      Source: "WindowsDefenderAv",
      Sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
      // The first Process entity: Blocked.
      WasExecutingWhileDetected: false,
      UserDomain: "EMEA",
      MachineDomain: "emea.contoso.example",
      MachineName: "hr-laptop-07",
      DeviceID: "9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c",
      MachineGroup: "HR Laptops",
      Description: "Emotet is a banking trojan; the file was quarantined.\nNo further action taken.",
      CommandLine: '"WINWORD.EXE" /n "C:\\Users\\m.smith\\...\\Q1_payroll.docm" /o ""',
      IncidentId: 4130,
      InvestigationId: 982,
      InvestigationState: "Benign",
      Status: "Resolved",
      Classification: "TruePositive",
      Determination: "Malware",
      AssignedTo: "Automation",
      MitreTechniques: "T1566.001, T1204.002, T1027",
      FirstActivityTime: "2024-01-15T10:13:58.1Z",
      LastActivityTime: "2024-01-15T10:14:01.2345678Z",
      ResolvedTime: "2024-01-15T11:30:59.2Z",
      LastUpdateTime: "2024-01-15T11:30:59.2Z",
      TenantId: "0c4f8e2a-6b1d-4a3e-9f57-1e2d3c4b5a69",
      EvidenceCount: 5,
      Evidence: undefined,
    },
  );
});

test("Evidence: compact JSON of every entity, nulls, empty strings and empty lists left out", () => {
  const alert = loadDetection("alerts-api-alert");
  const n = normalizeDetection(alert, "alerts");
  const evidence = JSON.parse(String(n.Evidence)) as Array<Record<string, unknown>>;
  assert.equal(evidence.length, 5);
  assert.deepEqual(evidence[3], {
    entityType: "Ip",
    evidenceCreationTime: "2024-01-15T10:14:23.0012345Z",
    ipAddress: "2001:db8:85a3::8a2e:370:7334",
  });
  assert.ok(!String(n.Evidence).includes("null"));
  // Null list items stay: only empty object members are left out.
  const kept = graph({ id: "a", evidence: [null, ev("ipEvidence", { ipAddress: "1.2.3.4", tags: [] })] });
  assert.equal(
    kept.Evidence,
    '[null,{"@odata.type":"#microsoft.graph.security.ipEvidence","ipAddress":"1.2.3.4"}]',
  );
  assert.equal(kept.EvidenceCount, 2);
  assert.equal(graph({ id: "a", evidence: [] }).EvidenceCount, 0);
  assert.equal(graph({ id: "a", evidence: [] }).Evidence, undefined);
  // Without $expand=evidence: neither key.
  const bare = alerts({ id: "a" });
  assert.ok(!("Evidence" in bare) && !("EvidenceCount" in bare));
});

test("severity: the four levels in SIEM case, anything else kept as received", () => {
  const cases: Array<[unknown, unknown]> = [
    ["high", "High"],
    ["HIGH", "High"],
    ["medium", "Medium"],
    ["low", "Low"],
    ["informational", "Informational"],
    ["Informational", "Informational"],
    ["unknown", "unknown"],
    ["UnSpecified", "UnSpecified"],
    ["unknownFutureValue", "unknownFutureValue"],
    [5, 5],
    [null, undefined],
  ];
  for (const [raw, expected] of cases) {
    assert.equal(graph({ severity: raw }).Severity, expected, String(raw));
    assert.equal(alerts({ severity: raw }).Severity, expected, String(raw));
  }
});

test("FullId: <id>@<canonical last update>, #<index> for a split item; an update is a new FullId", () => {
  assert.equal(
    graph({ id: "g1", lastUpdateDateTime: "2024-01-01T00:00:00Z" }).FullId,
    "g1@2024-01-01T00:00:00.0000000Z",
  );
  assert.equal(
    alerts({ id: "a1", lastUpdateTime: "2024-01-01T00:00:00.1234567Z" }).FullId,
    "a1@2024-01-01T00:00:00.1234567Z",
  );
  // Two renderings of one instant are one version; a later update is another.
  const v1 = alerts({ id: "a1", lastUpdateTime: "2024-01-01T00:00:59.2Z" }).FullId;
  assert.equal(v1, alerts({ id: "a1", lastUpdateTime: "2024-01-01T00:00:59.2000000Z" }).FullId);
  assert.notEqual(v1, alerts({ id: "a1", lastUpdateTime: "2024-01-01T00:00:59.2000001Z" }).FullId);
  assert.equal(
    graph({ id: "g1", lastUpdateDateTime: "2024-01-01T00:00:00Z", [EVIDENCE_INDEX_FIELD]: 3, evidence: [] })
      .FullId,
    "g1@2024-01-01T00:00:00.0000000Z#3",
  );
  // No usable time: the raw text, or the id alone; no id: no FullId.
  assert.equal(graph({ id: "g1", lastUpdateDateTime: "yesterday" }).FullId, "g1@yesterday");
  assert.equal(graph({ id: "g1" }).FullId, "g1");
  assert.equal(alerts({ id: 42, lastUpdateTime: null }).FullId, "42");
  assert.equal(graph({ lastUpdateDateTime: "2024-01-01T00:00:00Z" }).FullId, undefined);
  assert.equal(graph({ id: { x: 1 } }).FullId, undefined);
  // A marker that is no whole number >= 0 does not split; it is still sent, as received.
  for (const bad of [-1, 1.5, "2", null]) {
    const n = graph({ id: "g1", [EVIDENCE_INDEX_FIELD]: bad });
    assert.equal(n.FullId, "g1");
    assert.equal(n.EvidenceIndex, bad ?? undefined);
  }
});

test("a split item (one entity plus the marker) fills what that entity gives, FullId gains #i", () => {
  const n = normalizeDetection(loadDetection("graph-alert-split"), "graph");
  assert.equal(n.FullId, "da638412947112345678_-1830244912@2024-01-15T09:02:13.4500000Z#2");
  assert.equal(n.EvidenceIndex, 2);
  assert.equal(n.EvidenceCount, 1);
  // The process: its image fills the file fields, its account the user, its device id DeviceID.
  assert.equal(n.FileName, "powershell.exe");
  assert.equal(n.Sha1, "6cbce4a1f0b3b3fd8c4fb3fd1e0b4a7e0d9e5c21");
  assert.equal(n.UserName, "j.doe");
  assert.equal(n.DeviceID, "3f9a1c7e5b2d4086a1e3c5b7d9f0a2c4e6b8d0f1");
  assert.equal(n.WasExecutingWhileDetected, true);
  assert.equal(n.AlertTitle, "'Kryptik' malware was prevented");
  // No device evidence in the item: no machine name or group (see the report's proposal).
  assert.equal(n.MachineName, undefined);
  assert.equal(n.MachineGroup, undefined);
  assert.equal(n.RemediationAction, undefined);

  // With the device evidence kept as context after the entity, the machine is named again.
  const full = loadDetection("graph-alert") as { evidence: unknown[] };
  const withDevice = graph({
    ...full,
    evidence: [full.evidence[2], full.evidence[0]],
    [EVIDENCE_INDEX_FIELD]: 2,
  });
  assert.equal(withDevice.MachineName, "fin-ws-042");
  assert.equal(withDevice.MachineGroup, "Finance Workstations");
  assert.equal(withDevice.FileName, "powershell.exe");
  assert.equal(withDevice.FullId, n.FullId);

  // Alerts API: the machine is on the alert itself, so a split item keeps it.
  const a = loadDetection("alerts-api-alert") as { evidence: unknown[] };
  const item = alerts({ ...a, evidence: [a.evidence[3]], [EVIDENCE_INDEX_FIELD]: 3 });
  assert.equal(item.FullId, "da638413001122334455_1422113808@2024-01-15T11:30:59.2000000Z#3");
  assert.equal(item.IpAddress, "2001:db8:85a3::8a2e:370:7334");
  assert.equal(item.MachineName, "hr-laptop-07");
  assert.equal(item.FileName, undefined);
  // No User entity in the item: relatedUser.
  assert.equal(item.UserName, "m.smith");
});

test("machine: the DNS name split at its first dot; no dot or an IP address stays whole", () => {
  const dev = (deviceDnsName: unknown) => graph({ evidence: [ev("deviceEvidence", { deviceDnsName })] });
  assert.deepEqual(
    [dev("host.a.b").MachineName, dev("host.a.b").MachineDomain, dev("host.a.b").ComputerDnsName],
    ["host", "a.b", "host.a.b"],
  );
  assert.deepEqual([dev("tempDns").MachineName, dev("tempDns").MachineDomain], ["tempDns", undefined]);
  assert.deepEqual([dev("10.0.0.1").MachineName, dev("10.0.0.1").MachineDomain], ["10.0.0.1", undefined]);
  assert.deepEqual([dev(".x").MachineName, dev("x.").MachineName], [".x", "x."]);
  assert.equal(dev(null).MachineName, undefined);
  assert.equal(alerts({ computerDnsName: "pc1.corp.example" }).MachineDomain, "corp.example");
  // The first device evidence names the machine and its group.
  const two = graph({
    evidence: [
      ev("deviceEvidence", { deviceDnsName: "first", rbacGroupName: "G1" }),
      ev("deviceEvidence", { deviceDnsName: "second", rbacGroupName: "G2" }),
    ],
  });
  assert.deepEqual([two.MachineName, two.MachineGroup], ["first", "G1"]);
  // DeviceID: the device evidence's mdeDeviceId, else any entity's.
  assert.equal(graph({ evidence: [ev("fileEvidence", { mdeDeviceId: "d1" })] }).DeviceID, "d1");
  assert.equal(
    graph({
      evidence: [ev("fileEvidence", { mdeDeviceId: "d1" }), ev("deviceEvidence", { mdeDeviceId: "d2" })],
    }).DeviceID,
    "d2",
  );
});

test("files: the first file evidence, else the first process image; all values from one entity", () => {
  const image = ev("processEvidence", { imageFile: { fileName: "p.exe", sha1: "p1" } });
  const file = ev("fileEvidence", { fileDetails: { fileName: "f.exe", filePath: "C:\\f", sha256: "f256" } });
  assert.deepEqual(pick(graph({ evidence: [image, file] }), ["FileName", "FilePath", "Sha1", "Sha256"]), {
    FileName: "f.exe",
    FilePath: "C:\\f",
    Sha1: undefined,
    Sha256: "f256",
  });
  assert.equal(graph({ evidence: [image] }).FileName, "p.exe");
  // A file evidence without details does not count.
  assert.equal(graph({ evidence: [ev("fileEvidence", { fileDetails: null }), image] }).FileName, "p.exe");
  const aFile = { entityType: "File", fileName: "a.doc", sha1: null };
  const aProc = { entityType: "Process", fileName: "w.exe", sha1: "w1" };
  assert.deepEqual(pick(alerts({ evidence: [aProc, aFile] }), ["FileName", "Sha1"]), {
    FileName: "a.doc",
    Sha1: undefined,
  });
  assert.equal(alerts({ evidence: [aProc] }).FileName, "w.exe");
});

test("users, IP, URL, command line, logged-on users, lists: first entity of the kind", () => {
  const proc = ev("processEvidence", {
    processCommandLine: "a.exe /x",
    userAccount: { accountName: "svc", domainName: "NT AUTHORITY" },
  });
  const g = graph({
    evidence: [
      proc,
      ev("userEvidence", { userAccount: { accountName: "u1", domainName: "D" } }),
      ev("ipEvidence", { ipAddress: "192.0.2.1" }),
      ev("ipEvidence", { ipAddress: "192.0.2.2" }),
      ev("urlEvidence", { url: "https://x.example/1" }),
      ev("deviceEvidence", {
        loggedOnUsers: [
          { accountName: "a", domainName: "D" },
          { accountName: "b" },
          "C\\c",
          { domainName: "D" },
        ],
        tags: ["t1", "", null, "t2"],
      }),
    ],
    mitreTechniques: ["T1", "T2"],
  });
  assert.deepEqual(pick(g, ["UserName", "UserDomain", "IpAddress", "Url", "CommandLine", "LogOnUsers"]), {
    UserName: "u1",
    UserDomain: "D",
    IpAddress: "192.0.2.1",
    Url: "https://x.example/1",
    CommandLine: "a.exe /x",
    LogOnUsers: "D\\a; b; C\\c",
  });
  assert.equal(g.MachineTags, "t1, t2");
  assert.equal(g.MitreTechniques, "T1, T2");
  assert.equal(graph({ evidence: [proc] }).UserName, "svc");
  assert.equal(graph({ mitreTechniques: [] }).MitreTechniques, undefined);
  assert.equal(graph({ mitreTechniques: "T9" }).MitreTechniques, "T9");
  // The Alerts API: User entity, else relatedUser, else the first Process entity's account.
  const rel = { relatedUser: { userName: "r", domainName: "RD" } };
  const aProc = { entityType: "Process", accountName: "p", domainName: "PD" };
  assert.deepEqual(pick(alerts({ ...rel, evidence: [aProc] }), ["UserName", "UserDomain"]), {
    UserName: "r",
    UserDomain: "RD",
  });
  assert.deepEqual(pick(alerts({ evidence: [aProc] }), ["UserName", "UserDomain"]), {
    UserName: "p",
    UserDomain: "PD",
  });
  assert.deepEqual(
    pick(alerts({ ...rel, evidence: [{ entityType: "User", accountName: "e", domainName: "ED" }] }), [
      "UserName",
      "UserDomain",
    ]),
    { UserName: "e", UserDomain: "ED" },
  );
  assert.equal(alerts({ evidence: [{ entityType: "ip", ipAddress: "192.0.2.9" }] }).IpAddress, "192.0.2.9");
  assert.equal(alerts({ evidence: [{ entityType: "Url", url: "u" }] }).Url, "u");
  // ThreatName: threatDisplayName (Graph) or threatName (Alerts API).
  assert.equal(graph({ threatDisplayName: "T:A" }).ThreatName, "T:A");
  assert.equal(alerts({ threatName: "T:B" }).ThreatName, "T:B");
});

test("remediation: the first entity remediated or not, mapped to RemediationAction and RemediationIsSuccess", () => {
  const cases: Array<[string, boolean | undefined]> = [
    ["remediated", true],
    ["prevented", true],
    ["blocked", true],
    ["Remediated", true],
    ["unremediated", false],
    ["partiallyRemediated", false],
    ["declined", false],
    ["notFound", undefined],
    ["active", undefined],
    ["pendingApproval", undefined],
    ["running", undefined],
  ];
  for (const [status, success] of cases) {
    const n = graph({
      evidence: [
        ev("deviceEvidence", { remediationStatus: "none" }),
        ev("fileEvidence", { remediationStatus: status }),
        ev("fileEvidence", { remediationStatus: "remediated" }),
      ],
    });
    assert.equal(n.RemediationAction, status, status);
    assert.equal(n.RemediationIsSuccess, success, status);
  }
  const none = graph({ evidence: [ev("fileEvidence", { remediationStatus: "none" })] });
  assert.deepEqual([none.RemediationAction, none.RemediationIsSuccess], [undefined, undefined]);
});

test("WasExecutingWhileDetected: the first process's detectionStatus, detected 1, blocked/prevented 0", () => {
  const cases: Array<[unknown, boolean | undefined]> = [
    ["detected", true],
    ["Detected", true],
    ["blocked", false],
    ["Prevented", false],
    ["unknownFutureValue", undefined],
    [null, undefined],
  ];
  for (const [status, expected] of cases) {
    assert.equal(
      graph({ evidence: [ev("processEvidence", { detectionStatus: status })] }).WasExecutingWhileDetected,
      expected,
    );
    assert.equal(
      alerts({ evidence: [{ entityType: "Process", detectionStatus: status }] }).WasExecutingWhileDetected,
      expected,
    );
  }
  // A file's detectionStatus does not say whether anything was running.
  assert.equal(
    graph({ evidence: [ev("fileEvidence", { detectionStatus: "detected" })] }).WasExecutingWhileDetected,
    undefined,
  );
});

test("kind siem passes the detection through untouched; an unknown kind is E_FORMAT", () => {
  const d = loadDetection("microsoft-example");
  assert.equal(normalizeDetection(d, "siem"), d);
  assert.equal(normalizeDetection(d), d);
  const isFormat = (err: unknown) => err instanceof ForwarderError && err.code === "E_FORMAT";
  assert.throws(() => normalizeDetection(d, "xml" as SourceKind), isFormat);
  assert.throws(() => selectionFieldsOf(d, "xml" as SourceKind), isFormat);
});

test("only the documented keys come out, whatever else the alert holds", () => {
  const g = loadDetection("graph-alert");
  const n = normalizeDetection({ ...g, somethingNew: "x", recommendedActions: "y" }, "graph");
  for (const key of Object.keys(n)) assert.ok((NORMALIZED_FIELDS as readonly string[]).includes(key), key);
  assert.ok(!Object.values(n).includes("x"));
});

test("hostile shapes: wrong types anywhere never throw, and fill nothing they cannot", () => {
  const shapes: Detection[] = [
    {},
    { evidence: "nope" },
    { evidence: [1, "x", null, [], { "@odata.type": 5 }, { entityType: {} }] },
    { evidence: [ev("deviceEvidence", { deviceDnsName: 5, loggedOnUsers: "x", tags: { a: 1 } })] },
    { evidence: [ev("fileEvidence", { fileDetails: [1, 2] }), ev("processEvidence", { imageFile: "x" })] },
    { evidence: [ev("userEvidence", { userAccount: { accountName: ["a"] } })] },
    { relatedUser: "x", computerDnsName: ["a.b"], mitreTechniques: [{ t: 1 }, 2, null] },
    { severity: { level: "high" }, lastUpdateDateTime: 5, lastUpdateTime: [] },
  ];
  for (const kind of ["alerts", "graph"] as const) {
    for (const shape of shapes)
      assert.doesNotThrow(() => normalizeDetection(shape, kind), JSON.stringify(shape));
  }
  assert.equal(graph({ mitreTechniques: [{ t: 1 }, 2, null] }).MitreTechniques, '{"t":1}, 2');
  assert.equal(graph({ evidence: [ev("deviceEvidence", { deviceDnsName: 5 })] }).MachineName, 5);
});

test("what cannot be serialised is E_FORMAT (never another error)", () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  const isFormat = (err: unknown) =>
    err instanceof ForwarderError && err.code === "E_FORMAT" && err.permanent;
  for (const kind of ["alerts", "graph"] as const) {
    assert.throws(() => normalizeDetection({ evidence: [cyclic] }, kind), isFormat);
    assert.throws(() => normalizeDetection({ evidence: [{ n: 10n }] }, kind), isFormat);
    assert.throws(() => normalizeDetection({ mitreTechniques: [{ n: 10n }] }, kind), isFormat);
  }
});

test("selectionFieldsOf gives what the normalized detection holds, for every kind", () => {
  const inputs: Array<[Detection, SourceKind]> = [
    [loadDetection("microsoft-example"), "siem"],
    [loadDetection("same-siem"), "siem"],
    [loadDetection("graph-alert"), "graph"],
    [loadDetection("graph-alert-split"), "graph"],
    [loadDetection("alerts-api-alert"), "alerts"],
    [{ severity: "UnSpecified", category: "", rbacGroupName: null }, "alerts"],
    [{ severity: 3, evidence: "x" }, "graph"],
  ];
  for (const [d, kind] of inputs) {
    const n = normalizeDetection(d, kind);
    const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);
    const expected = Object.fromEntries(
      Object.entries({
        severity: str(n.Severity),
        category: str(n.Category),
        machineGroup: str(n.MachineGroup),
      }).filter(([, v]) => v !== undefined),
    );
    assert.deepEqual(selectionFieldsOf(d, kind), expected, kind);
  }
  assert.deepEqual(selectionFieldsOf(loadDetection("graph-alert"), "graph"), {
    severity: "High",
    category: "Malware",
    machineGroup: "Finance Workstations",
  });
  assert.deepEqual(selectionFieldsOf(loadDetection("alerts-api-alert"), "alerts"), {
    severity: "High",
    category: "Malware",
    machineGroup: "HR Laptops",
  });
  assert.deepEqual(selectionFieldsOf({ Severity: "high", Category: "Malware" }), {
    severity: "high",
    category: "Malware",
  });
});

function pick(d: Detection, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, d[k]]));
}
