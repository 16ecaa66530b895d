// Graph incidents as events (normalize-incident.ts, the incident profiles) and the header product of a Graph
// alert by the product that raised it (service-products.ts, mapping.product_per_service).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import fc from "fast-check";
import { INCIDENT_FIELDS, normalizeDetection, selectionFieldsOf } from "../../../src/format/index.js";
import { SERVICE_PRODUCTS, serviceProduct } from "../../../src/format/service-products.js";
import { GRAPH_SERVICE_SOURCES, toDetectionRecord } from "../../../src/record.js";
import { parseCef } from "../../support/cef-parser.js";
import { parseLeef } from "../../support/leef-parser.js";
import { fixedDeps, formatOptions, loadDetection, makeFormatter } from "./fixtures.js";
import { assertOneLine } from "./oracle.js";

test("incident: every documented field from the Graph incident, alerts summed up", () => {
  const incident = loadDetection("graph-incident");
  const n = normalizeDetection(incident, "incidents");
  assert.deepEqual(n, {
    IncidentName:
      "Multi-stage incident involving Initial access & Execution on one endpoint reported by multiple sources",
    Severity: "High",
    IncidentId: "2972395",
    Status: "inProgress",
    Classification: "truePositive",
    Determination: "multiStagedAttack",
    AssignedTo: "soc-analyst@contoso.example",
    AlertCount: 3,
    AlertIds:
      "fa7f3b2c1d-0e8a-4b6c-9d2e-5f1a3c7b9e04, da638412947112345678_-1830244912, sn4e2d9b7a-1c3f-4e8a-b6d2-9f0c7a5e3b18",
    IncidentLinkToMTP:
      "https://security.microsoft.com/incidents/2972395?tid=0c4f8e2a-6b1d-4a3e-9f57-1e2d3c4b5a69",
    CreatedTime: "2024-01-15T08:21:51.5533333Z",
    LastUpdateTime: "2024-01-15T09:35:45.1133333Z",
    FullId: "incident:2972395@2024-01-15T09:35:45.1133333Z",
    Tags: "Demo, Phishing campaign",
    SystemTags: "Defender Experts",
    Description: "A phishing email led to a malicious file running on one device.",
    ServiceSources: "microsoftDefenderForOffice365, microsoftDefenderForEndpoint, microsoftSentinel",
    DetectionSources: "microsoftDefenderForOffice365, antivirus, scheduledAlerts",
    Categories: "InitialAccess, Execution, CredentialAccess",
    TenantId: "0c4f8e2a-6b1d-4a3e-9f57-1e2d3c4b5a69",
  });
  assert.deepEqual(
    Object.keys(n),
    INCIDENT_FIELDS.filter((f) => f in n),
    "in INCIDENT_FIELDS order",
  );
  // The event's FullId is the key the forwarder dedupes the version on.
  assert.equal(n.FullId, toDetectionRecord(incident, "incidents").key);
});

test("incident: an update is a new version; without $expand no alert count; odd shapes fill nothing", () => {
  const incident = loadDetection("graph-incident");
  const later = { ...incident, lastUpdateDateTime: "2024-01-15T10:00:00Z", status: "resolved" };
  assert.notEqual(toDetectionRecord(incident, "incidents").key, toDetectionRecord(later, "incidents").key);
  assert.equal(toDetectionRecord(later, "incidents").key, "incident:2972395@2024-01-15T10:00:00.0000000Z");
  const { alerts: _alerts, ...bare } = incident;
  const n = normalizeDetection(bare, "incidents");
  assert.equal(n.AlertCount, undefined);
  assert.equal(n.AlertIds, undefined);
  const empty = normalizeDetection({ ...bare, alerts: [] }, "incidents");
  assert.equal(empty.AlertCount, 0, "an incident whose alerts list is empty says 0");
  const hostile = normalizeDetection(
    { id: 7, displayName: ["x"], alerts: "no", customTags: { a: 1 }, lastUpdateDateTime: 5 },
    "incidents",
  );
  assert.equal(hostile.IncidentId, 7);
  assert.equal(hostile.AlertCount, undefined);
  assert.equal(
    hostile.FullId,
    "incident:7@5",
    "a time that does not parse is kept as it came, as for alerts",
  );
  assert.deepEqual(selectionFieldsOf(incident, "incidents"), { severity: "High" });
});

