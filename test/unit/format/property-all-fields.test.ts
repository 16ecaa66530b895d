// Bad input never crosses into the SIEM's parser: EVERY field of the SIEM schema gets an arbitrary
// string (control characters, lone surrogates, escapes, multi-byte characters, values far over every
// limit), and each encoded CEF and LEEF message must be one line that a strict parser reads back to
// the original value, or to its documented replacement or truncation. The expected key of each field
// is written out here from the mapping page, independently of src/format.
import assert from "node:assert/strict";
import { isIPv4, isIPv6 } from "node:net";
import { test } from "node:test";
import fc from "fast-check";
import { FIT_FLOOR_BYTES } from "../../../src/format/fit.js";
import { DETECTION_KEYS } from "../../../src/simulator/index.js";
import { parseTimestamp, ticksToMs } from "../../../src/timestamp.js";
import { parseCef } from "../../support/cef-parser.js";
import { parseLeef } from "../../support/leef-parser.js";
import { fixedDeps, formatOptions, makeFormatter } from "./fixtures.js";
import {
  assertOneLine,
  cefExtraKey,
  cefHeaderBytes,
  cefHeaderText,
  cefValueBytes,
  cefValueText,
  checkValue,
  leefHeaderText,
  leefValueText,
  plainBytes,
  trimSpaces,
} from "./oracle.js";

/** FullId and AlertId (CEF: cs3, externalId) are never cut to fit max_message_bytes. */
const WHOLE = new Set(["cs3", "externalId", "FullId", "AlertId"]);

const NUM_RUNS = Number(process.env.FC_RUNS ?? 150);

/** CEF dictionary keys and limits (src/format/cef-dictionary.ts), for the fields mapped as plain strings. */
const CEF_STRING_KEYS: Record<string, [string, number]> = {
  Category: ["cat", 1023],
  Source: ["sourceServiceName", 1023],
  MachineName: ["shost", 1023],
  FileName: ["fname", 1023],
  FilePath: ["filePath", 1023],
  UserDomain: ["sntdom", 255],
  UserName: ["suser", 1023],
  Sha1: ["fileHash", 255],
  Sha256: ["cs6", 4000],
  Md5: ["cs5", 4000],
  ThreatName: ["cs1", 4000],
  Url: ["request", 1023],
  AlertId: ["externalId", 40],
  LinkToWDATP: ["flexString1", 1023],
  MachineDomain: ["sourceDnsDomain", 255],
  Actor: ["cs4", 4000],
  LogOnUsers: ["suid", 1023],
  CommandLine: ["cs2", 4000],
  FullId: ["cs3", 4000],
  Description: ["msg", 1023],
  DeviceID: ["deviceExternalId", 255],
  RemediationAction: ["act", 63],
};
const LABELS: Record<string, string> = {
  cs1: "ThreatName",
  cs2: "CommandLine",
  cs3: "FullId",
  cs4: "Actor",
  cs5: "Md5",
  cs6: "Sha256",
  flexString1: "LinkToWDATP",
};
const USER_DEFINED_MAX = 4000;

const tricky = fc.constantFrom(
  "\\",
  "=",
  "|",
  "\r",
  "\n",
  "\r\n",
  "\t",
  "\0",
  "\x7f",
  " ",
  "\ud800",
  "\udfff",
);
const char = fc.oneof(
  { weight: 2, arbitrary: tricky },
  { weight: 1, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) },
  { weight: 4, arbitrary: fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.constantFrom("é", "中", "😀", "ß") },
);
const text = (maxLength: number) => fc.string({ unit: char, maxLength });
const value = fc.oneof(
  { weight: 1, arbitrary: fc.constant("") },
  { weight: 5, arbitrary: text(60) },
  // Far over the 4000-byte limits, so truncation happens in every run for some field.
  {
    weight: 1,
    arbitrary: fc.tuple(text(30), fc.integer({ min: 100, max: 600 })).map(([s, n]) => s.repeat(n)),
  },
);
const detectionArb = fc.record(
  Object.fromEntries(DETECTION_KEYS.map((k) => [k, value])) as Record<
    (typeof DETECTION_KEYS)[number],
    typeof value
  >,
);
type Hostile = Record<string, string>;

// Maps, not object literals: fast-check likes to try "__proto__".
const FLAGS = new Map([
  ["true", "1"],
  ["false", "0"],
]);
const SCORES = new Map([
  ["informational", "1"],
  ["low", "3"],
  ["medium", "5"],
  ["high", "8"],
]);
const flag = (v: string) => FLAGS.get(v.trim().toLowerCase());
const severityScore = (v: string) => SCORES.get(v.trim().toLowerCase());
const epochMs = (v: string) => {
  const t = parseTimestamp(v);
  return t === undefined ? undefined : String(ticksToMs(t));
};
/** Where the class id / EventID comes from, per the documented rule. */
function classIdSource(d: Hostile): string {
  const source = d.Source?.trim() || "Unknown";
  const category = d.Category?.trim() || "Unknown";
  return d.IoaDefinitionId?.trim() || d.ThreatName?.trim() || `MDE:${source}:${category}`;
}

