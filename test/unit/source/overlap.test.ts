// Issue 16: which windows each poll reads (src/source/overlap.ts). Every instant is read fresh (from the
// checkpoint minus short_overlap) and once more when it is `overlap` old (the second look); the first poll
// after a start reads the whole overlap. A model of the API (each detection with its LastProcessedTimeUtc and
// the moment it becomes visible) checks that no detection up to `overlap` late is ever missed, through
// restarts and failed polls, and that each instant is read about twice.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { type PollPlan, planPoll, settledAfter } from "../../../src/source/overlap.js";
import { type Ticks, ticksFromMs } from "../../../src/timestamp.js";

const S = { lookback: 2 * 3_600_000, overlap: 5 * 60_000, short_overlap: 2_000 };
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
  });
});

test("issue 16: the first poll after a start reads the whole overlap before the checkpoint", () => {
  assert.deepEqual(planPoll(at(-5_000), undefined, at(0), S).windows, [window(-5_000 - S.overlap, 0)]);
});

test("issue 16: later polls read the second look, then the fresh window from checkpoint - short_overlap", () => {
  // The previous poll started 5 s ago: [now - 5 min - 5 s, now - 5 min] matured since.
  const plan = planPoll(at(-5_010), at(-5_000 - S.overlap), at(0), S);
  assert.deepEqual(plan, {
    windows: [window(-5_000 - S.overlap, -S.overlap, true), window(-5_010 - S.short_overlap, 0)],
    settles: at(-S.overlap),
  });
});

test("issue 16: a lagging checkpoint (backlog, idle tenant) makes one window from the older start", () => {
  const idle = planPoll(at(-3_600_000), at(-5_000 - S.overlap), at(0), S);
  assert.deepEqual(idle.windows, [window(-3_600_000 - S.short_overlap, 0)]);
  // The checkpoint just inside the matured range: one window from the settled point.
  const close = planPoll(at(-S.overlap + 1_000), at(-10_000 - S.overlap), at(0), S);
  assert.deepEqual(close.windows, [window(-10_000 - S.overlap, 0)]);
});

test("issue 16: a clock that stood still or went back reads the fresh window alone", () => {
  const plan = planPoll(at(-1_000), at(1_000 - S.overlap), at(0), S);
  assert.deepEqual(plan.windows, [window(-1_000 - S.short_overlap, 0)]);
});

test("issue 16: a checkpoint ahead of the clock reads from now, minus the overlap on the first poll", () => {
  assert.deepEqual(planPoll(at(60_000), undefined, at(0), S).windows, [window(-S.overlap, 0)]);
  assert.deepEqual(planPoll(at(60_000), at(-5_000 - S.overlap), at(0), S).windows, [
    window(-5_000 - S.overlap, -S.overlap, true),
    window(-S.short_overlap, 0),
  ]);
});

test("issue 16: an idle tenant's fresh window starts short_overlap before the last poll's end, not the checkpoint", () => {
  assert.deepEqual(planPoll(at(-60_000), at(-5_000 - S.overlap), at(0), S, at(-5_000)).windows, [
    window(-5_000 - S.overlap, -S.overlap, true),
    window(-5_000 - S.short_overlap, 0),
  ]);
});

test("issue 16: short_overlap = overlap reads the whole overlap on every poll, as before", () => {
  const every = { ...S, short_overlap: S.overlap };
  assert.deepEqual(planPoll(at(-5_010), at(-5_000 - S.overlap), at(0), every).windows, [
    window(-5_010 - S.overlap, 0),
  ]);
});

