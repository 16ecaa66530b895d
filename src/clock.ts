// Time for the loops that wait on it (the stream sink's connection, the drain): a monotonic now() and
// one-shot timers, passed in so that a test drives them on a fake clock and runs in milliseconds
// (test/support/fake-clock.ts). Production uses systemClock.
import { performance } from "node:perf_hooks";

/** Cancels a timer; calling it again, or after the timer fired, does nothing. */
export type CancelTimer = () => void;

export interface Clock {
  /** Milliseconds on a monotonic clock: for measuring durations, never a date. */
  now(): number;
  /** Calls `callback` once, `ms` from now. */
  setTimer(callback: () => void, ms: number): CancelTimer;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer(callback, ms) {
    const timer = setTimeout(callback, ms);
    return () => clearTimeout(timer);
  },
};
