// Issue 16: which windows each poll reads (src/source/overlap.ts). While the overlap fits one request every
// poll reads it whole, as before; above that every instant is read fresh (from the checkpoint minus
// short_overlap) and once more when it is `overlap` old (the second look); the first poll after a start reads
// the whole overlap. A model of the API (each detection with its LastProcessedTimeUtc and
// the moment it becomes visible) checks that no detection up to `overlap` late is ever missed, through
// restarts and failed polls, and that each instant is read about twice.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  createOverlapVolume,
  type OverlapSettings,
  type PollPlan,
  planPoll,
  settledAfter,
  type VolumeEstimate,
} from "../../../src/source/overlap.js";
import { type Ticks, ticksFromMs } from "../../../src/timestamp.js";

const S = { lookback: 2 * 3_600_000, overlap: 5 * 60_000, short_overlap: 2_000, max_per_request: 5_000 };
/** A tenant whose overlap holds more than one request: the second-look mode. */
const HIGH: VolumeEstimate = { fits: () => false };
const T0 = Date.UTC(2026, 11, 6, 12);
const at = (ms: number): Ticks => ticksFromMs(T0 + ms);
const window = (since: number, until: number, second?: true) => ({
  since: at(since),
  until: at(until),
  ...(second ? { second } : {}),
});

test("issue 16: a tenant without checkpoint reads the lookback", () => {
  assert.deepEqual(planPoll(undefined, undefined, at(0), S), {
    windows: [window(-S.lookback, 0)],
    settles: at(-S.overlap),
    whole: true,
  });
});

test("issue 16: the first poll after a start reads the whole overlap before the checkpoint", () => {
  assert.deepEqual(planPoll(at(-5_000), undefined, at(0), S).windows, [window(-5_000 - S.overlap, 0)]);
});

test("issue 16: later polls read the second look, then the fresh window from checkpoint - short_overlap", () => {
  // The previous poll started 5 s ago: [now - 5 min - 5 s, now - 5 min] matured since.
  const plan = planPoll(at(-5_010), at(-5_000 - S.overlap), at(0), S, undefined, HIGH);
  assert.deepEqual(plan, {
    windows: [window(-5_000 - S.overlap, -S.overlap, true), window(-5_010 - S.short_overlap, 0)],
    settles: at(-S.overlap),
    whole: false,
  });
});

test("issue 16: a lagging checkpoint (backlog, idle tenant) makes one window from the older start", () => {
  const idle = planPoll(at(-3_600_000), at(-5_000 - S.overlap), at(0), S, undefined, HIGH);
  assert.deepEqual(idle.windows, [window(-3_600_000 - S.short_overlap, 0)]);
  // The checkpoint just inside the matured range: one window from the settled point.
  const close = planPoll(at(-S.overlap + 1_000), at(-10_000 - S.overlap), at(0), S, undefined, HIGH);
  assert.deepEqual(close.windows, [window(-10_000 - S.overlap, 0)]);
});

test("issue 16: a clock that stood still or went back reads the fresh window alone", () => {
  const plan = planPoll(at(-1_000), at(1_000 - S.overlap), at(0), S, undefined, HIGH);
  assert.deepEqual(plan.windows, [window(-1_000 - S.short_overlap, 0)]);
});

test("issue 16: a checkpoint ahead of the clock reads from now, minus the overlap on the first poll", () => {
  assert.deepEqual(planPoll(at(60_000), undefined, at(0), S).windows, [window(-S.overlap, 0)]);
  assert.deepEqual(planPoll(at(60_000), at(-5_000 - S.overlap), at(0), S, undefined, HIGH).windows, [
    window(-5_000 - S.overlap, -S.overlap, true),
    window(-S.short_overlap, 0),
  ]);
});

test("issue 16: an idle tenant's fresh window starts short_overlap before the last poll's end, not the checkpoint", () => {
  assert.deepEqual(planPoll(at(-60_000), at(-5_000 - S.overlap), at(0), S, at(-5_000), HIGH).windows, [
    window(-5_000 - S.overlap, -S.overlap, true),
    window(-5_000 - S.short_overlap, 0),
  ]);
});

