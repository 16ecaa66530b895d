// Property tests: arbitrary strings (control characters, lone surrogates, escapes, multi-byte
// characters, long runs) in several fields must always give one parseable line whose values equal
// the input after the documented replacements, cut only where the documented limits force it.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { FACILITIES } from "../../../src/format/config.js";
import { FIT_FLOOR_BYTES } from "../../../src/format/fit.js";
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
  jsonStringBytes,
  leefHeaderText,
  leefValueText,
  leefValueTextWith,
  plainBytes,
} from "./oracle.js";

/** FullId and AlertId (CEF: cs3, externalId) are never cut to fit max_message_bytes. */
const WHOLE = new Set(["cs3", "externalId", "FullId", "AlertId"]);

const NUM_RUNS = Number(process.env.FC_RUNS ?? 300);

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
  "é",
  "中",
  "😀",
  "\\=",
  "\u0085",
  "\u2028",
  "\u2029",
  // Delimiters a LEEF destination may choose.
  "^",
  "~",
  ";",
  "#",
  ",",
);
const char = fc.oneof(
  { weight: 3, arbitrary: tricky },
  { weight: 2, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) },
  { weight: 3, arbitrary: fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 1 }) },
);
const text = (maxLength: number) => fc.string({ unit: char, maxLength });
/** Sometimes short, sometimes a repeated chunk long enough to cross a 4000-byte limit. */
const longText = fc.oneof(
  text(80),
  fc.tuple(text(40), fc.integer({ min: 1, max: 400 })).map(([s, n]) => s.repeat(n)),
);

const detectionArb = fc.record({
  Description: longText,
  CommandLine: longText,
  AlertId: text(60),
  RemediationAction: text(100),
  UserName: text(300),
  Category: text(40),
  ThreatName: text(40),
  IoaDefinitionId: fc.oneof(text(20), longText),
  AlertTitle: longText,
  "Odd field!": longText,
  Severity: fc.constantFrom("High", "medium", "LOW", "Informational", "Critical", ""),
});

type Hostile = typeof detectionArb extends fc.Arbitrary<infer T> ? T : never;

/** The CEF class id / LEEF EventID source, per the documented rule. */
function classIdSource(d: Hostile): string {
  return (
    d.IoaDefinitionId.trim() || d.ThreatName.trim() || `MDE:Unknown:${d.Category.trim() || "Unknown"}` // no Source in these detections
  );
}

const cefFields: ReadonlyArray<[keyof Hostile, string, number]> = [
  ["Description", "msg", 1023],
  ["CommandLine", "cs2", 4000],
  ["AlertId", "externalId", 40],
  ["RemediationAction", "act", 63],
  ["UserName", "suser", 1023],
  ["Category", "cat", 1023],
  ["ThreatName", "cs1", 4000],
  ["IoaDefinitionId", "MicrosoftDefenderIoaDefinitionId", 4000],
  ["Odd field!", "MicrosoftDefenderOddfield", 4000],
];

test("CEF: one line, parses back, values equal after replacements, cuts only where forced", () => {
  const cef = makeFormatter(formatOptions({ format: "cef", syslog_header: "rfc5424" }), fixedDeps);
  fc.assert(
    fc.property(detectionArb, (d) => {
      const { bytes, truncated } = cef.format(d);
      const parsed = parseCef(assertOneLine(bytes));
      let cuts = 0;
      cuts += Number(
        checkValue("Name", parsed.name, cefHeaderText(d.AlertTitle || "Unknown"), 512, cefHeaderBytes, false),
      );
      cuts += Number(
        checkValue("classId", parsed.classId, cefHeaderText(classIdSource(d)), 1023, cefHeaderBytes, false),
      );
      for (const [field, key, limit] of cefFields) {
        const got = parsed.extension.get(key);
        if (got !== undefined) assert.notEqual(got, "", `${key} present but empty`);
        cuts += Number(checkValue(field, got, cefValueText(d[field]), limit, cefValueBytes, true));
      }
      assert.equal(truncated, cuts);
      const level = d.Severity.toLowerCase();
      const expected = { informational: "1", low: "3", medium: "5", high: "8" }[level] ?? "0";
      assert.equal(parsed.severity, expected);
      assert.ok(parsed.pairs.every(([k]) => /^[A-Za-z0-9]+$/.test(k)));
    }),
    { numRuns: NUM_RUNS },
  );
});

