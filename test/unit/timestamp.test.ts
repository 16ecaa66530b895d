import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  canonicalTimestamp,
  formatApiTime,
  formatTimestamp,
  parseTimestamp,
  ticksFromMs,
} from "../../src/timestamp.js";

test("keeps all seven fraction digits", () => {
  const t = parseTimestamp("2020-09-30T14:11:44.0779765Z");
  assert.equal(t, 16014751040779765n);
  assert.equal(formatTimestamp(t ?? 0n), "2020-09-30T14:11:44.0779765Z");
});

test("pads shorter fractions so that string order is time order", () => {
  assert.equal(canonicalTimestamp("2020-09-30T14:09:20.35743Z"), "2020-09-30T14:09:20.3574300Z");
  assert.equal(canonicalTimestamp("2020-09-30T14:09:20Z"), "2020-09-30T14:09:20.0000000Z");
  assert.equal(canonicalTimestamp("2020-09-30T14:09:20.1Z"), "2020-09-30T14:09:20.1000000Z");
  // As raw strings "…20.35743Z" > "…20.3574301Z" would be wrong; canonical forms compare right.
  const a = canonicalTimestamp("2020-09-30T14:09:20.35743Z") ?? "";
  const b = canonicalTimestamp("2020-09-30T14:09:20.3574301Z") ?? "";
  assert.ok(a < b);
});

test("accepts offsets and a missing zone (UTC), rejects nonsense", () => {
  assert.equal(canonicalTimestamp("2020-09-30T16:11:44.5+02:00"), "2020-09-30T14:11:44.5000000Z");
  assert.equal(canonicalTimestamp("2016-09-12T00:00:00.000"), "2016-09-12T00:00:00.0000000Z");
  for (const bad of ["", "yesterday", "2020-02-30T00:00:00Z", "2020-13-01T00:00:00Z", 42, null, undefined]) {
    assert.equal(parseTimestamp(bad), undefined, String(bad));
  }
});

test("drops digits beyond 100 ns without rounding up", () => {
  assert.equal(canonicalTimestamp("2020-09-30T14:11:44.123456789Z"), "2020-09-30T14:11:44.1234567Z");
});

test("API bounds round outward to whole milliseconds", () => {
  const t = parseTimestamp("2020-09-30T14:11:44.0779765Z") ?? 0n;
  assert.equal(formatApiTime(t, "floor"), "2020-09-30T14:11:44.077Z");
  assert.equal(formatApiTime(t, "ceil"), "2020-09-30T14:11:44.078Z");
  assert.equal(formatApiTime(ticksFromMs(1_000), "ceil"), "1970-01-01T00:00:01.000Z");
});

test("ancient years are read as written (Date.UTC would read 0001-0099 as 1901-1999)", () => {
  assert.equal(canonicalTimestamp("0001-01-01T00:00:00Z"), "0001-01-01T00:00:00.0000000Z");
  assert.equal(canonicalTimestamp("0050-06-15T12:00:00.5Z"), "0050-06-15T12:00:00.5000000Z");
  assert.equal(canonicalTimestamp("1969-12-31T23:59:59.9999999Z"), "1969-12-31T23:59:59.9999999Z");
  assert.equal(parseTimestamp("0004-02-29T00:00:00Z") !== undefined, true, "a leap day of year 4");
  assert.equal(parseTimestamp("0100-02-29T00:00:00Z"), undefined, "year 100 is not a leap year");
});

// The canonical form is read by a fast path; the same text with a lower-case `t` and `z` goes the general
// (regex and Date) path, so the two must agree on every date, valid or not.
const viaGeneralPath = (s: string) => s.replace("T", "t").replace("Z", "z");

test("the canonical fast path agrees with the general path, valid dates or not", () => {
  const pad = (n: number, w: number) => String(n).padStart(w, "0");
  const stamp = fc
    .tuple(
      fc.integer({ min: 0, max: 9999 }),
      fc.integer({ min: 0, max: 13 }),
      fc.integer({ min: 0, max: 32 }),
      fc.integer({ min: 0, max: 24 }),
      fc.integer({ min: 0, max: 60 }),
      fc.integer({ min: 0, max: 60 }),
      fc.integer({ min: 0, max: 9_999_999 }),
    )
    .map(
      ([y, mo, d, h, mi, s, f]) =>
        `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}T${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}.${pad(f, 7)}Z`,
    );
  fc.assert(
    fc.property(stamp, (s) => {
      assert.equal(parseTimestamp(s), parseTimestamp(viaGeneralPath(s)), s);
      assert.equal(canonicalTimestamp(s), canonicalTimestamp(viaGeneralPath(s)), s);
    }),
    { numRuns: 5000 },
  );
  for (const s of [
    "2020-02-29T00:00:00.0000000Z",
    "2021-02-29T00:00:00.0000000Z",
    "1900-02-29T00:00:00.0000000Z",
    "2000-02-29T23:59:59.9999999Z",
    "0099-12-31T23:59:59.9999999Z",
    "0100-01-01T00:00:00.0000000Z",
    "2020-04-31T00:00:00.0000000Z",
    "2020-09-30T14:11:44.07797a5Z",
  ]) {
    assert.equal(parseTimestamp(s), parseTimestamp(viaGeneralPath(s)), s);
    assert.equal(canonicalTimestamp(s), canonicalTimestamp(viaGeneralPath(s)), s);
  }
  assert.equal(canonicalTimestamp("2000-02-29T23:59:59.9999999Z"), "2000-02-29T23:59:59.9999999Z");
});

test("a canonical timestamp round-trips through ticks", () => {
  fc.assert(
    fc.property(
      fc.bigInt({ min: -621355968000000000n + 3_155_760_000_000_000n, max: 2_534_023_007_999_999_999n }),
      (t) => {
        const s = formatTimestamp(t);
        assert.equal(parseTimestamp(s), t);
        assert.equal(canonicalTimestamp(s), s);
      },
    ),
    { numRuns: 2000 },
  );
});