test("issue 16: short_overlap = overlap reads the whole overlap on every poll, as before", () => {
  const every = { ...S, short_overlap: S.overlap };
  assert.deepEqual(planPoll(at(-5_010), at(-5_000 - S.overlap), at(0), every, undefined, HIGH).windows, [
    window(-5_010 - S.overlap, 0),
  ]);
});

test("issue 16: the settled point moves with what was read, never past now - overlap, never back", () => {
  const plan: PollPlan = planPoll(at(-5_010), at(-5_000 - S.overlap), at(0), S, undefined, HIGH);
  const settled = at(-5_000 - S.overlap);
  assert.equal(settledAfter(plan, settled, at(-2_000 - S.overlap)), at(-2_000 - S.overlap));
  assert.equal(settledAfter(plan, settled, at(-1_000)), at(-S.overlap));
  assert.equal(settledAfter(plan, settled, at(-9_000 - S.overlap)), settled);
  // Unknown (first poll after a start): from the window's start.
  const first = planPoll(at(-5_000), undefined, at(0), S);
  assert.equal(settledAfter(first, undefined, at(-4_000 - S.overlap)), at(-4_000 - S.overlap));
  assert.equal(settledAfter(first, undefined, at(-9_000 - S.overlap)), at(-5_000 - S.overlap));
});

test("issue 16: without an estimate, or while the overlap fits one request, every poll reads it whole", () => {
  // Unknown (no poll recorded yet): whole.
  const unknown = planPoll(at(-5_010), at(-5_000 - S.overlap), at(0), S, undefined, createOverlapVolume());
  assert.deepEqual(unknown, {
    windows: [window(-5_010 - S.overlap, 0)],
    settles: at(-S.overlap),
    whole: true,
  });
  const low: VolumeEstimate = { fits: () => true };
  assert.deepEqual(planPoll(at(-5_010), at(-5_000 - S.overlap), at(0), S, at(-5_000), low).windows, [
    window(-5_010 - S.overlap, 0),
  ]);
});

test("issue 16: the volume: the latest whole read while polls are whole, else the new ones since checkpoint - overlap", () => {
  const volume = createOverlapVolume();
  const M = 1_000;
  const since = at(-S.overlap);
  assert.equal(volume.fits(since, M), undefined, "nothing recorded: unknown");
  volume.record(at(-20_000), { whole: true, requests: 1, received: 900, inserted: 900 });
  assert.equal(volume.fits(since, M), true);
  // A server that ignores `limit` answered it all at once: one request, it fits.
  volume.record(at(-15_000), { whole: true, requests: 1, received: 2_500, inserted: 50 });
  assert.equal(volume.fits(since, M), true);
  // Split over three requests: it does not, however few of them were new.
  volume.record(at(-10_000), { whole: true, requests: 3, received: 2_500, inserted: 5 });
  assert.equal(volume.fits(since, M), false);
  // Second-look polls since: that whole read counts while it is after `since`, then the new ones decide.
  volume.record(at(-5_000), { whole: false, requests: 2, received: 300, inserted: 200 });
  volume.record(at(0), { whole: false, requests: 2, received: 300, inserted: 200 });
  assert.equal(volume.fits(since, M), false);
  assert.equal(volume.fits(at(-9_000), M), true, "200 + 200 new since");
  volume.record(at(5_000), { whole: false, requests: 2, received: 1_300, inserted: 700 });
  assert.equal(volume.fits(at(-9_000), M), false, "1,100 new since");
  // Idle polls add nothing: as long as the checkpoint (and so `since`) stays, the burst still counts.
  for (let k = 1; k <= 100; k++)
    volume.record(at(5_000 + k * 5_000), { whole: false, requests: 2, received: 0, inserted: 0 });
  assert.equal(volume.fits(at(-9_000), M), false);
  // Once the checkpoint moved on past it: the burst is forgotten, nothing new: fits.
  assert.equal(volume.fits(at(6_000), M), true);
});

/** A detection: LastProcessedTimeUtc `t` and visible from `v` (ms after T0). */
interface Item {
  t: number;
  v: number;
}

interface Simulated {
  /** When each detection was first read (ms after T0), by index. */
  readonly readAt: Map<number, number>;
  /** Reads in all, re-reads included. */
  readonly reads: number;
  /** Reads of each detection, by index. */
  readonly readsOf: number[];
  /** How many polls were planned whole. */
  readonly wholePolls: number;
}

