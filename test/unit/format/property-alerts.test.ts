// Property tests for alerts (Alerts API and Graph): arbitrary alert objects, hostile strings anywhere,
// nested evidence with wrong types and odd keys, must give one line that a strict parser reads back, in
// CEF, LEEF and JSON, with and without max_message_bytes; the only error is E_FORMAT, and only for what
// cannot be serialised. The expected values are computed here from the documented rules.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { ForwarderError } from "../../../src/errors.js";
import { normalizeDetection, selectionFieldsOf } from "../../../src/format/index.js";
import type { Detection } from "../../../src/record.js";
import { canonicalTimestamp } from "../../../src/timestamp.js";
import { parseCef } from "../../support/cef-parser.js";
import { parseLeef } from "../../support/leef-parser.js";
import { fixedDeps, formatOptions, makeFormatter } from "./fixtures.js";
import {
  assertOneLine,
  cefHeaderBytes,
  cefHeaderText,
  cefValueBytes,
  cefValueText,
  checkPrefix,
  checkValue,
  leefValueText,
  plainBytes,
} from "./oracle.js";

const NUM_RUNS = Number(process.env.FC_RUNS ?? 150);

const tricky = fc.constantFrom(
  "\\",
  "=",
  "|",
  "\r",
  "\n",
  "\t",
  "\0",
  "\x7f",
  " ",
  "\ud800",
  "\udfff",
  '"',
  "{",
  "]",
  ",",
  "é",
  "😀",
);
const char = fc.oneof(
  { weight: 2, arbitrary: tricky },
  { weight: 1, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) },
  { weight: 4, arbitrary: fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 1 }) },
);
const text = (maxLength: number) => fc.string({ unit: char, maxLength });
const longText = fc.oneof(
  { weight: 4, arbitrary: text(80) },
  {
    weight: 1,
    arbitrary: fc.tuple(text(30), fc.integer({ min: 20, max: 200 })).map(([s, n]) => s.repeat(n)),
  },
);

/** Any JSON value, hostile strings and keys included (`__proto__` among them: fast-check tries it). */
const { anyValue } = fc.letrec<{ anyValue: unknown }>((tie) => ({
  anyValue: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    text(20),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie("anyValue"), { maxLength: 3 }),
    fc.dictionary(text(8), tie("anyValue"), { maxKeys: 3 }),
  ),
}));
/** Mostly the type the API promises, sometimes anything. */
const or = <T>(arb: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 4, arbitrary: arb as fc.Arbitrary<unknown> }, { weight: 1, arbitrary: anyValue });

const timestamp = fc
  .tuple(
    fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2099, 11, 31) }),
    fc.integer({ min: 0, max: 7 }),
    fc.integer({ min: 0, max: 9_999_999 }),
  )
  .map(([ms, digits, fraction]) => {
    const base = new Date(ms).toISOString().slice(0, 19);
    return digits === 0 ? `${base}Z` : `${base}.${String(fraction).padStart(7, "0").slice(0, digits)}Z`;
  });
const time = fc.oneof({ weight: 4, arbitrary: timestamp }, { weight: 1, arbitrary: or(text(30)) });
const severity = fc.oneof(
  fc.constantFrom("high", "High", "MEDIUM", "low", "informational", "unknown", "UnSpecified", ""),
  text(10),
);

/** Adds a few more keys, hostile names included, to an entity or alert. */
const withMore = <T extends object>(arb: fc.Arbitrary<T>) =>
  fc.tuple(arb, fc.dictionary(text(8), anyValue, { maxKeys: 2 })).map(([o, more]) => ({ ...more, ...o }));

