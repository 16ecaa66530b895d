// One tenant's alerts (or incidents), with their history. Each update is a new version; a query serves, per
// item, the newest version already visible (so a delayed update leaves the previous version in place until
// it shows). Every version sits in one index sorted by (lastUpdate ticks, item seq), so that a window
// on lastUpdateTime is two binary searches and a keyset continuation is one; superseded versions stay
// in the index and are skipped when met.
import type { Ticks } from "../timestamp.js";
import type { AlertModel, Stamp } from "./alert-model.js";

/** What the store needs of an item: an id and the time of its last update. */
export interface Versioned {
  readonly id: string;
  readonly lastUpdate: Stamp;
}

export interface StoredVersion<T extends Versioned = AlertModel> {
  /** The item (the field keeps its first name: alerts came first). */
  readonly alert: T;
  /** The alert's creation order in its tenant; breaks ties between equal lastUpdate ticks. */
  readonly seq: number;
  /** 0 as created, +1 per update. */
  readonly version: number;
  /** ms; served from then on. */
  readonly visibleAt: number;
}

/** A position in the (lastUpdate ticks, seq) order. */
export interface Keyset {
  ticks: Ticks;
  seq: number;
}

export interface TickBound {
  ticks: Ticks;
  inclusive: boolean;
}

export interface StoreQuery<T extends Versioned = AlertModel> {
  lo?: TickBound;
  hi?: TickBound;
  where: (alert: T) => boolean;
  order: "asc" | "desc";
  /** Within one lastUpdate instant, order by id (ordinal) instead of creation order: `$orderby=…, id`. */
  tieById?: boolean;
  skip: number;
  top: number;
  /** Continue strictly after this position (in `order`). */
  after?: Keyset;
  /** Also count every match in the window, continuation or not (for $count): a full scan. */
  count: boolean;
}

export interface StoreResult<T extends Versioned = AlertModel> {
  items: StoredVersion<T>[];
  /** More matches follow the last item. */
  more: boolean;
  total: number | undefined;
}

export interface AlertStore<T extends Versioned = AlertModel> {
  /** Throws when the id exists (use update). */
  add(alert: T, visibleAt: number): StoredVersion<T>;
  update(alert: T, visibleAt: number): StoredVersion<T>;
  /** The newest version, visible or not. */
  latest(id: string): StoredVersion<T> | undefined;
  /** Newest versions, in creation order. */
  all(): StoredVersion<T>[];
  query(q: StoreQuery<T>, nowMs: number): StoreResult<T>;
}

interface Entry<T extends Versioned> {
  seq: number;
  versions: StoredVersion<T>[];
}

