// A timestamp as epoch milliseconds (CEF rt/start, LEEF devTime), with a fast path for the form the
// SIEM API sends (`2020-09-30T14:11:44.0779765Z`): parsed from its character codes, without the
// regular expression and bigint arithmetic of parseTimestamp. Anything else goes to parseTimestamp,
// so the result is the same for every input.
import { parseTimestamp, ticksToMs } from "../timestamp.js";

const ZERO = 0x30;

/** The two or four decimal digits at `at`, or -1 when one is not a digit. */
function digits(text: string, at: number, count: 2 | 4): number {
  let n = 0;
  for (let i = at; i < at + count; i++) {
    const d = text.charCodeAt(i) - ZERO;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z` as epoch milliseconds (fraction digits after the third dropped, as
 * ticksToMs does), or undefined when `text` is not exactly of that form or not a valid UTC time.
 */
function fastEpochMs(text: string): number | undefined {
  const n = text.length;
  if (n < 20 || n > 30 || text.charCodeAt(n - 1) !== 0x5a /* Z */) return undefined;
  if (
    text.charCodeAt(4) !== 0x2d ||
    text.charCodeAt(7) !== 0x2d ||
    text.charCodeAt(10) !== 0x54 /* T */ ||
    text.charCodeAt(13) !== 0x3a ||
    text.charCodeAt(16) !== 0x3a
  ) {
    return undefined;
  }
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  // Years below 100 mean 19xx to Date.UTC: parseTimestamp decides those.
  if (year < 100 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23) return undefined;
  if (minute < 0 || minute > 59 || second < 0 || second > 59 || day > daysInMonth(year, month))
    return undefined;
  let fraction = 0;
  if (n > 20) {
    // `.` and 1-9 digits; the milliseconds are the first three, zero-padded.
    if (text.charCodeAt(19) !== 0x2e || n === 21) return undefined;
    for (let i = 20; i < n - 1; i++) {
      const d = text.charCodeAt(i) - ZERO;
      if (d < 0 || d > 9) return undefined;
      if (i < 23) fraction = fraction * 10 + d;
    }
    for (let i = n - 1; i < 23; i++) fraction *= 10;
  }
  return Date.UTC(year, month - 1, day, hour, minute, second) + fraction;
}

/**
 * String(ms) for a whole number of milliseconds. Today's are 13 digits, beyond the small integers V8
 * converts quickly (a tenth of the cost): written as seconds, which are, and three digits.
 */
export function millisText(ms: number): string {
  if (!(ms >= 1000 && ms < 1e15) || !Number.isInteger(ms)) return String(ms);
  const seconds = Math.floor(ms / 1000);
  const rest = ms - seconds * 1000;
  return `${seconds}${rest < 10 ? "00" : rest < 100 ? "0" : ""}${rest}`;
}

/** Epoch milliseconds as decimal text, or undefined when `value` is not a timestamp (see parseTimestamp). */
export function epochMs(value: unknown): string | undefined {
  if (typeof value === "string") {
    const ms = fastEpochMs(value);
    if (ms !== undefined) return millisText(ms);
  }
  const ticks = parseTimestamp(value);
  return ticks === undefined ? undefined : String(ticksToMs(ticks));
}
