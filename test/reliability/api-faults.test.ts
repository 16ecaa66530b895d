// API faults mixed at random: expired tokens (401), 403, 429 with Retry-After, 500, 503, responses
// slower than request_timeout, bodies cut mid-array, HTML pages with status 200, and token-endpoint
// failures. Nothing is lost, nothing is duplicated (no send fails here), and after a 429 the API is
// not called again before its Retry-After.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Fault } from "../../src/simulator/index.js";
import {
  between,
  checkLiveness,
  createEnv,
  delay,
  report,
  rng,
  SEED,
  SOAK,
  stopGracefully,
  waitForConservation,
} from "./harness.js";

function shuffle<T>(random: () => number, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

test("API faults mixed at random: nothing lost, Retry-After honoured", async (t) => {
  const random = rng(SEED ^ 0x41);
  const env = await createEnv(t, {
    poll: { max_per_request: 100, request_timeout: "1s", permanent_error_retry: "3s" },
  });
  const now = Date.now();
  env.sim.generate(800, { from: now - 50 * 60_000, to: now - 1_000 });
  const stopFeed = env.feed(1, 250);
  const p = env.start();

  const kinds: Array<() => { fault: Fault; target: "alerts" | "token" }> = [
    () => ({ fault: { kind: "status", status: 401 }, target: "alerts" }),
    () => ({ fault: { kind: "status", status: 403 }, target: "alerts" }),
    () => ({
      fault: { kind: "status", status: 429, retryAfterSeconds: between(random, 1, 4) },
      target: "alerts",
    }),
    () => ({ fault: { kind: "status", status: 500 }, target: "alerts" }),
    () => ({ fault: { kind: "status", status: 503 }, target: "alerts" }),
    () => ({ fault: { kind: "slow", delayMs: 1_500 }, target: "alerts" }),
    () => ({ fault: { kind: "cut" }, target: "alerts" }),
    () => ({ fault: { kind: "html" }, target: "alerts" }),
    () => ({ fault: { kind: "status", status: 503 }, target: "token" }),
    () => ({ fault: { kind: "cut" }, target: "token" }),
  ];
  const injected: Record<string, number> = {};
  const retryAfters: number[] = [];
  // One fault at a time, each after zero to two clean requests, so that faults and successes interleave
  // and the queue never runs far ahead of the requests. Kinds come from a shuffled deck, so that every
  // kind is served in every run.
  const minEnd = performance.now() + (SOAK ? 120 : 15) * 1000;
  const maxEnd = performance.now() + (SOAK ? 180 : 60) * 1000;
  let deck: number[] = [];
  let requestsAtLastFault = -1;
  while (
    performance.now() < maxEnd &&
    (performance.now() < minEnd || Object.keys(injected).length < kinds.length)
  ) {
    const requests = env.sim.requests.length;
    if (requests <= requestsAtLastFault + between(random, 0, 3)) {
      await delay(50);
      continue;
    }
    requestsAtLastFault = requests;
    if (deck.length === 0)
      deck = shuffle(
        random,
        kinds.map((_, i) => i),
      );
    const pick = kinds[deck.pop() ?? 0];
    assert.ok(pick);
    const { fault, target } = pick();
    const name = `${target}:${fault.kind === "status" ? fault.status : fault.kind}`;
    injected[name] = (injected[name] ?? 0) + 1;
    if (fault.kind === "status" && fault.status === 429) retryAfters.push(fault.retryAfterSeconds ?? 0);
    // Token faults only bite when a token is fetched: expire the tokens so that one is.
    if (target === "token") env.sim.expireTokens();
    env.sim.injectFaults([fault], target);
  }
  assert.equal(Object.keys(injected).length, kinds.length, "every kind of fault was served");
  stopFeed();
  await waitForConservation(env, env.allIds(), 30_000);
  const livenessMs = await checkLiveness(env);
  await stopGracefully(p);

  // Every 429 was followed by a pause at least as long as its Retry-After before the next API call.
  const alerts = env.sim.requests.filter((r) => r.path.startsWith("/api/alerts"));
  let throttled = 0;
  alerts.forEach((r, i) => {
    if (r.status !== 429) return;
    const retryAfter = retryAfters[throttled++] ?? 0;
    const next = alerts[i + 1];
    if (next) {
      assert.ok(
        next.at - r.at >= retryAfter * 1000 - 20,
        `next call ${next.at - r.at} ms after a 429 with Retry-After ${retryAfter}s`,
      );
    }
  });
  assert.ok(throttled > 0, "the scenario served at least one 429");
  report(t, env, "API faults mixed at random", {
    livenessMs: Math.round(livenessMs),
    apiCalls: alerts.length,
    ...Object.fromEntries(Object.entries(injected).map(([k, v]) => [k, v])),
  });
});
