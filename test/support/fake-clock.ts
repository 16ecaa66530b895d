// A Clock (src/clock.ts) that moves only when the test says so: the timers of the loops under test fire
// in due order, with the promise callbacks they start run in between, so a test of minutes of backoff
// and confirmation delays takes milliseconds.
import type { Clock } from "../../src/clock.js";

interface PendingTimer {
  readonly at: number;
  /** Order of creation: timers due at the same time fire in the order they were set. */
  readonly seq: number;
  readonly callback: () => void;
}

export interface FakeClock extends Clock {
  /** Timers set and neither fired nor cancelled. */
  readonly pending: number;
  /** When the next timer is due, if any. */
  readonly nextAt: number | undefined;
  /**
   * Moves time forward by `ms`, firing every timer due on the way at its own time; between timers (and at
   * the end) lets pending promise callbacks and I/O callbacks run (see settle()).
   */
  advance(ms: number): Promise<void>;
}

/** Lets the promise chains started by a callback run to their next wait: a few turns of the event loop. */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}

export function createFakeClock(start = 1_000): FakeClock {
  let now = start;
  let seq = 0;
  const timers = new Set<PendingTimer>();

  const due = (until: number): PendingTimer | undefined => {
    let first: PendingTimer | undefined;
    for (const t of timers) {
      if (t.at > until) continue;
      if (first === undefined || t.at < first.at || (t.at === first.at && t.seq < first.seq)) first = t;
    }
    return first;
  };

  const fireUntil = async (until: number): Promise<void> => {
    await settle();
    for (;;) {
      const timer = due(until);
      if (timer === undefined) break;
      timers.delete(timer);
      now = Math.max(now, timer.at);
      timer.callback();
      await settle();
    }
    now = Math.max(now, until);
    await settle();
  };

  return {
    now: () => now,
    setTimer(callback, ms) {
      const timer: PendingTimer = { at: now + Math.max(0, ms), seq: seq++, callback };
      timers.add(timer);
      return () => {
        timers.delete(timer);
      };
    },
    get pending() {
      return timers.size;
    },
    get nextAt() {
      let at: number | undefined;
      for (const t of timers) if (at === undefined || t.at < at) at = t.at;
      return at;
    },
    advance: (ms) => fireUntil(now + ms),
  };
}
