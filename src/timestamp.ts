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
