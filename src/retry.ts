// The one retry policy: a pure delay function and one loop that stops on permanent errors, on the bounds of
// a poll (POLL_BOUND_CODES), on the attempt limit and on shutdown. API calls, token requests and sink
// reconnects all go through it.
import { type ForwarderError, POLL_BOUND_CODES, shutdownError, toForwarderError } from "./errors.js";

export interface RetryPolicy {
  /** Delay before the second attempt; doubles per attempt. */
  readonly baseMs: number;
  /** Upper bound of the exponential part. */
  readonly maxMs: number;
  /** Attempts in all, the first included; Infinity retries until shutdown. */
  readonly maxAttempts: number;
  /** A server-requested wait longer than this ends the loop (the caller parks until then). */
  readonly maxThrottleMs: number;
}

export const DEFAULT_POLICY: RetryPolicy = {
  baseMs: 1_000,
  maxMs: 30_000,
  maxAttempts: 4,
  maxThrottleMs: 120_000,
};

/**
 * Delay before attempt `attempt + 1` after `attempt` failed (attempt starts at 1). Exponential with
 * "equal jitter": half fixed, half random, so synchronized clients spread out yet never retry at once.
 * A throttled error waits at least what the server asked for.
 */
export function retryDelay(
  attempt: number,
  error: ForwarderError,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  const jittered = exp / 2 + (exp / 2) * random();
  if (error.errorClass === "throttled" && error.retryAfterMs !== undefined) {
    return Math.max(error.retryAfterMs, jittered);
  }
  return jittered;
}

export interface RetryOptions {
  policy: RetryPolicy;
  signal?: AbortSignal;
  /** Called before each wait, for logs and metrics. */
  onRetry?: (error: ForwarderError, attempt: number, delayMs: number) => void;
  random?: () => number;
}

/** Runs `fn` until it succeeds, fails permanently, runs out of attempts or the signal aborts. */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const { policy, signal } = options;
  for (let attempt = 1; ; attempt++) {
    throwIfAborted(signal);
    try {
      return await fn(attempt);
    } catch (raw) {
      const error = toForwarderError(raw);
      if (
        error.code === "E_SHUTDOWN" ||
        error.errorClass === "permanent" ||
        POLL_BOUND_CODES.has(error.code) ||
        attempt >= policy.maxAttempts
      ) {
        throw error;
      }
      const delay = retryDelay(attempt, error, policy, options.random);
      if (error.errorClass === "throttled" && delay > policy.maxThrottleMs) throw error;
      options.onRetry?.(error, attempt, delay);
      await sleep(delay, signal);
    }
  }
}

/** Resolves after `ms`, or rejects with E_SHUTDOWN as soon as the signal aborts; never leaves a timer behind. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(shutdownError());
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(shutdownError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw shutdownError();
}
