// The stage of a source's errors is declared where they arise (issue 13, finding 1), not guessed from the
// code's prefix: what the token request raised is stage auth, whatever its code (a token endpoint's 429 is
// E_API_THROTTLED, like the API's), and what the API call raised is stage poll. Real source, simulator.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ForwarderError } from "../../../src/errors.js";
import { silentLogger } from "../../../src/log.js";
import { createMetrics } from "../../../src/metrics/definitions.js";
import { createSimulator, type Simulator } from "../../../src/simulator/index.js";
import { createSource, type Source } from "../../../src/source/index.js";
import { counterValue, POLL, tenantFor } from "../../support/source.js";

const FAST = { baseMs: 1, maxMs: 1, maxAttempts: 4, maxThrottleMs: 1_000 };

async function setup(t: test.TestContext, tenant: Parameters<typeof tenantFor>[1] = {}) {
  const sim: Simulator = await createSimulator({ seed: 7 });
  t.after(() => sim.close());
  sim.generate(3, { from: Date.now() - 60_000, to: Date.now() - 1_000 });
  const metrics = createMetrics({ defaultMetrics: false });
  const source = createSource(
    { tenant: tenantFor(sim, tenant), poll: POLL },
    { log: silentLogger(), metrics, retryPolicy: FAST },
  );
  const errors = (stage: string, code: string) => counterValue(metrics, "mde_errors_total", { stage, code });
  return { sim, source, errors };
}

async function readAll(source: Source): Promise<number> {
  let n = 0;
  for (const window of source.planPoll(undefined, undefined).windows)
    for await (const part of source.read(window)) n += part.detections.length;
  return n;
}

async function failure(source: Source): Promise<ForwarderError> {
  try {
    await readAll(source);
  } catch (err) {
    assert.ok(err instanceof ForwarderError, String(err));
    return err;
  }
  assert.fail("the read should have failed");
}

test("a throttled token request is retried and counted in stage auth, not poll", async (t) => {
  const { sim, source, errors } = await setup(t);
  sim.injectFaults([{ kind: "status", status: 429, retryAfterSeconds: 0 }], "token");
  assert.equal(await readAll(source), 3);
  assert.equal(await errors("auth", "E_API_THROTTLED"), 1);
  assert.equal(await errors("poll", "E_API_THROTTLED"), 0);
});

test("a rejected credential fails the read in stage auth", async (t) => {
  const { source } = await setup(t, { client_secret: "not-the-secret" });
  const error = await failure(source);
  assert.equal(error.code, "E_AUTH_TOKEN");
  assert.equal(source.stageOf?.(error), "auth");
});

test("an API 403 fails the read in stage poll; a 503 retried is counted in stage poll", async (t) => {
  const { sim, source, errors } = await setup(t);
  sim.injectFaults([{ kind: "status", status: 503 }], "alerts");
  assert.equal(await readAll(source), 3);
  assert.equal(await errors("poll", "E_API_SERVER"), 1);
  sim.injectFaults([{ kind: "status", status: 403 }], "alerts");
  const error = await failure(source);
  assert.equal(error.code, "E_API_FORBIDDEN");
  assert.equal(source.stageOf?.(error), "poll");
});
