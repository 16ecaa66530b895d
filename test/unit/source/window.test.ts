import assert from "node:assert/strict";
import { test } from "node:test";
import type { Detection } from "../../../src/record.js";
import type { AlertsQuery } from "../../../src/source/siem-api.js";
import { type Density, readWindow } from "../../../src/source/window.js";
import { formatTimestamp, parseTimestamp, TICKS_PER_MS, type Ticks } from "../../../src/timestamp.js";

// The API's documented semantics, in memory: filter on LastProcessedTimeUtc within the bounds (sent in
// whole milliseconds), and `limit` keeps the most recent N.
function api(times: Ticks[], bounds: "inclusive" | "exclusive" = "inclusive") {
  const detections = times.map((t, i) => ({ FullId: `id-${i}`, LastProcessedTimeUtc: formatTimestamp(t) }));
  const queries: AlertsQuery[] = [];
  const fetch = async (q: AlertsQuery): Promise<Detection[]> => {
    queries.push(q);
    const since = (q.since / TICKS_PER_MS) * TICKS_PER_MS;
    const until = ((q.until + TICKS_PER_MS - 1n) / TICKS_PER_MS) * TICKS_PER_MS;
    const inRange = detections.filter((d) => {
      const t = parseTimestamp(d.LastProcessedTimeUtc) ?? 0n;
      return bounds === "inclusive" ? t >= since && t <= until : t > since && t < until;
    });
    inRange.sort((a, b) => (a.LastProcessedTimeUtc < b.LastProcessedTimeUtc ? 1 : -1));
    return q.limit === undefined ? inRange : inRange.slice(0, q.limit);
  };
  return { detections, queries, fetch };
}

const T0 = parseTimestamp("2026-11-30T00:00:00Z") ?? 0n;
const MINUTE = 60_000n * TICKS_PER_MS;

async function readAll(
  since: Ticks,
  until: Ticks,
  limit: number,
  fetch: (q: AlertsQuery) => Promise<Detection[]>,
) {
  const parts = [];
  for await (const part of readWindow(since, until, limit, fetch)) parts.push(part);
  return parts;
}

test("a window with fewer than limit detections is one request", async () => {
  const sim = api([T0 + 1n, T0 + MINUTE]);
  const parts = await readAll(T0, T0 + 2n * MINUTE, 10, sim.fetch);
  assert.equal(parts.length, 1);
  assert.equal(parts[0]?.detections.length, 2);
  assert.equal(sim.queries.length, 1);
  assert.equal(sim.queries[0]?.limit, 10);
});

test("five times max_per_request: every detection read, parts in time order, each below the limit", async () => {
  const times = Array.from({ length: 500 }, (_, i) => T0 + BigInt(i) * 1_234_567n);
  const sim = api(times);
  const parts = await readAll(T0, T0 + 10n * MINUTE, 100, sim.fetch);
  const ids = new Set(parts.flatMap((p) => p.detections.map((d) => d.FullId)));
  assert.equal(ids.size, 500);
  for (const p of parts) assert.ok(p.detections.length < 100);
  for (let i = 1; i < parts.length; i++) {
    assert.ok((parts[i - 1]?.since ?? 0n) < (parts[i]?.since ?? 0n), "oldest part first");
    const prevNewest =
      parts[i - 1]?.detections
        .map((d) => String(d.LastProcessedTimeUtc))
        .sort()
        .at(-1) ?? "";
    const oldest = parts[i]?.detections.map((d) => String(d.LastProcessedTimeUtc)).sort()[0] ?? "~";
    assert.ok(prevNewest <= oldest, "no part holds anything older than the previous part's newest");
  }
});

test("more detections in one millisecond than the limit are read without limit", async () => {
  const times = [...Array.from({ length: 250 }, () => T0 + 5n * MINUTE + 42n), T0 + MINUTE, T0 + 9n * MINUTE];
  const sim = api(times);
  const parts = await readAll(T0, T0 + 10n * MINUTE, 100, sim.fetch);
  const ids = new Set(parts.flatMap((p) => p.detections.map((d) => d.FullId)));
  assert.equal(ids.size, 252);
  assert.ok(
    sim.queries.some((q) => q.limit === undefined),
    "one request went out without limit",
  );
  const unlimited = sim.queries.filter((q) => q.limit === undefined);
  for (const q of unlimited) assert.ok(q.until - q.since <= 2n * TICKS_PER_MS);
});