/**
 * Polls every `every` ms from T0 for `polls` polls against `items`, as the poller does (settled point,
 * readUntil and the volume kept between polls; the volume records what each poll received and how many were
 * new); a window returns what is visible at the poll's start with t in [since, until]. `restartAt` forgets
 * all in-memory state before those polls; `failAt` polls fail after their first window.
 */
function simulate(
  items: readonly Item[],
  o: {
    every: number;
    polls: number;
    restartAt?: ReadonlySet<number>;
    failAt?: ReadonlySet<number>;
    settings?: OverlapSettings;
  },
): Simulated {
  const settings = o.settings ?? S;
  const readAt = new Map<number, number>();
  let reads = 0;
  const readsOf: number[] = items.map(() => 0);
  let wholePolls = 0;
  let checkpoint: Ticks | undefined = at(-1);
  let settled: Ticks | undefined;
  let readUntil: Ticks | undefined;
  let volume = createOverlapVolume();
  for (let i = 0; i < o.polls; i++) {
    const now = i * o.every;
    if (o.restartAt?.has(i)) {
      settled = undefined;
      readUntil = undefined;
      volume = createOverlapVolume();
    }
    const plan = planPoll(checkpoint, settled, at(now), settings, readUntil, volume);
    if (plan.whole) wholePolls++;
    let failed = false;
    let received = 0;
    let inserted = 0;
    for (const [w, win] of plan.windows.entries()) {
      if (o.failAt?.has(i) && w > 0) {
        failed = true;
        break;
      }
      let newest: Ticks | undefined;
      for (const [k, item] of items.entries()) {
        const t = at(item.t);
        if (t < win.since || t > win.until || item.v > now) continue;
        if (!readAt.has(k)) {
          readAt.set(k, now);
          inserted++;
        }
        received++;
        reads++;
        readsOf[k] = (readsOf[k] ?? 0) + 1;
        if (newest === undefined || t > newest) newest = t;
      }
      if (newest !== undefined && (checkpoint === undefined || newest > checkpoint)) checkpoint = newest;
      settled = settledAfter(plan, settled, win.until);
    }
    if (!failed) {
      readUntil = plan.windows.at(-1)?.until;
      // A limit-honouring API splits a window holding more than one request's worth.
      const requests = Math.max(plan.windows.length, Math.ceil(received / settings.max_per_request));
      volume.record(at(now), { whole: plan.whole, requests, received, inserted });
    }
  }
  return { readAt, reads, readsOf, wholePolls };
}

test("issue 16: no detection up to `overlap` late is missed, whatever the volume, mode switches, restarts and failed polls", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          t: fc.integer({ min: 0, max: 20 * 60_000 }),
          late: fc.integer({ min: 0, max: S.overlap }),
        }),
        { minLength: 1, maxLength: 60 },
      ),
      // Bursts: many detections within a few seconds, so the mode switches to the second look and back.
      fc.array(
        fc.record({ t: fc.integer({ min: 0, max: 20 * 60_000 }), n: fc.integer({ min: 1, max: 40 }) }),
        {
          maxLength: 4,
        },
      ),
      fc.integer({ min: 1_000, max: 90_000 }),
      fc.integer({ min: 1, max: 30 }),
      fc.uniqueArray(fc.integer({ min: 1, max: 200 }), { maxLength: 10 }),
      fc.uniqueArray(fc.integer({ min: 0, max: 200 }), { maxLength: 10 }),
      (raw, bursts, every, maxPerRequest, restarts, failures) => {
        const items = raw.map((r) => ({ t: r.t, v: r.t + r.late }));
        for (const b of bursts)
          for (let k = 0; k < b.n; k++) items.push({ t: b.t + k * 50, v: b.t + k * 50 });
        // Enough polls to pass the last detection's second look.
        const polls = Math.ceil((20 * 60_000 + 2 * S.overlap) / every) + 2;
        const { readAt } = simulate(items, {
          every,
          polls,
          restartAt: new Set(restarts),
          failAt: new Set(failures.filter((f) => f < polls - 10)),
          settings: { ...S, max_per_request: maxPerRequest },
        });
        assert.equal(readAt.size, items.length, "every detection read");
        for (const [k, item] of items.entries()) {
          const when = readAt.get(k) as number;
          // Read by the second look at the latest (failed polls and restarts only make it sooner).
          assert.ok(when <= Math.max(item.v, item.t + S.overlap) + 11 * every, `${k} read at ${when}`);
        }
      },
    ),
    { numRuns: 200 },
  );
});

