// What the simulated API holds: per tenant, detections sorted by LastProcessedTimeUtc so that a
// window query is two binary searches, even with hundreds of thousands of detections stored.
// Adding appends; an out-of-order add marks the list for one stable re-sort before the next query
// (TimSort merges the runs in linear time), so bulk loads never pay a splice per detection.
import type { Detection } from "../record.js";
import type { Ticks } from "../timestamp.js";
import type { AlertsFilter } from "./query.js";

interface Entry {
  detection: Detection;
  /** LastProcessedTimeUtc as ticks (or the time of adding, when the detection's own is unparseable). */
  ticks: Ticks;
  /** ms; the detection is in API responses only from this time on. */
  visibleAt: number;
}

export interface DetectionStore {
  add(tenantId: string, detection: Detection, ticks: Ticks, visibleAt: number): void;
  /** Matching detections, newest first, at most `limit`. */
  query(tenantId: string, filter: AlertsFilter, nowMs: number): Detection[];
  /** Every detection, all tenants, in the order added. */
  readonly all: readonly Detection[];
}

export function createDetectionStore(): DetectionStore {
  const byTenant = new Map<string, { entries: Entry[]; sorted: boolean }>();
  const all: Detection[] = [];

  return {
    all,
    add(tenantId, detection, ticks, visibleAt) {
      let list = byTenant.get(tenantId);
      if (list === undefined) {
        list = { entries: [], sorted: true };
        byTenant.set(tenantId, list);
      }
      const last = list.entries[list.entries.length - 1];
      if (last !== undefined && last.ticks > ticks) list.sorted = false;
      list.entries.push({ detection, ticks, visibleAt });
      all.push(detection);
    },
    query(tenantId, filter, nowMs) {
      const list = byTenant.get(tenantId);
      if (list === undefined) return [];
      if (!list.sorted) {
        // Stable: among equal times, insertion order is kept.
        list.entries.sort((a, b) => (a.ticks < b.ticks ? -1 : a.ticks > b.ticks ? 1 : 0));
        list.sorted = true;
      }
      const entries = list.entries;
      const lo = lowerBound(entries, filter.since);
      const out: Detection[] = [];
      const max = filter.limit ?? Number.POSITIVE_INFINITY;
      // Newest first; for `limit` that keeps the most recent N, as the page documents.
      for (let i = upperBound(entries, filter.until) - 1; i >= lo && out.length < max; i--) {
        const e = entries[i];
        if (e !== undefined && e.visibleAt <= nowMs && matches(e.detection, filter)) out.push(e.detection);
      }
      return out;
    },
  };
}

function matches(d: Detection, filter: AlertsFilter): boolean {
  if (filter.machineGroups.length > 0 && !filter.machineGroups.includes(String(d.MachineGroup ?? ""))) {
    return false;
  }
  // Tag fields hold comma-separated lists; a substring match finds one tag among several.
  if (!containsAny(d.DeviceCreatedMachineTags, filter.deviceTags)) return false;
  if (!containsAny(d.CloudCreatedMachineTags, filter.cloudTags)) return false;
  return true;
}

function containsAny(field: unknown, wanted: readonly string[]): boolean {
  if (wanted.length === 0) return true;
  const text = String(field ?? "").toLowerCase();
  return wanted.some((w) => text.includes(w.toLowerCase()));
}

/** First index whose ticks >= t. */
function lowerBound(entries: readonly Entry[], t: Ticks): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((entries[mid]?.ticks ?? 0n) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index whose ticks > t. */
function upperBound(entries: readonly Entry[], t: Ticks): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((entries[mid]?.ticks ?? 0n) <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