test("nothing is lost when the API reads bounds as exclusive", async () => {
  // Detections sitting exactly on whole milliseconds, where split points fall.
  const times = Array.from({ length: 300 }, (_, i) => T0 + BigInt(i) * 1000n * TICKS_PER_MS);
  const sim = api(times, "exclusive");
  const parts = await readAll(T0 - TICKS_PER_MS, T0 + 301_000n * TICKS_PER_MS, 64, sim.fetch);
  const ids = new Set(parts.flatMap((p) => p.detections.map((d) => d.FullId)));
  assert.equal(ids.size, 300);
});

test("a failing request fails the read (the caller keeps its checkpoint)", async () => {
  let calls = 0;
  const failing = async (): Promise<Detection[]> => {
    calls++;
    if (calls === 1) return Array.from({ length: 10 }, (_, i) => ({ FullId: String(i) }));
    throw new Error("boom");
  };
  await assert.rejects(readAll(T0, T0 + MINUTE, 10, failing), /boom/);
});

test("a uniform backlog of 40 limits is read in few more requests than 40 (density-guided cuts)", async () => {
  const times = Array.from({ length: 4_000 }, (_, i) => T0 + BigInt(i) * 977_777n);
  const sim = api(times);
  const parts = await readAll(T0, T0 + 70n * MINUTE, 100, sim.fetch);
  const ids = new Set(parts.flatMap((p) => p.detections.map((d) => d.FullId)));
  assert.equal(ids.size, 4_000);
  for (const p of parts) assert.ok(p.detections.length < 100);
  const full = sim.queries.length - parts.length;
  // Blind halving wastes about one full response per part; the estimate wastes a handful in all.
  assert.ok(full <= 10, `${full} full responses thrown away for ${parts.length} parts`);
  assert.ok(sim.queries.length <= 80, `${sim.queries.length} requests`);
});

test("a burst after a sparse stretch: density-guided cuts still lose nothing", async () => {
  const sparse = Array.from({ length: 50 }, (_, i) => T0 + BigInt(i) * MINUTE);
  const burst = Array.from({ length: 1_000 }, (_, i) => T0 + 50n * MINUTE + BigInt(i) * 3_333n);
  const tail = Array.from({ length: 300 }, (_, i) => T0 + 51n * MINUTE + BigInt(i) * 2_000_000n);
  for (const bounds of ["inclusive", "exclusive"] as const) {
    const sim = api([...sparse, ...burst, ...tail], bounds);
    const parts = await readAll(T0 - TICKS_PER_MS, T0 + 70n * MINUTE, 64, sim.fetch);
    const ids = new Set(parts.flatMap((p) => p.detections.map((d) => d.FullId)));
    assert.equal(ids.size, 1_350, bounds);
    for (let i = 1; i < parts.length; i++) {
      assert.ok((parts[i - 1]?.since ?? 0n) < (parts[i]?.since ?? 0n), "oldest part first");
    }
  }
});

test("live: the short rest of a window after a cut does not widen the next window into a full answer", async () => {
  // 1,000 detections/s, max_per_request 5,000, polls 5 s apart: the density carried between reads is all
  // that keeps a 5 s window from coming back full (and read again in halves).
  const SECOND = 1_000n * TICKS_PER_MS;
  const times = Array.from({ length: 12_000 }, (_, i) => T0 + BigInt(i) * TICKS_PER_MS);
  const sim = api(times);
  const density: Density = { span: undefined };
  const read = async (from: Ticks, to: Ticks) => {
    const parts = [];
    for await (const part of readWindow(from, to, 5_000, sim.fetch, undefined, undefined, density)) {
      parts.push(part);
    }
    return parts;
  };
  await read(T0, T0 + 3n * SECOND); // 3,000: the density is known
  // 3.6 s: cut at ~3.5 s, then a rest of ~0.1 s holding ~100, under a tenth of the limit.
  await read(T0 + 3n * SECOND, T0 + 6_600n * TICKS_PER_MS);
  const before = sim.queries.length;
  const parts = await read(T0 + 6_600n * TICKS_PER_MS, T0 + 11_600n * TICKS_PER_MS);
  const asked = sim.queries.slice(before);
  assert.equal(asked.length, parts.length, "no full answer thrown away");
  assert.equal(new Set(parts.flatMap((p) => p.detections.map((d) => d.FullId))).size, 5_001);
});

test("the next part is requested while the caller holds this one, unless mayPrefetch says no", async () => {
  const times = Array.from({ length: 500 }, (_, i) => T0 + BigInt(i) * 1_234_567n);
  for (const prefetch of [true, false]) {
    const sim = api(times);
    /** Per part handed over: whether a later part's request had been made by then. */
    const ahead: boolean[] = [];
    for await (const part of readWindow(T0, T0 + 10n * MINUTE, 100, sim.fetch, undefined, () => prefetch)) {
      // The caller is storing `part`; a request made meanwhile would show here.
      await new Promise((resolve) => setImmediate(resolve));
      ahead.push(sim.queries.some((q) => q.since >= part.until - TICKS_PER_MS));
    }
    assert.ok(ahead.length > 3);
    assert.deepEqual(
      ahead,
      ahead.map((_, i) => prefetch && i < ahead.length - 1),
      prefetch ? "every part but the last finds the next one requested" : "nothing requested ahead",
    );
  }
});