test("incident CEF: Defender XDR product, class id MDE:Incident, Name, externalId, rt/start, cs3", () => {
  const cef = parseCef(
    makeFormatter(formatOptions({ format: "cef", syslog_header: "none" }), fixedDeps)
      .format(loadDetection("graph-incident"), "incidents")
      .bytes.toString(),
  );
  assert.equal(cef.product, "Microsoft Defender XDR");
  assert.equal(cef.classId, "MDE:Incident");
  assert.match(cef.name, /^Multi-stage incident/);
  assert.equal(cef.severity, "8");
  const ext = cef.extension;
  assert.equal(ext.get("externalId"), "2972395");
  assert.equal(ext.get("rt"), String(Date.parse("2024-01-15T09:35:45.113Z")));
  assert.equal(ext.get("start"), String(Date.parse("2024-01-15T08:21:51.553Z")));
  assert.equal(ext.get("cs3"), "incident:2972395@2024-01-15T09:35:45.1133333Z");
  assert.equal(ext.get("MicrosoftDefenderAlertCount"), "3");
  assert.equal(ext.get("MicrosoftDefenderStatus"), "inProgress");

  // Mapping overrides apply to incident fields; overrides of alert-only fields leave them alone.
  const mapped = parseCef(
    makeFormatter(
      formatOptions({
        format: "cef",
        syslog_header: "none",
        mapping: {
          fields: { AssignedTo: "duser", AlertTime: "end", AlertCount: "cnt" },
          labels: {},
          constants: {},
          user_defined_keys: [],
          product_per_service: true,
        },
      }),
      fixedDeps,
    )
      .format(loadDetection("graph-incident"), "incidents")
      .bytes.toString(),
  );
  assert.equal(mapped.extension.get("duser"), "soc-analyst@contoso.example");
  assert.equal(mapped.extension.get("cnt"), "3");
  assert.equal(mapped.extension.get("start"), String(Date.parse("2024-01-15T08:21:51.553Z")));
});

test("incident LEEF: devTime from the last update, sev, EventID MDE:Incident", () => {
  const leef = parseLeef(
    makeFormatter(formatOptions({ format: "leef", syslog_header: "none" }), fixedDeps)
      .format(loadDetection("graph-incident"), "incidents")
      .bytes.toString(),
  );
  assert.equal(leef.product, "Microsoft Defender XDR");
  assert.equal(leef.eventId, "MDE:Incident");
  assert.equal(leef.attributes.get("devTime"), String(Date.parse("2024-01-15T09:35:45.113Z")));
  assert.equal(leef.attributes.get("sev"), "8");
  assert.equal(leef.attributes.get("IncidentId"), "2972395");
  assert.equal(leef.attributes.get("AlertCount"), "3");
});

test("Graph alerts: the header product follows serviceSource; Defender for Endpoint keeps header.product", () => {
  const base = loadDetection("graph-alert");
  const cef = makeFormatter(formatOptions({ format: "cef", syslog_header: "none" }), fixedDeps);
  const leef = makeFormatter(formatOptions({ format: "leef", syslog_header: "none" }), fixedDeps);
  const product = (serviceSource: unknown) =>
    parseCef(cef.format({ ...base, serviceSource }, "graph").bytes.toString()).product;
  assert.equal(product("microsoftDefenderForEndpoint"), "Microsoft Defender ATP");
  assert.equal(product("microsoftDefenderForOffice365"), "Microsoft Defender for Office 365");
  assert.equal(product("microsoftDefenderForCloud"), "Microsoft Defender for Cloud");
  assert.equal(product("microsoftSentinel"), "Microsoft Sentinel");
  assert.equal(
    product("microsoftDefenderForThings"),
    "Microsoft Defender For Things",
    "a member added later",
  );
  for (const unknown of ["unknown", "unknownFutureValue", undefined, 42, "Not|an enum"]) {
    assert.equal(product(unknown), "Microsoft Defender ATP", String(unknown));
  }
  assert.equal(
    parseLeef(
      leef.format({ ...base, serviceSource: "microsoftDefenderForIdentity" }, "graph").bytes.toString(),
    ).product,
    "Microsoft Defender for Identity",
  );
  // SIEM API detections and Alerts API alerts are Defender for Endpoint's, whatever they hold.
  assert.equal(
    parseCef(
      cef
        .format({ ...loadDetection("microsoft-example"), ServiceSource: "microsoftSentinel" })
        .bytes.toString(),
    ).product,
    "Microsoft Defender ATP",
  );
  for (const s of GRAPH_SERVICE_SOURCES) assert.ok(Object.hasOwn(SERVICE_PRODUCTS, s), s);
  assert.equal(serviceProduct("microsoftDefenderForEndpoint"), undefined);
});

