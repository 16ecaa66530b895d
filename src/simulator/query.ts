// The query parameters of GET /api/alerts, as Microsoft's page documents them. Where the page is
// silent the choice is stated here; the simulator errs on the strict side (400) so that client bugs
// surface in tests instead of being silently tolerated.
import { parseTimestamp, TICKS_PER_SECOND, type Ticks } from "../timestamp.js";

export interface AlertsFilter {
  /** Inclusive lower bound on LastProcessedTimeUtc. */
  since: Ticks;
  /** Inclusive upper bound on LastProcessedTimeUtc. */
  until: Ticks;
  /** Keep the most recent N; undefined = all. */
  limit: number | undefined;
  /** Exact MachineGroup names; empty = every group. */
  machineGroups: string[];
  /** Substrings of DeviceCreatedMachineTags / CloudCreatedMachineTags; empty = no filter. */
  deviceTags: string[];
  cloudTags: string[];
}

export type ParsedAlertsQuery = { ok: true; filter: AlertsFilter } | { ok: false; message: string };

/** Documented default when sinceTimeUtc is absent: the last two hours. */
export const DEFAULT_WINDOW_TICKS = 2n * 3_600n * TICKS_PER_SECOND;

const MAX_INT32 = 2_147_483_647;

export function parseAlertsQuery(params: URLSearchParams, now: Ticks): ParsedAlertsQuery {
  // ASP.NET binds query names case-insensitively (inference: the page itself mixes `machinegroups`
  // and `DeviceCreatedMachineTags`), and ignores names it does not know.
  const byName = new Map<string, string[]>();
  for (const [key, value] of params) {
    const name = key.toLowerCase();
    byName.set(name, [...(byName.get(name) ?? []), value]);
  }
  const single = (name: string): string | undefined | Error => {
    const values = byName.get(name.toLowerCase());
    if (values === undefined) return undefined;
    if (values.length > 1) return new Error(`${name} may be given only once`);
    return values[0];
  };

  const sinceRaw = single("sinceTimeUtc");
  const untilRaw = single("untilTimeUtc");
  const agoRaw = single("ago");
  const limitRaw = single("limit");
  for (const v of [sinceRaw, untilRaw, agoRaw, limitRaw]) if (v instanceof Error) return fail(v.message);

  let since = now - DEFAULT_WINDOW_TICKS;
  let until = now;
  if (typeof agoRaw === "string") {
    // The page defines ago as "from (current_time - ago) to current_time"; mixing it with explicit
    // bounds has no documented meaning, so it is refused.
    if (sinceRaw !== undefined || untilRaw !== undefined) {
      return fail("ago cannot be combined with sinceTimeUtc or untilTimeUtc");
    }
    const ago = parseIsoDuration(agoRaw);
    if (ago === undefined) return fail(`ago is not an ISO-8601 duration such as PT10M: ${agoRaw}`);
    since = now - ago;
  }
  if (typeof sinceRaw === "string") {
    const t = parseTimestamp(sinceRaw);
    if (t === undefined) return fail(`sinceTimeUtc is not a valid DateTime: ${sinceRaw}`);
    since = t;
  }
  if (typeof untilRaw === "string") {
    const t = parseTimestamp(untilRaw);
    if (t === undefined) return fail(`untilTimeUtc is not a valid DateTime: ${untilRaw}`);
    until = t;
  }
  if (since > until) return fail("sinceTimeUtc is after untilTimeUtc");

  let limit: number | undefined;
  if (typeof limitRaw === "string") {
    // `limit` is an int on the page; 0 or negative has no documented meaning.
    if (!/^\d{1,10}$/.test(limitRaw) || Number(limitRaw) < 1 || Number(limitRaw) > MAX_INT32) {
      return fail(`limit must be a whole number from 1 to ${MAX_INT32}: ${limitRaw}`);
    }
    limit = Number(limitRaw);
  }

  return {
    ok: true,
    filter: {
      since,
      until,
      limit,
      machineGroups: byName.get("machinegroups") ?? [],
      deviceTags: byName.get("devicecreatedmachinetags") ?? [],
      cloudTags: byName.get("cloudcreatedmachinetags") ?? [],
    },
  };
}

/**
 * An ISO-8601 duration (`PT10M`, `P1DT2H`, `PT0.5S`, `P2W`) in ticks. Years and months are refused:
 * their length depends on the calendar and the page's only example is in minutes.
 */
export function parseIsoDuration(value: string): Ticks | undefined {
  const m = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)(?:\.(\d{1,7}))?S)?)?$/i.exec(
    value.trim(),
  );
  if (!m) return undefined;
  const [, w, d, h, min, s, frac] = m;
  if ([w, d, h, min, s].every((x) => x === undefined)) return undefined;
  if (/T$/i.test(value.trim())) return undefined;
  const seconds =
    BigInt(w ?? 0) * 604_800n +
    BigInt(d ?? 0) * 86_400n +
    BigInt(h ?? 0) * 3_600n +
    BigInt(min ?? 0) * 60n +
    BigInt(s ?? 0);
  return seconds * TICKS_PER_SECOND + BigInt((frac ?? "").padEnd(7, "0"));
}

/** The query as ServedRequest records it: repeated names become arrays. */
export function queryRecord(params: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of params) {
    const prev = out[key];
    out[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}

function fail(message: string): ParsedAlertsQuery {
  return { ok: false, message };
}