test("issue 16: while the overlap fits one request, a late detection is read by the first poll after it is visible", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          t: fc.integer({ min: 0, max: 20 * 60_000 }),
          late: fc.integer({ min: 0, max: S.overlap }),
        }),
        { minLength: 1, maxLength: 60 },
      ),
      fc.integer({ min: 1_000, max: 90_000 }),
      (raw, every) => {
        const items = raw.map((r) => ({ t: r.t, v: r.t + r.late }));
        const polls = Math.ceil((20 * 60_000 + 2 * S.overlap) / every) + 2;
        const { readAt, wholePolls } = simulate(items, { every, polls });
        assert.equal(wholePolls, polls, "every poll whole, as before");
        for (const [k, item] of items.entries()) {
          const firstPoll = Math.ceil(item.v / every) * every;
          assert.equal(readAt.get(k), firstPoll, `${k} visible at ${item.v}`);
        }
      },
    ),
    { numRuns: 100 },
  );
});

test("issue 16: one detection per 100 ms, polled every 5 s: 61 reads each below the limit, about 2 + short_overlap/schedule above", () => {
  const items: Item[] = [];
  for (let t = 0; t < 30 * 60_000; t += 100) items.push({ t, v: t });
  const polls = (40 * 60_000) / 5_000 + 1;
  /** Reads per detection in the steady state: those of minutes 10 to 20 (past the first ones, and read by polls while detections still come in). */
  const steady = ({ readsOf }: Simulated) => {
    const middle = readsOf.filter(
      (_, k) => items[k] && (items[k] as Item).t >= 10 * 60_000 && (items[k] as Item).t < 20 * 60_000,
    );
    return middle.reduce((a, b) => a + b, 0) / middle.length;
  };
  // 3,000 in the overlap fit one request of 5,000: whole reads, 300 s / 5 s + 1.
  const low = simulate(items, { every: 5_000, polls });
  assert.equal(low.readAt.size, items.length);
  assert.ok(Math.abs(steady(low) - 61) < 0.1, `${steady(low).toFixed(3)} reads per detection`);
  const high = simulate(items, { every: 5_000, polls, settings: { ...S, max_per_request: 1_000 } });
  assert.equal(high.readAt.size, items.length);
  // Per detection: fresh, the short overlap of the next poll, the second look: 2 + 2 s / 5 s.
  // (Bounds are inclusive: a detection exactly on a poll's end is read by both windows that meet there.)
  assert.ok(Math.abs(steady(high) - 2.4) < 0.06, `${steady(high).toFixed(3)} reads per detection`);
  // Whole reads until the overlap held more than one request (100 s), and again once it is idle.
  assert.ok(high.wholePolls > 20 && high.wholePolls < polls / 2, `${high.wholePolls} whole polls`);
});

test("issue 16: above the limit, a detection up to short_overlap late is read by the next poll, a later one by the second look", () => {
  const items: Item[] = [];
  for (let t = 0; t < 10 * 60_000; t += 100) items.push({ t, v: t });
  const slight = items.push({ t: 200_050, v: 201_000 }) - 1;
  const late = items.push({ t: 200_060, v: 260_000 }) - 1;
  const { readAt } = simulate(items, {
    every: 5_000,
    polls: 200,
    settings: { ...S, max_per_request: 1_000 },
  });
  assert.equal(readAt.get(slight), 205_000, "the next poll");
  const lateAt = readAt.get(late) as number;
  assert.ok(lateAt >= 200_060 + S.overlap && lateAt <= 200_060 + S.overlap + 5_000, `read at ${lateAt}`);
});

// poll.settle: between second-look polls the fresh window ends `settle` before now and the next one starts
// exactly there (no short overlap); after a whole read it starts short_overlap back and reads to now.
const SETTLE = { ...S, settle: 500 };
/** A tenant in the second-look mode whose latest poll was a second look too, or was whole. */
const AFTER_SECOND: VolumeEstimate = { fits: () => false, latestWhole: () => false };
const AFTER_WHOLE: VolumeEstimate = { fits: () => false, latestWhole: () => true };