test("CEF: every field of an arbitrary detection reads back from one line", () => {
  const cef = makeFormatter(formatOptions({ format: "cef", syslog_header: "rfc5424" }), fixedDeps);
  fc.assert(
    fc.property(detectionArb, (raw) => {
      const d = raw as Hostile;
      const { bytes, truncated } = cef.format(d);
      const parsed = parseCef(assertOneLine(bytes));
      const ext = parsed.extension;
      const expectedKeys = new Set<string>();
      let cuts = 0;
      const expectValue = (field: string, key: string, text: string, limit: number) => {
        if (trimSpaces(text) === "") {
          assert.equal(ext.get(key), undefined, `${field}: a value of spaces only is omitted`);
          return;
        }
        expectedKeys.add(key);
        cuts += Number(checkValue(field, ext.get(key), text, limit, cefValueBytes, true));
        const label = LABELS[key];
        if (label) {
          expectedKeys.add(`${key}Label`);
          assert.equal(ext.get(`${key}Label`), label);
        }
      };
      for (const field of DETECTION_KEYS) {
        const v = d[field] ?? "";
        const mapped = CEF_STRING_KEYS[field];
        if (v === "") continue;
        if (mapped) {
          expectValue(field, mapped[0], cefValueText(v), mapped[1]);
        } else if (field === "AlertTitle") {
          cuts += Number(checkValue("Name", parsed.name, cefHeaderText(v), 512, cefHeaderBytes, false));
        } else if (field === "Severity" && severityScore(v) !== undefined) {
          assert.equal(parsed.severity, severityScore(v));
        } else if (field === "IpAddress" && isIPv4(v)) {
          expectValue(field, "src", v, 1023);
        } else if (field === "IpAddress" && isIPv6(v)) {
          expectValue(field, "c6a2", v, 1023);
          expectedKeys.add("c6a2Label");
        } else if ((field === "LastProcessedTimeUtc" || field === "AlertTime") && epochMs(v) !== undefined) {
          const key = field === "AlertTime" ? "start" : "rt";
          expectedKeys.add(key);
          assert.equal(ext.get(key), epochMs(v));
        } else if (
          (field === "RemediationIsSuccess" || field === "WasExecutingWhileDetected") &&
          flag(v) !== undefined
        ) {
          const key = field === "RemediationIsSuccess" ? "cn2" : "cn1";
          expectedKeys.add(key).add(`${key}Label`);
          assert.equal(ext.get(key), flag(v));
        } else {
          // Everything else, and every value a rule could not map, under a user-defined key.
          expectValue(field, cefExtraKey(field), cefValueText(v), USER_DEFINED_MAX);
        }
      }
      if (severityScore(d.Severity ?? "") === undefined) assert.equal(parsed.severity, "0");
      cuts += Number(
        checkValue("classId", parsed.classId, cefHeaderText(classIdSource(d)), 1023, cefHeaderBytes, false),
      );
      if (!d.AlertTitle) assert.equal(parsed.name, "Unknown");
      assert.equal(truncated, cuts, "every cut is counted");
      // Nothing appears that the mapping does not put there.
      assert.deepEqual(
        [...ext.keys()].filter((k) => !expectedKeys.has(k)),
        [],
      );
    }),
    { numRuns: NUM_RUNS },
  );
});

test("LEEF 2.0 and 1.0: every field of an arbitrary detection reads back from one line", () => {
  for (const leef_version of ["2.0", "1.0"] as const) {
    const leef = makeFormatter(
      formatOptions({ format: "leef", leef_version, syslog_header: "none" }),
      fixedDeps,
    );
    fc.assert(
      fc.property(detectionArb, (raw) => {
        const d = raw as Hostile;
        const { bytes, truncated } = leef.format(d);
        const parsed = parseLeef(assertOneLine(bytes));
        const attrs = parsed.attributes;
        let cuts = Number(
          checkValue("EventID", parsed.eventId, leefHeaderText(classIdSource(d)), 255, plainBytes, false),
        );
        const expectedKeys = new Set<string>();
        for (const field of DETECTION_KEYS) {
          const v = d[field] ?? "";
          if (v === "") continue;
          let key = field.replace(/[^A-Za-z0-9]/g, "");
          let expected: string | undefined = leefValueText(v);
          if (field === "LastProcessedTimeUtc" && epochMs(v) !== undefined) {
            key = "devTime";
            expected = epochMs(v);
          } else if (field === "Severity" && severityScore(v) !== undefined) {
            key = "sev";
            expected = severityScore(v);
          } else if (field === "Category") {
            key = "cat";
          } else if (field === "IpAddress" && (isIPv4(v) || isIPv6(v))) {
            key = "src";
          } else if (field === "Url") {
            key = "url";
          } else if (field === "UserName") {
            expectedKeys.add("usrName");
            cuts += Number(checkValue("usrName", attrs.get("usrName"), expected, 255, plainBytes, false));
            continue;
          }
          expectedKeys.add(key);
          assert.equal(attrs.get(key), expected, `${field} as ${key}`);
        }
        assert.equal(truncated, cuts, "every cut is counted");
        assert.deepEqual(
          [...attrs.keys()].filter((k) => !expectedKeys.has(k)),
          [],
        );
        for (const v of attrs.values())
          assert.ok(!/[\t\r\n]/.test(v), "no delimiter or line break in a value");
      }),
      { numRuns: Math.ceil(NUM_RUNS / 2) },
    );
  }
});

