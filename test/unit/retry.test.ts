import assert from "node:assert/strict";
import { test } from "node:test";
import { ForwarderError } from "../../src/errors.js";
import { DEFAULT_POLICY, retry, retryDelay, sleep } from "../../src/retry.js";

const retryable = new ForwarderError("E_API_SERVER", "500");
const policy = { baseMs: 100, maxMs: 1_000, maxAttempts: 5, maxThrottleMs: 10_000 };

test("delays double per attempt, stay within [half, full] of the step, and are capped", () => {
  for (let attempt = 1; attempt <= 8; attempt++) {
    const step = Math.min(1_000, 100 * 2 ** (attempt - 1));
    assert.equal(
      retryDelay(attempt, retryable, policy, () => 0),
      step / 2,
    );
    assert.equal(
      retryDelay(attempt, retryable, policy, () => 1),
      step,
    );
  }
});

test("a throttled error waits at least what the server asked", () => {
  const throttled = new ForwarderError("E_API_THROTTLED", "429", { retryAfterMs: 7_000 });
  assert.equal(
    retryDelay(1, throttled, policy, () => 0.5),
    7_000,
  );
});

test("retry stops at once on a permanent error and after maxAttempts on retryable ones", async () => {
  let calls = 0;
  await assert.rejects(
    retry(
      async () => {
        calls++;
        throw new ForwarderError("E_API_FORBIDDEN", "403");
      },
      { policy, random: () => 0 },
    ),
    /403/,
  );
  assert.equal(calls, 1);
  calls = 0;
  const fast = { ...policy, baseMs: 1, maxMs: 1 };
  await assert.rejects(
    retry(
      async () => {
        calls++;
        throw retryable;
      },
      { policy: fast },
    ),
    /500/,
  );
  assert.equal(calls, 5);
  calls = 0;
  const value = await retry(
    async (attempt) => {
      calls++;
      if (attempt < 3) throw retryable;
      return "ok";
    },
    { policy: fast },
  );
  assert.equal(value, "ok");
  assert.equal(calls, 3);
});

test("a Retry-After beyond maxThrottleMs ends the loop so the caller can park", async () => {
  let calls = 0;
  const long = new ForwarderError("E_API_THROTTLED", "429", { retryAfterMs: 60_000 });
  await assert.rejects(
    retry(
      async () => {
        calls++;
        throw long;
      },
      { policy },
    ),
    (e: unknown) => e === long,
  );
  assert.equal(calls, 1);
});

test("shutdown interrupts the wait and leaves no timer behind", async () => {
  const abort = new AbortController();
  const waiting = retry(
    async () => {
      throw retryable;
    },
    { policy: { ...DEFAULT_POLICY, baseMs: 60_000 }, signal: abort.signal },
  );
  abort.abort();
  await assert.rejects(waiting, (e: unknown) => e instanceof ForwarderError && e.code === "E_SHUTDOWN");
  await assert.rejects(
    sleep(10, abort.signal),
    (e: unknown) => e instanceof ForwarderError && e.code === "E_SHUTDOWN",
  );
});

test("the bounds of a poll (E_API_TOO_LARGE, E_POLL_TOO_MANY_REQUESTS) end the loop at once although retryable", async () => {
  for (const code of ["E_API_TOO_LARGE", "E_POLL_TOO_MANY_REQUESTS"] as const) {
    let calls = 0;
    await assert.rejects(
      retry(
        async () => {
          calls++;
          throw new ForwarderError(code, "bound");
        },
        { policy },
      ),
      (err: unknown) => err instanceof ForwarderError && err.code === code && !err.permanent,
    );
    assert.equal(calls, 1, code);
  }
});
