// Client-side limits on API calls, so that the forwarder stays under Microsoft's quotas instead of
// learning them from 429s: a rate limiter per tenant and API (several sliding windows, all of which a
// call must fit), and one semaphore across all tenants for the calls in flight at once
// (`poll.max_concurrent_requests`). An API client wraps each request in both, rate first (see `limited`),
// so that a tenant waiting for its quota does not hold a slot that another tenant could use.
//
// Waiting is abortable and leaves nothing behind: a waiter that is aborted leaves the queue, and the one
// timer exists only while someone waits.
import { ForwarderError } from "../errors.js";
import type { SourceKind } from "../record.js";

export interface RateWindow {
  /** Calls allowed in any `windowMs`. */
  readonly limit: number;
  readonly windowMs: number;
}

/**
 * Documented quotas per application and tenant (Microsoft's API pages): the MDE Alerts API allows 100 calls a
 * minute and 1,500 an hour; Graph's security alerts 150 requests a minute ("security detections and
 * incidents", so incidents get the same). None is documented for the SIEM API, so it has none here.
 */
export const API_RATE_LIMITS: Readonly<Record<SourceKind, readonly RateWindow[]>> = {
  siem: [],
  alerts: [
    { limit: 100, windowMs: 60_000 },
    { limit: 1_500, windowMs: 3_600_000 },
  ],
  graph: [{ limit: 150, windowMs: 60_000 }],
  incidents: [{ limit: 150, windowMs: 60_000 }],
};

/** Timers, injectable so that tests can drive time. */
export interface Timers {
  now(): number;
  /** Calls `fn` after `ms`; returns a function that cancels it. */
  schedule(fn: () => void, ms: number): () => void;
}

export const realTimers: Timers = {
  now: () => Date.now(),
  schedule(fn, ms) {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};

export interface RateLimiter {
  /**
   * Resolves when a call may go out, and counts it. Callers are served in arrival order. Rejects with
   * E_SHUTDOWN when `signal` aborts first (the call is then not counted).
   */
  acquire(signal?: AbortSignal): Promise<void>;
  /** Holds every call until `ms` from now (a 429's Retry-After), on top of the windows. */
  pause(ms: number): void;
  /** How long a call made now would wait, in ms (0: at once). */
  delayMs(): number;
  /** Callers waiting. */
  readonly waiting: number;
}

interface Waiter {
  resolve(): void;
  reject(err: Error): void;
  detach(): void;
}

export function createRateLimiter(windows: readonly RateWindow[], timers: Timers = realTimers): RateLimiter {
  for (const w of windows) {
    if (!(w.limit >= 1 && Number.isInteger(w.limit) && w.windowMs > 0)) {
      throw new ForwarderError("E_INTERNAL", `invalid rate window ${w.limit} per ${w.windowMs} ms`);
    }
  }
  const longest = Math.max(0, ...windows.map((w) => w.windowMs));
  const keep = Math.max(0, ...windows.map((w) => w.limit));
  /** Start times of the latest calls, oldest first; at most `keep` of them, none older than `longest`. */
  const log: number[] = [];
  const queue: Waiter[] = [];
  let pausedUntil = 0;
  let cancelTimer: (() => void) | undefined;

  function delay(now: number): number {
    while (log.length > 0 && (log[0] as number) <= now - longest) log.shift();
    let wait = Math.max(0, pausedUntil - now);
    for (const w of windows) {
      // The call `limit` places back must have left the window before one more may go out.
      const index = log.length - w.limit;
      if (index < 0) continue;
      wait = Math.max(wait, (log[index] as number) + w.windowMs - now);
    }
    return wait;
  }

  function record(now: number): void {
    log.push(now);
    if (log.length > keep) log.shift();
  }

  function drain(): void {
    cancelTimer?.();
    cancelTimer = undefined;
    while (queue.length > 0) {
      const now = timers.now();
      const wait = delay(now);
      if (wait > 0) {
        cancelTimer = timers.schedule(drain, wait);
        return;
      }
      const next = queue.shift() as Waiter;
      next.detach();
      record(now);
      next.resolve();
    }
  }

  return {
    acquire(signal) {
      if (signal?.aborted) return Promise.reject(aborted());
      const now = timers.now();
      if (queue.length === 0 && delay(now) === 0) {
        record(now);
        return Promise.resolve();
      }
      return new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          const i = queue.indexOf(waiter);
          if (i !== -1) queue.splice(i, 1);
          if (queue.length === 0) {
            cancelTimer?.();
            cancelTimer = undefined;
          }
          reject(aborted());
        };
        const waiter: Waiter = {
          resolve,
          reject,
          detach: () => signal?.removeEventListener("abort", onAbort),
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        queue.push(waiter);
        if (queue.length === 1) drain();
      });
    },
    pause(ms) {
      pausedUntil = Math.max(pausedUntil, timers.now() + Math.max(0, ms));
      // Waiters already scheduled must now wait longer: re-plan the timer.
      if (queue.length > 0) drain();
    },
    delayMs() {
      return delay(timers.now());
    },
    get waiting() {
      return queue.length;
    },
  };
}

export interface Semaphore {
  /**
   * Resolves with a release function once a slot is free (arrival order). Release exactly once, in a
   * `finally`; further calls are ignored. Rejects with E_SHUTDOWN when `signal` aborts first.
   */
  acquire(signal?: AbortSignal): Promise<() => void>;
  readonly inUse: number;
  readonly waiting: number;
}

export function createSemaphore(max: number): Semaphore {
  if (!(Number.isInteger(max) && max >= 1)) {
    throw new ForwarderError("E_INTERNAL", `semaphore size must be a whole number >= 1, not ${max}`);
  }
  let inUse = 0;
  const queue: Array<(release: () => void) => void> = [];

  function permit(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = queue.shift();
      // The slot passes straight to the next waiter; inUse stays the same.
      if (next) next(permit());
      else inUse--;
    };
  }

  return {
    acquire(signal) {
      if (signal?.aborted) return Promise.reject(aborted());
      if (inUse < max) {
        inUse++;
        return Promise.resolve(permit());
      }
      return new Promise((resolve, reject) => {
        const onAbort = () => {
          const i = queue.indexOf(grant);
          if (i !== -1) queue.splice(i, 1);
          reject(aborted());
        };
        const grant = (release: () => void) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(release);
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        queue.push(grant);
      });
    },
    get inUse() {
      return inUse;
    },
    get waiting() {
      return queue.length;
    },
  };
}

/** Runs `call` once the tenant's rate limiter and then the global semaphore allow it. */
export async function limited<T>(
  limits: { rate: RateLimiter; concurrency: Semaphore },
  call: () => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  await limits.rate.acquire(signal);
  const release = await limits.concurrency.acquire(signal);
  try {
    return await call();
  } finally {
    release();
  }
}

function aborted(): ForwarderError {
  return new ForwarderError("E_SHUTDOWN", "waiting for an API call slot aborted by shutdown");
}
