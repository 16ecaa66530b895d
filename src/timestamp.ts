// MDE timestamps carry 100-ns precision (`2020-09-30T14:11:44.0779765Z`), more than `Date` keeps.
// They live here as bigint ticks (100 ns since the Unix epoch) and as one canonical string with
// exactly seven fraction digits, so that string order equals time order.

/** 100-nanosecond intervals since 1970-01-01T00:00:00Z. */
export type Ticks = bigint;

export const TICKS_PER_MS = 10_000n;
export const TICKS_PER_SECOND = 10_000_000n;

const PATTERN = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/i;

/** Parses an ISO-8601 UTC timestamp with 0-9 fraction digits; returns undefined if it is not one. */
export function parseTimestamp(value: unknown): Ticks | undefined {
  if (typeof value !== "string") return undefined;
  // Every detection's time is read two or three times during a backfill (window density, record, order):
  // the canonical form the API sends is read without a regex, a Date or a string per field.
  const whole = canonicalMs(value);
  if (whole !== undefined) return BigInt(whole) * TICKS_PER_MS + BigInt(fractionOf(value));
  const m = PATTERN.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac = "", zone = "Z"] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) {
    return undefined;
  }
  // Date.UTC reads years 0-99 as 1900-1999: set the full year explicitly.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  const ms = date.getTime();
  // Date.UTC rolls 31 February over into March: reject what does not round-trip.
  const check = new Date(ms);
  if (check.getUTCDate() !== day || check.getUTCMonth() !== month - 1) return undefined;
  let offsetMinutes = 0;
  if (zone.toUpperCase() !== "Z") {
    const sign = zone.startsWith("-") ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4)));
  }
  // Digits beyond the seventh are below our resolution and are dropped (never rounded up).
  const fraction = BigInt(`${frac}0000000`.slice(0, 7));
  return BigInt(ms - offsetMinutes * 60_000) * TICKS_PER_MS + fraction;
}

/** Canonical form: `YYYY-MM-DDTHH:MM:SS.fffffffZ`, always seven fraction digits. */
export function formatTimestamp(ticks: Ticks): string {
  const ms = floorDiv(ticks, TICKS_PER_MS);
  const subMs = ticks - ms * TICKS_PER_MS;
  const iso = new Date(Number(ms)).toISOString(); // 2020-09-30T14:11:44.077Z
  return `${iso.slice(0, 23)}${subMs.toString().padStart(4, "0")}Z`;
}

/** Parses and re-formats; undefined when the input is not a timestamp. */
export function canonicalTimestamp(value: unknown): string | undefined {
  // Already canonical (what the SIEM API sends): it is its own canonical form.
  if (typeof value === "string" && canonicalMs(value) !== undefined) return value;
  const t = parseTimestamp(value);
  return t === undefined ? undefined : formatTimestamp(t);
}

/**
 * Millisecond form for API query bounds (`2020-09-30T14:11:44.077Z`). `floor` for a lower bound and
 * `ceil` for an upper bound, so the requested range always contains the intended one.
 */
export function formatApiTime(ticks: Ticks, round: "floor" | "ceil"): string {
  let ms = floorDiv(ticks, TICKS_PER_MS);
  if (round === "ceil" && ms * TICKS_PER_MS < ticks) ms += 1n;
  return new Date(Number(ms)).toISOString();
}

export function ticksFromMs(ms: number): Ticks {
  return BigInt(Math.trunc(ms)) * TICKS_PER_MS;
}

export function ticksToMs(ticks: Ticks): number {
  return Number(floorDiv(ticks, TICKS_PER_MS));
}

export function ticksToSeconds(ticks: Ticks): number {
  return Number(ticks) / 1e7;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

const ZERO = 0x30;
/** Where the canonical form (`YYYY-MM-DDTHH:MM:SS.fffffffZ`) has a separator, and which. */
const SEPARATORS: ReadonlyArray<readonly [number, number]> = [
  [4, 0x2d],
  [7, 0x2d],
  [10, 0x54],
  [13, 0x3a],
  [16, 0x3a],
  [19, 0x2e],
  [27, 0x5a],
];
const CANONICAL_LENGTH = 28;

/** The number written by the decimal digits of `s` in [from, to), or -1 when one is not a digit. */
function digitsAt(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = s.charCodeAt(i) - ZERO;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/**
 * Unix ms (whole, the fraction aside) of a timestamp in canonical form with a valid date and time; undefined
 * for anything else, which the general path reads (or rejects) as before. Years below 100 go that way too
 * (Date.UTC reads them as 1900-1999).
 */
function canonicalMs(s: string): number | undefined {
  if (s.length !== CANONICAL_LENGTH) return undefined;
  for (const [at, c] of SEPARATORS) if (s.charCodeAt(at) !== c) return undefined;
  const year = digitsAt(s, 0, 4);
  const month = digitsAt(s, 5, 7);
  const day = digitsAt(s, 8, 10);
  const hour = digitsAt(s, 11, 13);
  const minute = digitsAt(s, 14, 16);
  const second = digitsAt(s, 17, 19);
  if (year < 100 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23) return undefined;
  if (minute < 0 || minute > 59 || second < 0 || second > 59 || digitsAt(s, 20, 27) < 0) return undefined;
  if (day > daysIn(year, month)) return undefined;
  return Date.UTC(year, month - 1, day, hour, minute, second);
}

/** The seven fraction digits of a canonical timestamp, as a number of ticks. */
function fractionOf(canonical: string): number {
  return digitsAt(canonical, 20, 27);
}

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}