const account = fc.record({ accountName: or(text(20)), domainName: or(text(20)) }, { requiredKeys: [] });
const fileDetails = fc.record(
  { fileName: or(text(40)), filePath: or(longText), sha1: text(40), sha256: text(64), md5: text(32) },
  { requiredKeys: [] },
);
const GRAPH_TYPES = [
  "deviceEvidence",
  "fileEvidence",
  "processEvidence",
  "userEvidence",
  "ipEvidence",
  "urlEvidence",
  "registryKeyEvidence",
  "mailboxEvidence",
];
const graphEntity = withMore(
  fc.record(
    {
      "@odata.type": or(fc.constantFrom(...GRAPH_TYPES).map((t) => `#microsoft.graph.security.${t}`)),
      deviceDnsName: or(text(60)),
      mdeDeviceId: or(text(40)),
      rbacGroupName: or(text(30)),
      loggedOnUsers: or(fc.array(or(account), { maxLength: 3 })),
      tags: or(fc.array(text(10), { maxLength: 3 })),
      fileDetails: or(fileDetails),
      imageFile: or(fileDetails),
      userAccount: or(account),
      processCommandLine: or(longText),
      detectionStatus: or(fc.constantFrom("detected", "blocked", "prevented", "unknownFutureValue")),
      remediationStatus: or(fc.constantFrom("none", "remediated", "prevented", "unremediated", "notFound")),
      ipAddress: or(fc.oneof(fc.ipV4(), fc.ipV6(), text(20))),
      url: or(longText),
    },
    { requiredKeys: ["@odata.type"] },
  ),
);
const alertsEntity = withMore(
  fc.record(
    {
      entityType: or(fc.constantFrom("File", "Process", "User", "Ip", "Url", "Registry", "process", "IP")),
      sha1: or(text(40)),
      sha256: or(text(64)),
      fileName: or(text(40)),
      filePath: or(longText),
      processCommandLine: or(longText),
      detectionStatus: or(fc.constantFrom("Detected", "Blocked", "Prevented", null)),
      ipAddress: or(fc.oneof(fc.ipV4(), fc.ipV6(), text(20))),
      url: or(longText),
      accountName: or(text(20)),
      domainName: or(text(20)),
    },
    { requiredKeys: ["entityType"] },
  ),
);
const evidenceOf = (entity: fc.Arbitrary<unknown>) =>
  fc.oneof(
    {
      weight: 8,
      arbitrary: fc.array(fc.oneof({ weight: 6, arbitrary: entity }, { weight: 1, arbitrary: anyValue }), {
        maxLength: 6,
      }),
    },
    { weight: 1, arbitrary: anyValue },
  );
const evidenceIndex = fc.oneof({ weight: 3, arbitrary: fc.nat(20) }, { weight: 1, arbitrary: anyValue });

const graphAlert = withMore(
  fc.record(
    {
      id: or(text(40)),
      providerAlertId: or(text(40)),
      incidentId: or(text(8)),
      status: or(text(12)),
      severity,
      classification: or(text(12)),
      determination: or(text(12)),
      serviceSource: or(text(20)),
      detectionSource: or(text(20)),
      detectorId: or(text(40)),
      tenantId: or(text(36)),
      title: fc.oneof(longText, fc.constant(null)),
      description: or(longText),
      category: or(text(40)),
      assignedTo: or(text(30)),
      alertWebUrl: or(text(100)),
      incidentWebUrl: or(text(100)),
      actorDisplayName: or(text(20)),
      threatDisplayName: or(text(40)),
      threatFamilyName: or(text(20)),
      mitreTechniques: or(fc.array(text(12), { maxLength: 4 })),
      createdDateTime: time,
      lastUpdateDateTime: time,
      firstActivityDateTime: time,
      lastActivityDateTime: time,
      resolvedDateTime: time,
      evidence: evidenceOf(graphEntity),
      "@mde.evidenceIndex": evidenceIndex,
    },
    { requiredKeys: ["id", "severity", "title", "lastUpdateDateTime"] },
  ),
);
const alertsAlert = withMore(
  fc.record(
    {
      id: or(text(40)),
      incidentId: or(fc.nat()),
      investigationId: or(fc.nat()),
      investigationState: or(text(20)),
      assignedTo: or(text(30)),
      severity,
      status: or(text(12)),
      classification: or(text(12)),
      determination: or(text(12)),
      detectionSource: or(text(20)),
      detectorId: or(text(40)),
      category: or(text(40)),
      threatFamilyName: or(text(20)),
      threatName: or(text(40)),
      title: fc.oneof(longText, fc.constant(null)),
      description: or(longText),
      alertCreationTime: time,
      firstEventTime: time,
      lastEventTime: time,
      lastUpdateTime: time,
      resolvedTime: time,
      machineId: or(text(40)),
      computerDnsName: or(text(60)),
      rbacGroupName: or(text(30)),
      aadTenantId: or(text(36)),
      relatedUser: or(fc.record({ userName: or(text(20)), domainName: or(text(20)) }, { requiredKeys: [] })),
      mitreTechniques: or(fc.array(text(12), { maxLength: 4 })),
      evidence: evidenceOf(alertsEntity),
      "@mde.evidenceIndex": evidenceIndex,
    },
    { requiredKeys: ["id", "severity", "title", "lastUpdateTime"] },
  ),
);

