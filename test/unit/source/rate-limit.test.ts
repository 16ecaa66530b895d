import assert from "node:assert/strict";
import { test } from "node:test";
import { ForwarderError } from "../../../src/errors.js";
import {
  API_RATE_LIMITS,
  createRateLimiter,
  createSemaphore,
  limited,
  type Timers,
} from "../../../src/source/rate-limit.js";

/** A clock that moves only when told, with the timers it runs. */
function fakeTimers(start = 1_000_000) {
  let now = start;
  let nextId = 0;
  const pending = new Map<number, { at: number; fn: () => void }>();
  const timers: Timers = {
    now: () => now,
    schedule(fn, ms) {
      const id = ++nextId;
      pending.set(id, { at: now + ms, fn });
      return () => pending.delete(id);
    },
  };
  return {
    timers,
    get pending() {
      return pending.size;
    },
    /** Moves time forward, running each due timer in order, and lets resolved promises settle. */
    async advance(ms: number) {
      const end = now + ms;
      for (;;) {
        const due = [...pending.entries()]
          .filter(([, t]) => t.at <= end)
          .sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        pending.delete(due[0]);
        now = due[1].at;
        due[1].fn();
        await settle();
      }
      now = end;
      await settle();
    },
  };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

/** Starts `n` acquires and records, for each, the fake time at which it was let through. */
function acquireMany(
  limiter: ReturnType<typeof createRateLimiter>,
  n: number,
  clock: () => number,
  signal?: AbortSignal,
) {
  const grantedAt: Array<number | undefined> = new Array(n).fill(undefined);
  const results = Array.from({ length: n }, (_, i) =>
    limiter.acquire(signal).then(
      () => {
        grantedAt[i] = clock();
      },
      (e: unknown) => e,
    ),
  );
  return { grantedAt, results };
}

test("the documented quotas: Alerts 100/min and 1500/h, Graph 150/min, none for SIEM", () => {
  assert.deepEqual(API_RATE_LIMITS.alerts, [
    { limit: 100, windowMs: 60_000 },
    { limit: 1_500, windowMs: 3_600_000 },
  ]);
  assert.deepEqual(API_RATE_LIMITS.graph, [{ limit: 150, windowMs: 60_000 }]);
  assert.deepEqual(API_RATE_LIMITS.siem, []);
});

test("calls within the window go at once; the next waits until the oldest leaves the window", async () => {
  const clock = fakeTimers();
  const limiter = createRateLimiter([{ limit: 3, windowMs: 1_000 }], clock.timers);
  const start = clock.timers.now();
  const { grantedAt } = acquireMany(limiter, 5, clock.timers.now);
  await settle();
  assert.deepEqual(grantedAt, [start, start, start, undefined, undefined]);
  assert.equal(limiter.waiting, 2);
  assert.equal(limiter.delayMs(), 1_000);
  await clock.advance(999);
  assert.equal(grantedAt[3], undefined, "not one millisecond early");
  await clock.advance(1);
  assert.deepEqual(grantedAt, [start, start, start, start + 1_000, start + 1_000]);
  assert.equal(limiter.waiting, 0);
  assert.equal(clock.pending, 0, "no timer left once nobody waits");
});

test("every window must allow the call: the longer window holds calls the short one would let go", async () => {
  const clock = fakeTimers();
  const limiter = createRateLimiter(
    [
      { limit: 2, windowMs: 1_000 },
      { limit: 3, windowMs: 10_000 },
    ],
    clock.timers,
  );
  const start = clock.timers.now();
  const { grantedAt } = acquireMany(limiter, 4, clock.timers.now);
  await settle();
  await clock.advance(1_000);
  // The third fits the short window after 1 s; the fourth must wait for the long window (10 s).
  assert.deepEqual(grantedAt, [start, start, start + 1_000, undefined]);
  await clock.advance(8_999);
  assert.equal(grantedAt[3], undefined);
  await clock.advance(1);
  assert.equal(grantedAt[3], start + 10_000);
  assert.equal(clock.pending, 0);
});

test("the Alerts API quota: 100 go at once, the 101st a minute later", async () => {
  const clock = fakeTimers();
  const limiter = createRateLimiter(API_RATE_LIMITS.alerts, clock.timers);
  const start = clock.timers.now();
  const { grantedAt } = acquireMany(limiter, 101, clock.timers.now);
  await settle();
  assert.equal(grantedAt.filter((t) => t === start).length, 100);
  await clock.advance(60_000);
  assert.equal(grantedAt[100], start + 60_000);
});

test("no windows (SIEM): every call goes at once", async () => {
  const clock = fakeTimers();
  const limiter = createRateLimiter(API_RATE_LIMITS.siem, clock.timers);
  const { grantedAt } = acquireMany(limiter, 50, clock.timers.now);
  await settle();
  assert.ok(grantedAt.every((t) => t === clock.timers.now()));
  assert.equal(clock.pending, 0);
});

test("an aborted waiter leaves the queue, is not counted, and leaves no timer", async () => {
  const clock = fakeTimers();
  const limiter = createRateLimiter([{ limit: 1, windowMs: 1_000 }], clock.timers);
  await limiter.acquire();
  const controller = new AbortController();
  const { grantedAt, results } = acquireMany(limiter, 2, clock.timers.now, controller.signal);
  await settle();
  assert.equal(limiter.waiting, 2);
  assert.equal(clock.pending, 1);
  controller.abort();
  const errors = await Promise.all(results);
  for (const e of errors) {
    assert.ok(e instanceof ForwarderError);
    assert.equal(e.code, "E_SHUTDOWN");
  }
  assert.deepEqual(grantedAt, [undefined, undefined]);
  assert.equal(limiter.waiting, 0);
  assert.equal(clock.pending, 0, "the timer went with the last waiter");
  // The aborted calls were not counted: one more call goes once the first leaves the window.
  await clock.advance(1_000);
  assert.equal(limiter.delayMs(), 0);
});

test("an already aborted signal rejects at once, even with room in the window", async () => {
  const limiter = createRateLimiter([{ limit: 5, windowMs: 1_000 }], fakeTimers().timers);
  await assert.rejects(limiter.acquire(AbortSignal.abort()), { code: "E_SHUTDOWN" });
});

test("pause (a 429's Retry-After) holds calls the windows would allow", async () => {
  const clock = fakeTimers();
  const limiter = createRateLimiter([{ limit: 100, windowMs: 1_000 }], clock.timers);
  const start = clock.timers.now();
  limiter.pause(5_000);
  const { grantedAt } = acquireMany(limiter, 2, clock.timers.now);
  await settle();
  assert.deepEqual(grantedAt, [undefined, undefined]);
  await clock.advance(5_000);
  assert.deepEqual(grantedAt, [start + 5_000, start + 5_000]);
});

test("the real timers: a wait is abortable and leaves nothing open (the leak check would fail the file)", async () => {
  const limiter = createRateLimiter([{ limit: 1, windowMs: 3_600_000 }]);
  await limiter.acquire();
  const controller = new AbortController();
  const waiting = limiter.acquire(controller.signal);
  controller.abort();
  await assert.rejects(waiting, { code: "E_SHUTDOWN" });
});

test("the semaphore lets max through, hands a freed slot to the next in arrival order", async () => {
  const sem = createSemaphore(2);
  const order: number[] = [];
  const a = await sem.acquire();
  const b = await sem.acquire();
  assert.equal(sem.inUse, 2);
  const c = sem.acquire().then((release) => {
    order.push(3);
    return release;
  });
  const d = sem.acquire().then((release) => {
    order.push(4);
    return release;
  });
  await settle();
  assert.deepEqual(order, []);
  assert.equal(sem.waiting, 2);
  a();
  a(); // a second release of the same permit is ignored
  await settle();
  assert.deepEqual(order, [3]);
  assert.equal(sem.inUse, 2);
  b();
  await settle();
  assert.deepEqual(order, [3, 4]);
  (await c)();
  (await d)();
  assert.equal(sem.inUse, 0);
  assert.equal(sem.waiting, 0);
});

test("an aborted semaphore waiter leaves the queue without taking a slot", async () => {
  const sem = createSemaphore(1);
  const held = await sem.acquire();
  const controller = new AbortController();
  const aborted = sem.acquire(controller.signal);
  const next = sem.acquire();
  controller.abort();
  await assert.rejects(aborted, { code: "E_SHUTDOWN" });
  held();
  const release = await next;
  assert.equal(sem.inUse, 1);
  release();
  assert.equal(sem.inUse, 0);
  await assert.rejects(sem.acquire(AbortSignal.abort()), { code: "E_SHUTDOWN" });
});

test("limited: rate first, then a slot; the slot is released when the call throws", async () => {
  const clock = fakeTimers();
  const rate = createRateLimiter([{ limit: 10, windowMs: 1_000 }], clock.timers);
  const concurrency = createSemaphore(1);
  let inFlight = 0;
  let maxInFlight = 0;
  const call = async (fail: boolean) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await settle();
    inFlight--;
    if (fail) throw new Error("boom");
    return "ok";
  };
  const results = await Promise.allSettled([
    limited({ rate, concurrency }, () => call(true)),
    limited({ rate, concurrency }, () => call(false)),
    limited({ rate, concurrency }, () => call(false)),
  ]);
  assert.deepEqual(
    results.map((r) => r.status),
    ["rejected", "fulfilled", "fulfilled"],
  );
  assert.equal(maxInFlight, 1);
  assert.equal(concurrency.inUse, 0);
});

test("invalid sizes are refused", () => {
  assert.throws(() => createSemaphore(0), { code: "E_INTERNAL" });
  assert.throws(() => createRateLimiter([{ limit: 0, windowMs: 1_000 }]), { code: "E_INTERNAL" });
});
