// format(detection, kind): CEF and LEEF encode the normalized alert with the destination's mapping, JSON
// sends the alert as received, and the severities come from the normalized Severity.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ForwarderError } from "../../../src/errors.js";
import type { FormatOptionsInput } from "../../../src/format/config.js";
import type { SourceKind } from "../../../src/record.js";
import { parseTimestamp, ticksToMs } from "../../../src/timestamp.js";
import { parseCef } from "../../support/cef-parser.js";
import { parseLeef } from "../../support/leef-parser.js";
import { fixedDeps, formatOptions, loadDetection, makeFormatter } from "./fixtures.js";
import { assertOneLine } from "./oracle.js";

const isFormatError = (err: unknown) =>
  err instanceof ForwarderError && err.code === "E_FORMAT" && err.permanent;

test("kind siem (or none) is the SIEM path, byte for byte", () => {
  for (const format of ["cef", "leef", "json"] as const) {
    const formatter = makeFormatter(formatOptions({ format }), fixedDeps);
    for (const name of ["microsoft-example", "hostile"]) {
      const d = loadDetection(name);
      assert.ok(formatter.format(d).bytes.equals(formatter.format(d, "siem").bytes), `${format} ${name}`);
    }
  }
});

test("JSON: the alert exactly as received, one line, nothing added", () => {
  const json = makeFormatter(formatOptions({ format: "json", syslog_header: "none" }), fixedDeps);
  for (const [name, kind] of [
    ["graph-alert", "graph"],
    ["graph-alert-split", "graph"],
    ["alerts-api-alert", "alerts"],
  ] as const) {
    const alert = loadDetection(name);
    const line = assertOneLine(json.format(alert, kind).bytes);
    assert.equal(line, JSON.stringify(alert));
  }
});

test("syslog PRI and CEF/LEEF severity come from the normalized Severity, any case", () => {
  const cases: Array<[unknown, number, string, string | undefined]> = [
    ["high", 3, "8", "8"],
    ["Medium", 4, "5", "5"],
    ["low", 5, "3", "3"],
    ["informational", 6, "1", "1"],
    ["unknown", 5, "0", undefined],
    ["UnSpecified", 5, "0", undefined],
  ];
  for (const kind of ["alerts", "graph"] as const) {
    for (const format of ["cef", "leef", "json"] as const) {
      const formatter = makeFormatter(formatOptions({ format, facility: "local0" }), fixedDeps);
      for (const [severity, syslog, cef, leef] of cases) {
        const text = formatter.format({ id: "a", title: "t", severity }, kind).bytes.toString();
        assert.ok(text.startsWith(`<${16 * 8 + syslog}>1 `), `${kind} ${format} ${severity}: ${text}`);
        if (format === "cef") {
          const parsed = parseCef(text);
          assert.equal(parsed.severity, cef);
          // An unknown severity is kept, raw, like the SIEM path keeps it.
          if (cef === "0") assert.equal(parsed.extension.get("MicrosoftDefenderSeverity"), severity);
        }
        if (format === "leef") assert.equal(parseLeef(text).attributes.get("sev"), leef);
      }
    }
  }
});

test("mapping overrides name SIEM fields (and the extra keys) and apply to every kind", () => {
  const options: FormatOptionsInput = {
    format: "cef",
    mapping: {
      fields: {
        MachineGroup: "cs5",
        Md5: null,
        Evidence: null,
        FirstActivityTime: "deviceCustomDate1",
        IncidentId: "cn3",
        Status: "MicrosoftDefenderAlertStatus",
      },
      labels: { cs5: "MachineGroup", deviceCustomDate1: "FirstActivity" },
      user_defined_keys: ["MicrosoftDefenderAlertStatus"],
    },
  };
  const cef = makeFormatter(options, fixedDeps);
  const graph = parseCef(cef.format(loadDetection("graph-alert"), "graph").bytes.toString());
  assert.equal(graph.extension.get("cs5"), "Finance Workstations");
  assert.equal(graph.extension.get("cs5Label"), "MachineGroup");
  assert.equal(graph.extension.get("cn3"), "4127");
  assert.equal(
    graph.extension.get("deviceCustomDate1"),
    String(ticksToMs(parseTimestamp("2024-01-15T08:20:02.871Z") ?? 0n)),
  );
  assert.equal(graph.extension.get("MicrosoftDefenderAlertStatus"), "inProgress");
  assert.ok(!graph.extension.has("MicrosoftDefenderStatus"));
  assert.ok(!graph.extension.has("MicrosoftDefenderEvidence"), "Evidence dropped");
  assert.ok(!graph.extension.has("MicrosoftDefenderMd5") && !graph.extension.has("cs5Md5"));
  const alerts = parseCef(cef.format(loadDetection("alerts-api-alert"), "alerts").bytes.toString());
  assert.equal(alerts.extension.get("cs5"), "HR Laptops");
  assert.equal(alerts.extension.get("cn3"), "4130");
  const siem = parseCef(cef.format(loadDetection("same-siem"), "siem").bytes.toString());
  assert.equal(siem.extension.get("cs5"), "Engineering");
});