test("the request made ahead has left before the caller gets the part, which it may store synchronously", async () => {
  const times = Array.from({ length: 500 }, (_, i) => T0 + BigInt(i) * 1_234_567n);
  const sim = api(times);
  /** Queries as they reach the wire: like a real client, a few asynchronous steps after the call. */
  const sent: AlertsQuery[] = [];
  const fetch = async (q: AlertsQuery): Promise<Detection[]> => {
    await Promise.resolve(); // the cached token
    await new Promise<void>((resolve) => process.nextTick(resolve)); // the HTTP client's own ticks
    sent.push(q);
    return sim.fetch(q);
  };
  const ahead: boolean[] = [];
  for await (const part of readWindow(T0, T0 + 10n * MINUTE, 100, fetch)) {
    // No await here: the poller stores a part in one synchronous transaction.
    ahead.push(sent.some((q) => q.since >= part.until - TICKS_PER_MS));
  }
  assert.ok(ahead.length > 3);
  assert.deepEqual(
    ahead,
    ahead.map((_, i) => i < ahead.length - 1),
    "every part but the last finds the next request sent",
  );
});

test("a caller that stops early: the failure of the request made ahead is no unhandled rejection", async () => {
  const times = Array.from({ length: 500 }, (_, i) => T0 + BigInt(i) * 1_234_567n);
  const sim = api(times);
  // Every request after the first complete part (the one made ahead of the caller) fails.
  let completeRead = false;
  let failed = 0;
  const failing = async (q: AlertsQuery): Promise<Detection[]> => {
    if (completeRead) {
      failed++;
      throw new Error("down");
    }
    const detections = await sim.fetch(q);
    if (detections.length < 100) completeRead = true;
    return detections;
  };
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on("unhandledRejection", onUnhandled);
  try {
    for await (const part of readWindow(T0, T0 + 10n * MINUTE, 100, failing)) {
      assert.ok(part.detections.length > 0);
      break;
    }
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(failed, 1, "the next part had been requested, and failed");
    assert.deepEqual(unhandled, []);
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
});

test("issue 16: a backlog inside the lookback is read with few full responses, wherever it starts (1M: 60 of 375 requests were full)", async () => {
  const limit = 100;
  const count = 20_000;
  const span = 60n * MINUTE;
  const step = span / BigInt(count);
  const report: string[] = [];
  for (const offsetSeconds of [60n, 95n, 130n, 170n, 200n, 420n, 780n, 1_860n]) {
    // Uniform with a little jitter, like the benchmark's backlog, ending offsetSeconds before the window.
    const start = T0 + 60n * MINUTE - offsetSeconds * 1_000n * TICKS_PER_MS;
    const ticks = Array.from(
      { length: count },
      (_, i) => start + BigInt(i) * step + BigInt((i * 7919) % 997),
    );
    let fetched = 0;
    let full = 0;
    // The API's semantics over sorted times (binary search; the generic fake above is too slow for 20k).
    const fetch = async (q: AlertsQuery): Promise<Detection[]> => {
      const since = (q.since / TICKS_PER_MS) * TICKS_PER_MS;
      const until = ((q.until + TICKS_PER_MS - 1n) / TICKS_PER_MS) * TICKS_PER_MS;
      const lo = lowerBound(ticks, since);
      const hi = lowerBound(ticks, until + 1n);
      const from = q.limit === undefined ? lo : Math.max(lo, hi - q.limit);
      const got = ticks
        .slice(from, hi)
        .map((t) => ({ FullId: `id-${t}`, LastProcessedTimeUtc: formatTimestamp(t) }))
        .reverse();
      fetched += got.length;
      if (got.length === q.limit) full++;
      return got;
    };
    const parts = await readAll(T0, T0 + 120n * MINUTE, limit, fetch);
    const ids = new Set(parts.flatMap((p) => p.detections.map((d) => d.FullId)));
    assert.equal(ids.size, count, `ending ${offsetSeconds} s early: every detection read`);
    report.push(`${offsetSeconds} s: ${full} full, ${fetched} fetched`);
    // Before: 262 full responses and 46,200 fetched when the backlog ended 170 s early.
    assert.ok(full <= 20 && fetched <= count * 1.1, report.join("; "));
  }
});

function lowerBound(sorted: readonly Ticks[], t: Ticks): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as Ticks) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