const leefFields: ReadonlyArray<[keyof Hostile, string]> = [
  ["Description", "Description"],
  ["CommandLine", "CommandLine"],
  ["AlertId", "AlertId"],
  ["RemediationAction", "RemediationAction"],
  ["Category", "cat"],
  ["ThreatName", "ThreatName"],
  ["IoaDefinitionId", "IoaDefinitionId"],
  ["AlertTitle", "AlertTitle"],
  ["Odd field!", "Oddfield"],
];

test("LEEF: one line, parses back on the delimiter and first =, values equal after replacements", () => {
  for (const leef_version of ["1.0", "2.0"] as const) {
    const leef = makeFormatter(
      formatOptions({ format: "leef", leef_version, syslog_header: "rfc3164" }),
      fixedDeps,
    );
    fc.assert(
      fc.property(detectionArb, (d) => {
        const { bytes, truncated } = leef.format(d);
        const parsed = parseLeef(assertOneLine(bytes));
        assert.equal(parsed.version, leef_version);
        let cuts = 0;
        cuts += Number(
          checkValue("EventID", parsed.eventId, leefHeaderText(classIdSource(d)), 255, plainBytes, false),
        );
        cuts += Number(
          checkValue(
            "usrName",
            parsed.attributes.get("usrName"),
            leefValueText(d.UserName),
            255,
            plainBytes,
            false,
          ),
        );
        for (const [field, key] of leefFields) {
          const expected = d[field] === "" ? undefined : leefValueText(d[field]);
          assert.equal(parsed.attributes.get(key), expected, key);
        }
        assert.equal(truncated, cuts);
        for (const value of parsed.attributes.values()) assert.ok(!value.includes("\t"));
      }),
      { numRuns: NUM_RUNS },
    );
  }
});

test("JSON: one line and the same object back, whatever the strings", () => {
  const json = makeFormatter(formatOptions({ format: "json", syslog_header: "none" }), fixedDeps);
  fc.assert(
    fc.property(detectionArb, (d) => {
      const line = assertOneLine(json.format(d).bytes);
      // fc.record builds null-prototype objects; JSON.parse builds plain ones.
      assert.deepEqual(JSON.parse(line), { ...d });
    }),
    { numRuns: NUM_RUNS },
  );
});

test("syslog PRI stays within 0-191 and the header is printable ASCII for any facility and severity", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...(Object.keys(FACILITIES) as Array<keyof typeof FACILITIES>)),
      fc.constantFrom("High", "Medium", "Low", "Informational", "whatever"),
      fc.constantFrom("rfc5424", "rfc3164") as fc.Arbitrary<"rfc5424" | "rfc3164">,
      fc.string({ unit: "binary", maxLength: 40 }),
      (facility, severity, syslog_header, hostname) => {
        const formatter = makeFormatter(formatOptions({ facility, syslog_header, format: "json" }), {
          ...fixedDeps,
          hostname,
        });
        const line = formatter.format({ Severity: severity }).bytes.toString();
        const header = line.slice(0, line.indexOf("{"));
        const pri = Number(/^<(\d{1,3})>/.exec(header)?.[1]);
        assert.ok(pri >= 0 && pri <= 191);
        assert.equal(pri >> 3, FACILITIES[facility]);
        // RFC 3164 pads a one-digit day with a second space.
        assert.match(header, /^[\x21-\x7e]+( {1,2}[\x21-\x7e]+)+ $/);
      },
    ),
    { numRuns: NUM_RUNS },
  );
});

// max_message_bytes: whatever the limit in [256, 4096], a message fits, or it is flagged tooLarge and
// then every value in it is already at the floor; it stays one line that parses back, header fields
// are cut only to their own limits, and every value is a prefix of the original (after replacements).
const maxArb = fc.integer({ min: 256, max: 4096 });
const styleArb = fc.constantFrom("rfc5424", "rfc3164", "none") as fc.Arbitrary<
  "rfc5424" | "rfc3164" | "none"
>;

function checkSize(bytes: Buffer, max: number, tooLarge: boolean): void {
  if (tooLarge) assert.ok(bytes.length > max, `tooLarge, yet ${bytes.length} <= ${max}`);
  else assert.ok(bytes.length <= max, `${bytes.length} bytes exceed ${max}`);
}