// The same detections within a random max_message_bytes: compared with the unlimited message, the
// header is the same, keys keep their order, and every value is a prefix of the unlimited one. A
// message either fits or is tooLarge with every value at the floor.
test("CEF, LEEF and JSON within max_message_bytes: the unlimited message, values cut to prefixes", () => {
  const formatters = (["cef", "leef", "json"] as const).map((format) => ({
    format,
    free: makeFormatter(formatOptions({ format, syslog_header: "rfc5424" }), fixedDeps),
  }));
  fc.assert(
    fc.property(detectionArb, fc.integer({ min: 256, max: 4096 }), (raw, max) => {
      const d = raw as Hostile;
      for (const { format, free } of formatters) {
        const limited = makeFormatter(
          formatOptions({ format, syslog_header: "rfc5424", max_message_bytes: max }),
          fixedDeps,
        ).format(d);
        const full = free.format(d);
        if (limited.tooLarge) assert.ok(limited.bytes.length > max);
        else assert.ok(limited.bytes.length <= max, `${format}: ${limited.bytes.length} > ${max}`);
        assert.ok(limited.truncated >= full.truncated);
        const line = assertOneLine(limited.bytes);
        const fullLine = full.bytes.toString();
        let pairs: Array<readonly [string, string]>;
        let fullPairs: Map<string, string>;
        let floorBytes: (v: string) => number;
        if (format === "cef") {
          const a = parseCef(line);
          const b = parseCef(fullLine);
          assert.deepEqual([a.name, a.classId, a.severity], [b.name, b.classId, b.severity]);
          pairs = [...a.pairs];
          fullPairs = new Map(b.pairs);
          floorBytes = cefValueBytes;
        } else if (format === "leef") {
          const a = parseLeef(line);
          const b = parseLeef(fullLine);
          assert.equal(a.eventId, b.eventId);
          pairs = [...a.attributes];
          fullPairs = new Map(b.attributes);
          floorBytes = plainBytes;
        } else {
          const a = JSON.parse(line.slice(line.indexOf("{"))) as Record<string, string>;
          const b = JSON.parse(fullLine.slice(fullLine.indexOf("{"))) as Record<string, string>;
          pairs = Object.entries(a);
          fullPairs = new Map(Object.entries(b));
          floorBytes = (v) => Buffer.byteLength(JSON.stringify(v)) - 2;
        }
        const fullKeys = [...fullPairs.keys()];
        let cut = 0;
        let last = -1;
        for (const [key, value] of pairs) {
          const before = fullPairs.get(key);
          assert.ok(before !== undefined, `${format}: ${key} is not in the unlimited message`);
          assert.ok(before.startsWith(value), `${format}: ${key} is not a prefix`);
          if (value !== before) cut++;
          if (limited.tooLarge && !key.endsWith("Label") && !WHOLE.has(key)) {
            assert.ok(floorBytes(value) <= FIT_FLOOR_BYTES);
          }
          if (WHOLE.has(key)) assert.equal(value, before, `${format}: ${key} is never cut to fit`);
          const at = fullKeys.indexOf(key);
          assert.ok(at > last, `${format}: ${key} out of order`);
          last = at;
        }
        // A CEF value cut to blanks is left out with its label: only a value starting with a space.
        for (const key of fullKeys) {
          if (!pairs.some(([k]) => k === key) && !key.endsWith("Label")) {
            assert.equal(format, "cef", `${format}: ${key} missing`);
            assert.ok(fullPairs.get(key)?.startsWith(" "), `${key} missing`);
          }
        }
        assert.ok(limited.truncated <= full.truncated + cut, "no cut counted twice");
      }
    }),
    { numRuns: Math.ceil(NUM_RUNS / 2) },
  );
});