test("issue 16 settle: after a second-look poll the fresh window goes on from its end and stops settle before now", () => {
  // The previous poll (5 s ago) read up to its now - settle.
  const plan = planPoll(at(-5_600), at(-5_000 - S.overlap), at(0), SETTLE, at(-5_500), AFTER_SECOND);
  assert.deepEqual(plan, {
    windows: [window(-5_000 - S.overlap, -S.overlap, true), window(-5_500, -500)],
    settles: at(-S.overlap),
    whole: false,
  });
  // A checkpoint moved past the last completed poll's end (a failed poll read further): from there.
  assert.deepEqual(
    planPoll(at(-2_000), at(-5_000 - S.overlap), at(0), SETTLE, at(-5_500), AFTER_SECOND).windows[1],
    window(-2_000, -500),
  );
  // A lagging checkpoint: one window, still ending settle before now.
  assert.deepEqual(
    planPoll(at(-3_600_000), at(-5_000 - S.overlap), at(0), SETTLE, undefined, AFTER_SECOND).windows,
    [window(-3_600_000, -500)],
  );
  // The clock stood still: nothing to read but the instant where the last one ended.
  assert.deepEqual(planPoll(at(-600), at(1_000 - S.overlap), at(0), SETTLE, at(-500), AFTER_SECOND).windows, [
    window(-500, -500),
  ]);
});

test("issue 16 settle: after a whole read (a mode switch), or unknown, the short overlap, and settle before now", () => {
  const expected = [window(-5_000 - S.overlap, -S.overlap, true), window(-5_000 - S.short_overlap, -500)];
  assert.deepEqual(
    planPoll(at(-5_010), at(-5_000 - S.overlap), at(0), SETTLE, at(-5_000), AFTER_WHOLE).windows,
    expected,
  );
  assert.deepEqual(
    planPoll(at(-5_010), at(-5_000 - S.overlap), at(0), SETTLE, at(-5_000), HIGH).windows,
    expected,
  );
  // settle 0: short_overlap on every poll, up to now.
  assert.deepEqual(
    planPoll(at(-5_010), at(-5_000 - S.overlap), at(0), { ...S, settle: 0 }, at(-5_000), AFTER_SECOND)
      .windows,
    [window(-5_000 - S.overlap, -S.overlap, true), window(-5_000 - S.short_overlap, 0)],
  );
  // Whole mode is untouched by settle.
  assert.deepEqual(
    planPoll(at(-5_010), at(-5_000 - S.overlap), at(0), SETTLE, at(-5_000), { fits: () => true }),
    {
      windows: [window(-5_010 - S.overlap, 0)],
      settles: at(-S.overlap),
      whole: true,
    },
  );
});

test("issue 16 settle: a detection served within settle of its time just after the first second-look poll (after a whole read) is read by the next poll", () => {
  // One per 100 ms from the overlap before the start: the start's whole read holds more than a request, so
  // the poll at 5 s is the first second look. The reliability suite's liveness check: detections dated a few
  // ms before a poll, served a few ms after it.
  const items: Item[] = [];
  for (let t = -S.overlap + 50; t < 60_000; t += 100) items.push({ t, v: t });
  const late = [
    items.push({ t: 4_992, v: 5_005 }) - 1,
    items.push({ t: 4_600, v: 5_001 }) - 1,
    items.push({ t: 9_995, v: 10_003 }) - 1,
  ];
  const { readAt, wholePolls } = simulate(items, {
    every: 5_000,
    polls: 8,
    settings: { ...SETTLE, max_per_request: 1_000 },
  });
  assert.equal(wholePolls, 1, "the start's whole read, then second looks");
  assert.deepEqual(
    late.map((k) => readAt.get(k)),
    [10_000, 10_000, 15_000],
    "each read by the first poll after it was served, not by its second look",
  );
});

test("issue 16 settle: the volume tells whether the latest completed poll was whole", () => {
  const volume = createOverlapVolume();
  assert.equal(volume.latestWhole?.(), undefined);
  volume.record(at(0), { whole: true, requests: 3, received: 9_000, inserted: 9_000 });
  assert.equal(volume.latestWhole?.(), true);
  volume.record(at(5_000), { whole: false, requests: 2, received: 5_000, inserted: 5_000 });
  assert.equal(volume.latestWhole?.(), false);
});

