// The fast timestamp path must agree with parseTimestamp on every input, valid or not.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { epochMs, millisText } from "../../../src/format/epoch-ms.js";
import { parseTimestamp, ticksToMs } from "../../../src/timestamp.js";

const NUM_RUNS = Number(process.env.FC_RUNS ?? 300);

function reference(value: unknown): string | undefined {
  const ticks = parseTimestamp(value);
  return ticks === undefined ? undefined : String(ticksToMs(ticks));
}

const pad = (n: number, width: number) => String(n).padStart(width, "0");

/** Mostly well-formed API timestamps, with out-of-range parts, odd separators and fractions mixed in. */
const timestamp = fc
  .record({
    year: fc.oneof(fc.integer({ min: 1960, max: 2100 }), fc.integer({ min: 0, max: 9999 })),
    month: fc.integer({ min: 0, max: 13 }),
    day: fc.integer({ min: 0, max: 32 }),
    hour: fc.integer({ min: 0, max: 24 }),
    minute: fc.integer({ min: 0, max: 60 }),
    second: fc.integer({ min: 0, max: 60 }),
    fraction: fc.option(fc.stringMatching(/^[0-9]{0,11}$/), { nil: undefined }),
    t: fc.constantFrom("T", "T", "T", " ", "t", "x"),
    zone: fc.constantFrom("Z", "Z", "Z", "z", "", "+01:00", "-0530", "ZZ"),
    space: fc.constantFrom("", "", "", " ", "\t"),
  })
  .map(
    (p) =>
      `${p.space}${pad(p.year, 4)}-${pad(p.month, 2)}-${pad(p.day, 2)}${p.t}${pad(p.hour, 2)}:` +
      `${pad(p.minute, 2)}:${pad(p.second, 2)}${p.fraction === undefined ? "" : `.${p.fraction}`}${p.zone}`,
  );

test("epochMs equals parseTimestamp + ticksToMs for timestamps, near-timestamps and anything else", () => {
  fc.assert(
    fc.property(fc.oneof(timestamp, fc.string(), fc.anything()), (value) => {
      assert.equal(epochMs(value), reference(value));
    }),
    { numRuns: NUM_RUNS * 10 },
  );
});

test("epochMs: the API's forms, leap days, the fraction cut (never rounded) and pre-1970 times", () => {
  const cases: [string, string | undefined][] = [
    ["2020-09-30T14:11:44.0779765Z", "1601475104077"],
    ["2020-09-30T14:11:44Z", "1601475104000"],
    ["2020-09-30T14:11:44.9999999Z", "1601475104999"],
    ["2020-09-30T14:11:44.5Z", "1601475104500"],
    ["2024-02-29T00:00:00Z", "1709164800000"],
    ["2023-02-29T00:00:00Z", undefined],
    ["1900-02-29T00:00:00Z", undefined],
    ["2000-02-29T00:00:00Z", "951782400000"],
    ["1969-12-31T23:59:59.9999Z", "-1"],
    ["2020-09-30T14:11:44.Z", undefined],
    ["0050-01-01T00:00:00Z", reference("0050-01-01T00:00:00Z")],
  ];
  for (const [text, expected] of cases) {
    assert.equal(epochMs(text), expected, text);
    assert.equal(epochMs(text), reference(text), text);
  }
});

test("millisText writes a number of milliseconds as String does", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.integer({ min: -1e6, max: 1e6 }),
        fc.integer({ min: 0, max: 2 ** 31 }).map((s) => s * 1000 + 999),
        fc.double({ min: -1e16, max: 1e16 }),
        fc.constantFrom(999, 1000, 1001, 1009, 1010, 1099, 1100, 1e15 - 1, 1e15, 8.64e15),
      ),
      (ms) => {
        assert.equal(millisText(ms), String(ms));
      },
    ),
    { numRuns: NUM_RUNS * 10 },
  );
});
