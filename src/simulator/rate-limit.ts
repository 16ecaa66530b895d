// Sliding-window call quotas per key (one key per API and tenant: Microsoft counts per application and
// tenant, and the simulator has one application per tenant). A refused call does not count, and its
// Retry-After is when the oldest counted call leaves the window that is full.

export interface RateWindow {
  limit: number;
  windowMs: number;
}

export type RateDecision = { ok: true } | { ok: false; retryAfterSeconds: number; window: RateWindow };

export interface RateLimiter {
  take(key: string, nowMs: number): RateDecision;
}

export function createRateLimiter(windows: readonly RateWindow[]): RateLimiter {
  const longest = Math.max(0, ...windows.map((w) => w.windowMs));
  /** Accepted call times per key, oldest first. */
  const calls = new Map<string, number[]>();

  return {
    take(key, nowMs) {
      let list = calls.get(key);
      if (list === undefined) {
        list = [];
        calls.set(key, list);
      }
      while (list.length > 0 && (list[0] ?? 0) <= nowMs - longest) list.shift();
      for (const w of windows) {
        const inWindow = list.filter((t) => t > nowMs - w.windowMs);
        if (inWindow.length >= w.limit) {
          // The window has room again once enough of its calls have aged out.
          const oldest = inWindow[inWindow.length - w.limit] ?? nowMs;
          const retryAfterSeconds = Math.max(1, Math.ceil((oldest + w.windowMs - nowMs) / 1000));
          return { ok: false, retryAfterSeconds, window: w };
        }
      }
      list.push(nowMs);
      return { ok: true };
    },
  };
}