type Alert = Record<string, unknown>;
const KINDS = [
  { kind: "graph", arb: graphAlert, lastUpdate: "lastUpdateDateTime" },
  { kind: "alerts", arb: alertsAlert, lastUpdate: "lastUpdateTime" },
] as const;

// --- The documented rules, written independently of src/format. ---

const SCORES = new Map([
  ["informational", "1"],
  ["low", "3"],
  ["medium", "5"],
  ["high", "8"],
]);
const PRI = new Map([
  ["informational", 134],
  ["low", 133],
  ["medium", 132],
  ["high", 131],
]);
const level = (v: unknown) => (typeof v === "string" ? v.trim().toLowerCase() : "");

function expectedFullId(a: Alert, lastUpdateKey: string): string | undefined {
  const scalar = (v: unknown) =>
    typeof v === "string" && v !== ""
      ? v
      : typeof v === "number" && Number.isFinite(v)
        ? String(v)
        : undefined;
  const id = scalar(a.id);
  if (id === undefined) return undefined;
  const version = canonicalTimestamp(a[lastUpdateKey]) ?? scalar(a[lastUpdateKey]);
  const index = a["@mde.evidenceIndex"];
  const split = typeof index === "number" && Number.isSafeInteger(index) && index >= 0;
  return `${id}${version === undefined ? "" : `@${version}`}${split ? `#${index}` : ""}`;
}

/** Evidence as documented: compact JSON, object members that are null, "" or [] left out. */
function expectedEvidence(evidence: unknown): string | undefined {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v !== null && typeof v === "object") {
      return Object.fromEntries(
        Object.entries(v)
          .filter(([, x]) => !(x === null || x === "" || (Array.isArray(x) && x.length === 0)))
          .map(([k, x]) => [k, strip(x)]),
      );
    }
    return v;
  };
  if (evidence === null || evidence === "" || (Array.isArray(evidence) && evidence.length === 0))
    return undefined;
  return evidence === undefined ? undefined : JSON.stringify(strip(evidence));
}

const titleOf = (a: Alert) => (typeof a.title === "string" && a.title !== "" ? a.title : "Unknown");

function checkCef(a: Alert, lastUpdateKey: string, bytes: Buffer, fitted: boolean): void {
  const line = assertOneLine(bytes);
  assert.ok(line.startsWith(`<${PRI.get(level(a.severity)) ?? 133}>1 `), "PRI from the normalized severity");
  const parsed = parseCef(line);
  assert.equal(parsed.severity, SCORES.get(level(a.severity)) ?? "0");
  checkValue("Name", parsed.name, cefHeaderText(titleOf(a)), 512, cefHeaderBytes, false);
  assert.ok(parsed.pairs.every(([k]) => /^[A-Za-z0-9]+$/.test(k)));
  const fullId = expectedFullId(a, lastUpdateKey);
  // FullId is never cut to fit: only its own 4000-byte limit applies.
  if (fullId === undefined) assert.equal(parsed.extension.get("cs3"), undefined);
  else checkValue("cs3", parsed.extension.get("cs3"), cefValueText(fullId), 4000, cefValueBytes, true);
  const check = fitted ? checkPrefix : checkValue;
  if (typeof a.category === "string") {
    check("cat", parsed.extension.get("cat"), cefValueText(a.category), 1023, cefValueBytes, true);
  }
  const evidence = expectedEvidence(a.evidence);
  const got = parsed.extension.get("MicrosoftDefenderEvidence");
  if (evidence === undefined) assert.equal(got, undefined);
  else {
    // JSON escapes every control character but DEL, which CEF turns into a space like anywhere else.
    const expected = cefValueText(evidence);
    check("Evidence", got, expected, 4000, cefValueBytes, true);
    // Whole, it is JSON again.
    if (got === expected) assert.doesNotThrow(() => JSON.parse(got));
  }
}

function checkLeef(a: Alert, lastUpdateKey: string, bytes: Buffer, fitted: boolean): void {
  const parsed = parseLeef(assertOneLine(bytes));
  assert.equal(parsed.attributes.get("sev"), SCORES.get(level(a.severity)));
  for (const value of parsed.attributes.values()) assert.ok(!value.includes("\t"));
  const fullId = expectedFullId(a, lastUpdateKey);
  assert.equal(parsed.attributes.get("FullId"), fullId === undefined ? undefined : leefValueText(fullId));
  const check = fitted ? checkPrefix : checkValue;
  if (typeof a.title === "string" && a.title !== "") {
    const inf = Number.POSITIVE_INFINITY;
    check("AlertTitle", parsed.attributes.get("AlertTitle"), leefValueText(a.title), inf, plainBytes, false);
  }
  const evidence = expectedEvidence(a.evidence);
  if (evidence === undefined) assert.equal(parsed.attributes.get("Evidence"), undefined);
  else {
    const got = parsed.attributes.get("Evidence");
    const expected = leefValueText(evidence);
    check("Evidence", got, expected, Number.POSITIVE_INFINITY, plainBytes, false);
    if (!fitted) assert.equal(JSON.stringify(JSON.parse(got ?? "")), JSON.stringify(JSON.parse(expected)));
  }
}