test("CEF within max_message_bytes: fits or every value is at the floor; values are prefixes", () => {
  fc.assert(
    fc.property(detectionArb, maxArb, styleArb, (d, max, syslog_header) => {
      const options = formatOptions({ format: "cef", syslog_header, max_message_bytes: max });
      const { bytes, truncated, tooLarge } = makeFormatter(options, fixedDeps).format(d);
      checkSize(bytes, max, tooLarge);
      const parsed = parseCef(assertOneLine(bytes));
      let cuts = Number(
        checkValue("Name", parsed.name, cefHeaderText(d.AlertTitle || "Unknown"), 512, cefHeaderBytes, false),
      );
      cuts += Number(
        checkValue("classId", parsed.classId, cefHeaderText(classIdSource(d)), 1023, cefHeaderBytes, false),
      );
      for (const [field, key, limit] of cefFields) {
        cuts += Number(
          checkPrefix(field, parsed.extension.get(key), cefValueText(d[field]), limit, cefValueBytes, true),
        );
      }
      assert.equal(truncated, cuts, "every cut value counted once");
      if (tooLarge) {
        for (const [key, value] of parsed.pairs) {
          if (!key.endsWith("Label") && !WHOLE.has(key))
            assert.ok(cefValueBytes(value) <= FIT_FLOOR_BYTES, `${key} above the floor`);
        }
      }
    }),
    { numRuns: NUM_RUNS },
  );
});

/** [leef_delimiter as configured, the character] */
const delimiterArb = fc.constantFrom(
  [undefined, "\t"],
  ["x09", "\t"],
  ["^", "^"],
  ["x5E", "^"],
  ["0x7e", "~"],
  [";", ";"],
  ["#", "#"],
  ["0x002C", ","],
) as fc.Arbitrary<[string | undefined, string]>;

test("LEEF with any delimiter and within max_message_bytes: no value holds the delimiter; prefixes", () => {
  fc.assert(
    fc.property(
      detectionArb,
      delimiterArb,
      fc.option(maxArb),
      styleArb,
      (d, [leef_delimiter, char], max, syslog_header) => {
        const options = formatOptions({
          format: "leef",
          leef_delimiter,
          syslog_header,
          max_message_bytes: max ?? undefined,
        });
        const { bytes, truncated, tooLarge } = makeFormatter(options, fixedDeps).format(d);
        if (max === null) assert.equal(tooLarge, false);
        else checkSize(bytes, max, tooLarge);
        const parsed = parseLeef(assertOneLine(bytes));
        const text = leefValueTextWith(char);
        let cuts = Number(
          checkValue("EventID", parsed.eventId, leefHeaderText(classIdSource(d)), 255, plainBytes, false),
        );
        const usrName = parsed.attributes.get("usrName");
        cuts += Number(checkPrefix("usrName", usrName, text(d.UserName), 255, plainBytes, false));
        for (const [field, key] of leefFields) {
          const got = parsed.attributes.get(key);
          if (d[field] === "") assert.equal(got, undefined, key);
          else
            cuts += Number(
              checkPrefix(key, got, text(d[field]), Number.POSITIVE_INFINITY, plainBytes, false),
            );
        }
        assert.equal(truncated, cuts, "every cut value counted once");
        for (const [key, value] of parsed.attributes) {
          assert.ok(!value.includes(char), `${key} holds the delimiter`);
          if (tooLarge && !WHOLE.has(key))
            assert.ok(plainBytes(value) <= FIT_FLOOR_BYTES, `${key} above the floor`);
        }
      },
    ),
    { numRuns: NUM_RUNS },
  );
});

test("JSON within max_message_bytes: valid JSON, same keys, strings are prefixes, the rest intact", () => {
  fc.assert(
    fc.property(detectionArb, maxArb, styleArb, (d, max, syslog_header) => {
      const options = formatOptions({ format: "json", syslog_header, max_message_bytes: max });
      const { bytes, truncated, tooLarge } = makeFormatter(options, fixedDeps).format(d);
      checkSize(bytes, max, tooLarge);
      const line = assertOneLine(bytes);
      const back = JSON.parse(line.slice(line.indexOf("{"))) as Record<string, unknown>;
      assert.deepEqual(Object.keys(back), Object.keys(d));
      let cuts = 0;
      for (const [key, value] of Object.entries(d)) {
        const got = back[key];
        assert.equal(typeof got, "string");
        cuts += Number(
          checkPrefix(key, got as string, value, Number.POSITIVE_INFINITY, jsonStringBytes, false),
        );
        if (tooLarge && !WHOLE.has(key)) {
          assert.ok(jsonStringBytes(got as string) <= FIT_FLOOR_BYTES, `${key} above the floor`);
        }
      }
      assert.equal(truncated, cuts);
    }),
    { numRuns: NUM_RUNS },
  );
});