export function createAlertStore<T extends Versioned = AlertModel>(): AlertStore<T> {
  const entries = new Map<string, Entry<T>>();
  const index: StoredVersion<T>[] = [];
  let sorted = true;

  function push(v: StoredVersion<T>): void {
    const last = index[index.length - 1];
    if (last !== undefined && compare(last, v) > 0) sorted = false;
    index.push(v);
  }

  /** The version a query at `nowMs` serves for this entry, if any. */
  function current(entry: Entry<T>, nowMs: number): StoredVersion<T> | undefined {
    for (let i = entry.versions.length - 1; i >= 0; i--) {
      const v = entry.versions[i];
      if (v !== undefined && v.visibleAt <= nowMs) return v;
    }
    return undefined;
  }

  return {
    add(alert, visibleAt) {
      if (entries.has(alert.id)) throw new RangeError(`alert ${alert.id} exists`);
      const v: StoredVersion<T> = Object.freeze({ alert, seq: entries.size, version: 0, visibleAt });
      entries.set(alert.id, { seq: v.seq, versions: [v] });
      push(v);
      return v;
    },
    update(alert, visibleAt) {
      const entry = entries.get(alert.id);
      if (entry === undefined) throw new RangeError(`alert ${alert.id} does not exist`);
      const v: StoredVersion<T> = Object.freeze({
        alert,
        seq: entry.seq,
        version: entry.versions.length,
        visibleAt,
      });
      entry.versions.push(v);
      push(v);
      return v;
    },
    latest(id) {
      const versions = entries.get(id)?.versions;
      return versions?.[versions.length - 1];
    },
    all() {
      const out: StoredVersion<T>[] = [];
      for (const e of entries.values()) {
        const v = e.versions[e.versions.length - 1];
        if (v !== undefined) out.push(v);
      }
      return out;
    },
    query(q, nowMs) {
      if (!sorted) {
        index.sort(compare);
        sorted = true;
      }
      let start =
        q.lo === undefined ? 0 : firstAbove(index, q.lo.ticks, q.lo.inclusive ? -1 : Number.MAX_SAFE_INTEGER);
      let end =
        q.hi === undefined
          ? index.length
          : firstAbove(index, q.hi.ticks, q.hi.inclusive ? Number.MAX_SAFE_INTEGER : -1);
      const visible = (v: StoredVersion<T> | undefined): v is StoredVersion<T> => {
        if (v === undefined) return false;
        const entry = entries.get(v.alert.id);
        return entry !== undefined && current(entry, nowMs) === v && q.where(v.alert);
      };
      let total: number | undefined;
      if (q.count) {
        // $count counts the whole result, whatever page this is.
        total = 0;
        for (let i = start; i < end; i++) if (visible(index[i])) total++;
      }
      if (q.after !== undefined) {
        if (q.order === "asc") start = Math.max(start, firstAbove(index, q.after.ticks, q.after.seq));
        else end = Math.min(end, firstAbove(index, q.after.ticks, q.after.seq - 1));
      }
      const items: StoredVersion<T>[] = [];
      let skipped = 0;
      let more = false;
      const n = Math.max(0, end - start);
      // With tieById, each run of one instant is re-sorted by id as it is met.
      const run = q.tieById ? instantRuns(index, start, end, q.order) : undefined;
      for (let k = 0; k < n; k++) {
        const v = run ? run(k) : index[q.order === "asc" ? start + k : end - 1 - k];
        if (!visible(v)) continue;
        if (skipped < q.skip) {
          skipped++;
          continue;
        }
        if (items.length === q.top) {
          more = true;
          break;
        }
        items.push(v);
      }
      return { items, more, total };
    },
  };
}

/**
 * The k-th version of index[start, end) in `order`, with the versions of one lastUpdate instant ordered by
 * id (ordinal) among themselves. Runs are sorted on first use, so a page costs its own instants only.
 */
function instantRuns<T extends Versioned>(
  index: readonly StoredVersion<T>[],
  start: number,
  end: number,
  order: "asc" | "desc",
): (k: number) => StoredVersion<T> | undefined {
  let runStart = -1;
  let run: StoredVersion<T>[] = [];
  return (k) => {
    const i = order === "asc" ? start + k : end - 1 - k;
    if (runStart === -1 || i < runStart || i >= runStart + run.length) {
      const ticks = index[i]?.alert.lastUpdate.ticks;
      let lo = i;
      let hi = i + 1;
      while (lo > start && index[lo - 1]?.alert.lastUpdate.ticks === ticks) lo--;
      while (hi < end && index[hi]?.alert.lastUpdate.ticks === ticks) hi++;
      runStart = lo;
      run = index
        .slice(lo, hi)
        .sort((a, b) => (a.alert.id < b.alert.id ? -1 : a.alert.id > b.alert.id ? 1 : 0));
    }
    return run[i - runStart];
  };
}

function compare<T extends Versioned>(a: StoredVersion<T>, b: StoredVersion<T>): number {
  const ta = a.alert.lastUpdate.ticks;
  const tb = b.alert.lastUpdate.ticks;
  if (ta !== tb) return ta < tb ? -1 : 1;
  return a.seq - b.seq;
}

/** First index whose key is greater than (ticks, seq). */
function firstAbove<T extends Versioned>(
  index: readonly StoredVersion<T>[],
  ticks: Ticks,
  seq: number,
): number {
  let lo = 0;
  let hi = index.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const v = index[mid];
    const t = v?.alert.lastUpdate.ticks ?? 0n;
    if (t < ticks || (t === ticks && (v?.seq ?? 0) <= seq)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