test("mapping.product_per_service: false pins every event to header.product", () => {
  const pinned = makeFormatter(
    formatOptions({
      format: "cef",
      syslog_header: "none",
      header: { vendor: "Microsoft", product: "Defender", version: "2.0" },
      mapping: { fields: {}, labels: {}, constants: {}, user_defined_keys: [], product_per_service: false },
    }),
    fixedDeps,
  );
  assert.equal(
    parseCef(pinned.format(loadDetection("graph-alert-sentinel"), "graph").bytes.toString()).product,
    "Defender",
  );
  assert.equal(
    parseCef(pinned.format(loadDetection("graph-incident"), "incidents").bytes.toString()).product,
    "Defender",
  );
});

// Any incident, hostile strings and wrong types anywhere: one line that reads back, in CEF, LEEF and JSON,
// with and without max_message_bytes; the identity (externalId, cs3) whole.
const hostile = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.constantFrom("\\", "=", "|", "\r\n", "\t", "\0", "\ud800", "ünï€ødé", " "),
  fc.constant(null),
  fc.integer(),
  fc.boolean(),
);
const incidentArb = fc.record(
  {
    id: fc.oneof(fc.stringMatching(/^[0-9]{1,9}$/), hostile),
    displayName: fc.oneof(fc.string({ maxLength: 300 }), hostile),
    severity: fc.oneof(fc.constantFrom("high", "medium", "low", "informational", "unknown"), hostile),
    status: hostile,
    classification: hostile,
    determination: hostile,
    assignedTo: hostile,
    incidentWebUrl: hostile,
    createdDateTime: fc.oneof(fc.constant("2024-01-15T08:21:51.5533333Z"), hostile),
    lastUpdateDateTime: fc.oneof(fc.constant("2024-01-15T09:35:45.1133333Z"), hostile),
    customTags: fc.oneof(fc.array(hostile, { maxLength: 4 }), hostile),
    systemTags: fc.oneof(fc.array(hostile, { maxLength: 3 }), hostile),
    description: fc.oneof(fc.string({ maxLength: 2000 }), hostile),
    alerts: fc.oneof(
      fc.array(
        fc.record(
          { id: hostile, serviceSource: hostile, detectionSource: hostile, category: hostile },
          { requiredKeys: [] },
        ),
        { maxLength: 30 },
      ),
      hostile,
    ),
  },
  { requiredKeys: ["id", "lastUpdateDateTime"] },
);

test("incidents, any shape: CEF, LEEF and JSON one line that reads back; within max_message_bytes too", () => {
  const cef = makeFormatter(formatOptions({ format: "cef" }), fixedDeps);
  const leef = makeFormatter(formatOptions({ format: "leef" }), fixedDeps);
  const json = makeFormatter(formatOptions({ format: "json", syslog_header: "none" }), fixedDeps);
  const small = makeFormatter(formatOptions({ format: "cef", max_message_bytes: 1024 }), fixedDeps);
  fc.assert(
    fc.property(incidentArb, (incident) => {
      const parsed = parseCef(assertOneLine(cef.format(incident, "incidents").bytes));
      assert.equal(parsed.classId, "MDE:Incident");
      const record = toDetectionRecord(incident, "incidents");
      // A key of printable ASCII reads back exactly (others are escaped or cut as any value is).
      const plainKey = !record.key.startsWith("sha256:") && /^[!-~]+$/.test(record.key);
      if (plainKey) assert.equal(parsed.extension.get("cs3"), record.key);
      assert.ok(parseLeef(assertOneLine(leef.format(incident, "incidents").bytes)).attributes.size >= 0);
      assert.equal(assertOneLine(json.format(incident, "incidents").bytes), JSON.stringify(incident));
      const cut = small.format(incident, "incidents");
      const line = assertOneLine(cut.bytes);
      if (!cut.tooLarge) assert.ok(cut.bytes.length <= 1024);
      const fitted = parseCef(line);
      if (plainKey) assert.equal(fitted.extension.get("cs3"), record.key, "never cut");
    }),
    { numRuns: Number(process.env.FC_RUNS ?? 150) },
  );
});

test("docs/sources.md's serviceSource table names every service and its header product", () => {
  const readme = readFileSync(new URL("../../../docs/sources.md", import.meta.url), "utf8");
  for (const service of GRAPH_SERVICE_SOURCES) {
    const product = SERVICE_PRODUCTS[service] ?? "`header.product`";
    const row = new RegExp(
      `^\\s*\\| \`${service}\`\\s*\\|[^|]*\\|\\s*\`?${product.replace(/[.`]/g, "\\$&")}`,
      "m",
    );
    assert.match(readme, row, service);
  }
});