test("issue 16: the settled point moves with what was read, never past now - overlap, never back", () => {
  const plan: PollPlan = planPoll(at(-5_010), at(-5_000 - S.overlap), at(0), S);
  const settled = at(-5_000 - S.overlap);
  assert.equal(settledAfter(plan, settled, at(-2_000 - S.overlap)), at(-2_000 - S.overlap));
  assert.equal(settledAfter(plan, settled, at(-1_000)), at(-S.overlap));
  assert.equal(settledAfter(plan, settled, at(-9_000 - S.overlap)), settled);
  // Unknown (first poll after a start): from the window's start.
  const first = planPoll(at(-5_000), undefined, at(0), S);
  assert.equal(settledAfter(first, undefined, at(-4_000 - S.overlap)), at(-4_000 - S.overlap));
  assert.equal(settledAfter(first, undefined, at(-9_000 - S.overlap)), at(-5_000 - S.overlap));
});

/** A detection: LastProcessedTimeUtc `t` and visible from `v` (ms after T0). */
interface Item {
  t: number;
  v: number;
}

/**
 * Polls every `every` ms from T0 for `polls` polls against `items`; a window returns what is visible at the
 * poll's start with t in [since, until]. `restartAt` forgets the settled point before those polls;
 * `failAt` polls fail after their first window. Returns what was read, and how many times in all.
 */
function simulate(
  items: readonly Item[],
  o: { every: number; polls: number; restartAt: ReadonlySet<number>; failAt: ReadonlySet<number> },
) {
  const read = new Set<number>();
  let reads = 0;
  let checkpoint: Ticks | undefined = at(-1);
  let settled: Ticks | undefined;
  let readUntil: Ticks | undefined;
  for (let i = 0; i < o.polls; i++) {
    const now = i * o.every;
    if (o.restartAt.has(i)) {
      settled = undefined;
      readUntil = undefined;
    }
    const plan = planPoll(checkpoint, settled, at(now), S, readUntil);
    let failed = false;
    for (const [w, win] of plan.windows.entries()) {
      if (o.failAt.has(i) && w > 0) {
        failed = true;
        break;
      }
      let newest: Ticks | undefined;
      for (const [k, item] of items.entries()) {
        const t = at(item.t);
        if (t < win.since || t > win.until || item.v > now) continue;
        read.add(k);
        reads++;
        if (newest === undefined || t > newest) newest = t;
      }
      if (newest !== undefined && (checkpoint === undefined || newest > checkpoint)) checkpoint = newest;
      settled = settledAfter(plan, settled, win.until);
    }
    if (!failed) readUntil = plan.windows.at(-1)?.until;
  }
  return { read, reads };
}

test("issue 16: no detection up to `overlap` late is missed, whatever the restarts and failed polls", () => {
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
      fc.uniqueArray(fc.integer({ min: 1, max: 200 }), { maxLength: 10 }),
      fc.uniqueArray(fc.integer({ min: 0, max: 200 }), { maxLength: 10 }),
      (raw, every, restarts, failures) => {
        const items = raw.map((r) => ({ t: r.t, v: r.t + r.late }));
        // Enough polls to pass the last detection's second look.
        const polls = Math.ceil((20 * 60_000 + 2 * S.overlap) / every) + 2;
        const { read } = simulate(items, {
          every,
          polls,
          restartAt: new Set(restarts),
          failAt: new Set(failures.filter((f) => f < polls - 10)),
        });
        assert.equal(read.size, items.length, "every detection read");
      },
    ),
    { numRuns: 200 },
  );
});

test("issue 16: one detection per 100 ms, polled every 5 s: each read about 2 + short_overlap/schedule times", () => {
  const items: Item[] = [];
  for (let t = 0; t < 30 * 60_000; t += 100) items.push({ t, v: t });
  // Ten idle minutes after the last one: its second look, and no re-reading of the last seconds meanwhile.
  const { read, reads } = simulate(items, {
    every: 5_000,
    polls: (40 * 60_000) / 5_000 + 1,
    restartAt: new Set(),
    failAt: new Set(),
  });
  assert.equal(read.size, items.length);
  // Per detection: fresh, the short overlap of the next poll, the second look: 2 + 2 s / 5 s.
  const perItem = reads / items.length;
  assert.ok(perItem > 2.3 && perItem < 2.45, `${perItem.toFixed(3)} reads per detection`);
});
