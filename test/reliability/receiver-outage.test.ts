// The receiver down for many polls while detections keep coming: the outbox grows and
// mde_outbox_events shows it; above state.max_outbox polling pauses (nothing dropped, the API keeps
// the detections); after recovery everything drains.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  checkLiveness,
  createEnv,
  delay,
  POLL_SECONDS,
  report,
  SOAK,
  stopGracefully,
  until,
  waitForConservation,
} from "./harness.js";

async function outboxGauge(url: string): Promise<number> {
  const body = await (await fetch(`${url}/metrics`)).text();
  const m = /^mde_outbox_events\{destination="siem"\} (\d+)$/m.exec(body);
  return m ? Number(m[1]) : Number.NaN;
}

test("receiver down for many polls: the outbox grows, polling pauses at max_outbox, all drains after", async (t) => {
  const maxOutbox = 400;
  const maxPerRequest = 100;
  const env = await createEnv(t, {
    metrics: true,
    state: { max_outbox: maxOutbox },
    poll: { max_per_request: maxPerRequest },
  });
  await env.rx.stop();
  const now = Date.now();
  env.sim.generate(1_500, { from: now - 50 * 60_000, to: now - 1_000 });
  const stopFeed = env.feed(3, 200);
  const p = env.start();
  const listening = await p.waitForLog((l) => l.msg === "Metrics server listening.", "metrics server");
  const url = String(listening.url);

  const samples: number[] = [];
  const outageMs = (SOAK ? 60 : 12) * 1000;
  const until_ = performance.now() + outageMs;
  while (performance.now() < until_) {
    samples.push(await outboxGauge(url));
    await delay(250);
  }
  const peak = Math.max(...samples);
  assert.ok(
    samples.some((v) => v > 0),
    "mde_outbox_events shows the backlog",
  );
  assert.ok(peak >= maxOutbox, `the outbox reached max_outbox (peak ${peak})`);
  // Polling stops between parts of a window, so the limit is exceeded by at most one part.
  assert.ok(
    peak <= maxOutbox + maxPerRequest,
    `the outbox stayed within max_outbox + one part (peak ${peak})`,
  );
  assert.ok(
    p.logs.some((l) => String(l.msg).startsWith("Outbox over state.max_outbox; polling paused")),
    "the pause is logged",
  );
  assert.ok(
    !p.logs.some((l) => l.msg === "Events too large for the destination were dropped."),
    "nothing dropped",
  );

  await env.rx.start();
  env.fault(); // the forwarder saw its connection attempts fail; nothing in flight, but mark the moment
  stopFeed();
  await waitForConservation(env, env.allIds(), 60_000);
  await until(
    () => p.logs.some((l) => String(l.msg).startsWith("Outbox below its limit")),
    "polling resumed",
  );
  const livenessMs = await checkLiveness(env);
  // Delivered events are acknowledged once their sends are confirmed, a moment after they arrived.
  let depth = await outboxGauge(url);
  for (let i = 0; i < 100 && depth !== 0; i++) {
    await delay(100);
    depth = await outboxGauge(url);
  }
  assert.equal(depth, 0, "the outbox drained");
  await stopGracefully(p);
  report(t, env, "receiver down for many polls", {
    livenessMs: Math.round(livenessMs),
    peakOutbox: peak,
    outageSeconds: outageMs / 1000,
    polls: Math.round(outageMs / 1000 / POLL_SECONDS),
  });
});