for (const { kind, arb, lastUpdate } of KINDS) {
  test(`${kind}: CEF, LEEF and JSON give one line that reads back, for any alert`, () => {
    const cef = makeFormatter(formatOptions({ format: "cef" }), fixedDeps);
    const leef = makeFormatter(formatOptions({ format: "leef" }), fixedDeps);
    const json = makeFormatter(formatOptions({ format: "json", syslog_header: "none" }), fixedDeps);
    fc.assert(
      fc.property(arb, (alert: Alert) => {
        checkCef(alert, lastUpdate, cef.format(alert, kind).bytes, false);
        checkLeef(alert, lastUpdate, leef.format(alert, kind).bytes, false);
        const line = assertOneLine(json.format(alert, kind).bytes);
        // JSON.stringify's text, except that U+0085, U+2028 and U+2029 are escaped (a receiver may split lines
        // on them); it still parses back to the alert as received.
        const escaped = JSON.stringify(alert).replace(
          /[\u0085\u2028\u2029]/g,
          (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
        );
        assert.equal(line, escaped, "JSON: the alert as received");
        assert.deepEqual(JSON.parse(line), JSON.parse(JSON.stringify(alert)));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  test(`${kind}: within max_message_bytes, the message fits or is flagged, and still reads back`, () => {
    fc.assert(
      fc.property(
        arb,
        fc.integer({ min: 256, max: 4096 }),
        fc.constantFrom("cef", "leef", "json") as fc.Arbitrary<"cef" | "leef" | "json">,
        (alert: Alert, max, format) => {
          const options = formatOptions({ format, syslog_header: "rfc5424", max_message_bytes: max });
          const { bytes, tooLarge } = makeFormatter(options, fixedDeps).format(alert, kind);
          if (tooLarge) assert.ok(bytes.length > max);
          else assert.ok(bytes.length <= max, `${bytes.length} > ${max}`);
          if (format === "cef") checkCef(alert, lastUpdate, bytes, true);
          else if (format === "leef") checkLeef(alert, lastUpdate, bytes, true);
          else {
            const line = assertOneLine(bytes);
            const back = JSON.parse(line.slice(line.indexOf("{"))) as Alert;
            assert.deepEqual(Object.keys(back), Object.keys(alert));
            // The alert's id (a string, as the APIs send it) is never cut.
            if (typeof alert.id === "string") assert.equal(back.id, alert.id);
          }
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  test(`${kind}: selectionFieldsOf agrees with the normalized detection`, () => {
    fc.assert(
      fc.property(arb, (alert: Alert) => {
        const n = normalizeDetection(alert, kind);
        const s = selectionFieldsOf(alert, kind);
        const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);
        assert.equal(s.severity, str(n.Severity));
        assert.equal(s.category, str(n.Category));
        assert.equal(s.machineGroup, str(n.MachineGroup));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  test(`${kind}: what cannot be serialised (a BigInt, a cycle in the evidence) is E_FORMAT, nothing else`, () => {
    const formatters = (["cef", "leef", "json"] as const).map((format) =>
      makeFormatter(formatOptions({ format }), fixedDeps),
    );
    const poison = fc.constantFrom<() => unknown>(
      () => 10n,
      () => {
        const cycle: Record<string, unknown> = {};
        cycle.self = cycle;
        return cycle;
      },
    );
    fc.assert(
      fc.property(arb, poison, fc.nat(), (alert: Alert, make, at) => {
        const evidence = Array.isArray(alert.evidence) ? [...alert.evidence] : [];
        evidence.splice(at % (evidence.length + 1), 0, {
          "@odata.type": "x",
          entityType: "File",
          bad: make(),
        });
        const bad: Detection = { ...alert, evidence };
        for (const formatter of formatters) {
          assert.throws(
            () => formatter.format(bad, kind),
            (err: unknown) => err instanceof ForwarderError && err.code === "E_FORMAT",
          );
        }
      }),
      { numRuns: Math.ceil(NUM_RUNS / 3) },
    );
  });
}