test("issue 16 settle: no detection up to `overlap` late is missed, whatever the settle, volume, mode switches, restarts and failed polls", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          t: fc.integer({ min: 0, max: 20 * 60_000 }),
          late: fc.integer({ min: 0, max: S.overlap }),
        }),
        { minLength: 1, maxLength: 60 },
      ),
      fc.array(
        fc.record({ t: fc.integer({ min: 0, max: 20 * 60_000 }), n: fc.integer({ min: 1, max: 40 }) }),
        { maxLength: 4 },
      ),
      fc.integer({ min: 1_000, max: 90_000 }),
      fc.integer({ min: 1, max: 30 }),
      fc.integer({ min: 0, max: 3_000 }),
      fc.uniqueArray(fc.integer({ min: 1, max: 200 }), { maxLength: 10 }),
      fc.uniqueArray(fc.integer({ min: 0, max: 200 }), { maxLength: 10 }),
      (raw, bursts, every, maxPerRequest, settle, restarts, failures) => {
        const items = raw.map((r) => ({ t: r.t, v: r.t + r.late }));
        for (const b of bursts)
          for (let k = 0; k < b.n; k++) items.push({ t: b.t + k * 50, v: b.t + k * 50 });
        const polls = Math.ceil((20 * 60_000 + 2 * S.overlap) / every) + 2;
        const { readAt } = simulate(items, {
          every,
          polls,
          restartAt: new Set(restarts),
          failAt: new Set(failures.filter((f) => f < polls - 10)),
          settings: { ...S, max_per_request: maxPerRequest, settle },
        });
        assert.equal(readAt.size, items.length, "every detection read");
        for (const [k, item] of items.entries()) {
          const when = readAt.get(k) as number;
          assert.ok(when <= Math.max(item.v, item.t + S.overlap) + 11 * every, `${k} read at ${when}`);
        }
      },
    ),
    { numRuns: 200 },
  );
});

test("issue 16 settle: one detection per 100 ms, polled every 5 s above the limit: 2 reads each, on time within settle", () => {
  const items: Item[] = [];
  // Off the poll grid (t = 50 mod 100), so no detection sits exactly where two windows meet.
  for (let t = 50; t < 30 * 60_000; t += 100) items.push({ t, v: t });
  const polls = (40 * 60_000) / 5_000 + 1;
  const high = simulate(items, { every: 5_000, polls, settings: { ...SETTLE, max_per_request: 1_000 } });
  assert.equal(high.readAt.size, items.length);
  const middle = high.readsOf.filter((_, k) => {
    const t = (items[k] as Item).t;
    return t >= 10 * 60_000 && t < 20 * 60_000;
  });
  assert.ok(
    middle.every((n) => n === 2),
    `reads per detection: ${[...new Set(middle)]}`,
  );
  // Each read by the first poll at least settle after its time.
  for (const [k, item] of items.entries()) {
    if (item.t < 10 * 60_000 || item.t >= 20 * 60_000) continue;
    assert.equal(high.readAt.get(k), Math.ceil((item.t + 500) / 5_000) * 5_000, `${item.t}`);
  }
});

test("issue 16 settle: above the limit, a detection up to settle late is read by the first poll settle after its time, a later one by the second look", () => {
  const items: Item[] = [];
  for (let t = 50; t < 10 * 60_000; t += 100) items.push({ t, v: t });
  // The poll at 200 s reads up to 199.5 s, the one at 205 s from there.
  const before = items.push({ t: 199_400, v: 199_900 }) - 1;
  const after = items.push({ t: 199_600, v: 200_100 }) - 1;
  const beyond = items.push({ t: 199_000, v: 201_000 }) - 1;
  const { readAt } = simulate(items, {
    every: 5_000,
    polls: 200,
    settings: { ...SETTLE, max_per_request: 1_000 },
  });
  assert.equal(readAt.get(before), 200_000, "settle late, before the window's end: visible at 200 s");
  assert.equal(readAt.get(after), 205_000, "settle late, after the window's end: the next window");
  // Not visible at 200 s, stamped before 199.5 s (where the 205 s window starts): the second look.
  const beyondAt = readAt.get(beyond) as number;
  assert.ok(
    beyondAt >= 199_000 + S.overlap && beyondAt <= 199_000 + S.overlap + 5_000,
    `read at ${beyondAt}`,
  );
});
