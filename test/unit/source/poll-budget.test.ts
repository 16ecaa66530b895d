// Issue 16: a poll of the second-look mode reads two windows (the second look, then the fresh one); they
// share one poll.max_requests_per_poll, which starts again when the next poll is planned. Real source,
// simulator.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ForwarderError } from "../../../src/errors.js";
import { silentLogger } from "../../../src/log.js";
import { createMetrics } from "../../../src/metrics/definitions.js";
import { createSimulator } from "../../../src/simulator/index.js";
import { createSource, type PollPlan, type Source } from "../../../src/source/index.js";
import { formatTimestamp, ticksFromMs } from "../../../src/timestamp.js";
import { POLL, tenantFor } from "../../support/source.js";

async function readPlan(source: Source, plan: PollPlan): Promise<number> {
  let n = 0;
  for (const window of plan.windows) for await (const part of source.read(window)) n += part.requests;
  return n;
}

test("issue 16: the second look and the fresh window share one poll.max_requests_per_poll", async (t) => {
  const sim = await createSimulator({ seed: 16 });
  t.after(() => sim.close());
  const now = Date.now();
  sim.generate(20, { from: now - 60_000, to: now - 1 });
  const source = createSource(
    { tenant: tenantFor(sim), poll: { ...POLL, overlap: 30_000, max_requests_per_poll: 2 } },
    { log: silentLogger(), metrics: createMetrics({ defaultMetrics: false }) },
  );
  const high = { fits: () => false };
  const plan = () =>
    source.planPoll(formatTimestamp(ticksFromMs(now - 2_000)), ticksFromMs(now - 45_000), undefined, high);
  const first = plan();
  assert.equal(first.windows.length, 2, "the second look and the fresh window");
  // One request each: together within the budget of 2.
  assert.equal(await readPlan(source, first), 2);
  // Without planning a new poll, a third request is over the budget.
  await assert.rejects(
    readPlan(source, first),
    (err: unknown) => err instanceof ForwarderError && err.code === "E_POLL_TOO_MANY_REQUESTS",
  );
  // The next poll starts with a fresh budget.
  assert.equal(await readPlan(source, plan()), 2);
});