test("the documented extra keys reach CEF as MicrosoftDefender<Key> and LEEF as <Key>", () => {
  const cef = parseCef(
    makeFormatter(formatOptions({ format: "cef" }), fixedDeps)
      .format(loadDetection("graph-alert"), "graph")
      .bytes.toString(),
  );
  const leef = parseLeef(
    makeFormatter(formatOptions({ format: "leef" }), fixedDeps)
      .format(loadDetection("graph-alert"), "graph")
      .bytes.toString(),
  );
  const extras: Record<string, string> = {
    Status: "inProgress",
    Classification: "truePositive",
    Determination: "malware",
    IncidentId: "4127",
    AssignedTo: "soc-analyst@contoso.example",
    MitreTechniques: "T1204.002, T1059.001",
    FirstActivityTime: "2024-01-15T08:20:02.871Z",
    LastActivityTime: "2024-01-15T08:20:04.002Z",
    ProviderAlertId: "da638412947112345678_-1830244912",
    ServiceSource: "microsoftDefenderForEndpoint",
    LastUpdateTime: "2024-01-15T09:02:13.45Z",
    TenantId: "0c4f8e2a-6b1d-4a3e-9f57-1e2d3c4b5a69",
    MachineTags: "Finance, VIP",
    EvidenceCount: "7",
  };
  for (const [key, value] of Object.entries(extras)) {
    assert.equal(cef.extension.get(`MicrosoftDefender${key}`), value, key);
    assert.equal(leef.attributes.get(key), value, key);
  }
  const evidence = JSON.parse(cef.extension.get("MicrosoftDefenderEvidence") ?? "") as unknown[];
  assert.equal(evidence.length, 7);
  assert.deepEqual(JSON.parse(leef.attributes.get("Evidence") ?? ""), evidence);
  // The CEF user-defined limit (4000 bytes) applies to Evidence like to any other value.
  const big = loadDetection("graph-alert") as { evidence: unknown[] };
  const many = { ...big, evidence: Array.from({ length: 20 }, () => big.evidence[2]) };
  const cut = makeFormatter(formatOptions({ format: "cef" }), fixedDeps).format(many, "graph");
  const value = parseCef(cut.bytes.toString()).extension.get("MicrosoftDefenderEvidence") ?? "";
  assert.ok(Buffer.byteLength(value.replace(/[\\=]/g, "xx")) <= 4000);
  assert.ok(cut.truncated >= 1);
});

test("JSON within max_message_bytes: an alert's nested strings are cut, its id never; valid JSON", () => {
  const alert = loadDetection("graph-alert");
  // Its compact JSON takes 5655 bytes; keys and structure alone take some 4300.
  const max = 5000;
  const options = formatOptions({ format: "json", syslog_header: "rfc5424", max_message_bytes: max });
  const { bytes, truncated, tooLarge } = makeFormatter(options, fixedDeps).format(alert, "graph");
  assert.equal(tooLarge, false);
  assert.ok(bytes.length <= max, `${bytes.length} bytes`);
  assert.ok(truncated > 0);
  const text = assertOneLine(bytes);
  const back = JSON.parse(text.slice(text.indexOf("{"))) as Record<string, unknown>;
  assert.equal(back.id, alert.id);
  assert.equal(back.providerAlertId, alert.providerAlertId);
  assert.deepEqual(Object.keys(back), Object.keys(alert));
  // Same structure; every string a prefix of the original.
  let cuts = 0;
  const walk = (a: unknown, b: unknown, path: string): void => {
    if (typeof a === "string") {
      assert.equal(typeof b, "string", path);
      assert.ok(a.startsWith(b as string), path);
      if (a !== b) cuts++;
    } else if (Array.isArray(a)) {
      assert.ok(Array.isArray(b) && b.length === a.length, path);
      for (const [i, v] of a.entries()) walk(v, (b as unknown[])[i], `${path}[${i}]`);
    } else if (typeof a === "object" && a !== null) {
      assert.deepEqual(Object.keys(b as object), Object.keys(a), path);
      for (const [k, v] of Object.entries(a)) walk(v, (b as Record<string, unknown>)[k], `${path}.${k}`);
    } else assert.equal(b, a, path);
  };
  walk(alert, back, "");
  assert.equal(cuts, truncated);
  // The evidence's longest string (the command line) was among the cut ones.
  const processEvidence = (back.evidence as Array<Record<string, unknown>>)[2];
  assert.notEqual(
    processEvidence?.processCommandLine,
    (alert.evidence as Array<Record<string, unknown>>)[2]?.processCommandLine,
  );
});

test("an unknown kind or an alert that cannot be serialised is E_FORMAT, in every format", () => {
  const cyclic: Record<string, unknown> = { id: "x" };
  cyclic.self = cyclic;
  for (const format of ["cef", "leef", "json"] as const) {
    const formatter = makeFormatter(formatOptions({ format }), fixedDeps);
    assert.throws(() => formatter.format({ id: "x" }, "eventhub" as SourceKind), isFormatError);
    for (const kind of ["alerts", "graph"] as const) {
      assert.throws(() => formatter.format({ id: "x", evidence: [cyclic] }, kind), isFormatError);
      assert.throws(() => formatter.format({ id: "x", evidence: [{ n: 1n }] }, kind), isFormatError);
    }
  }
});
