// SIGTERM in the middle of a large backlog: the forwarder stops within 10 s with exit 0, having
// acknowledged what it sent; after a restart nothing is lost and nothing is sent twice.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  checkLiveness,
  createEnv,
  report,
  SOAK,
  stopGracefully,
  until,
  waitForConservation,
} from "./harness.js";

test("SIGTERM under load: exit 0 within 10 s, nothing lost after restart", async (t) => {
  const env = await createEnv(t, { poll: { max_per_request: 1_000 } });
  env.sim.generate(SOAK ? 50_000 : 8_000, { from: Date.now() - 50 * 60_000, to: Date.now() - 1_000 });
  const stopFeed = env.feed(5, 100);
  const rounds = SOAK ? 10 : 2;
  const stops: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const p = env.start();
    const target = env.rx.messages.length + 500;
    await until(() => env.rx.messages.length >= target, "events flowing", 30_000);
    stops.push(Math.round(await stopGracefully(p)));
  }
  stopFeed();
  const final = env.start();
  await waitForConservation(env, env.allIds(), 90_000);
  const livenessMs = await checkLiveness(env);
  stops.push(Math.round(await stopGracefully(final)));
  const r = report(t, env, "SIGTERM under load", {
    livenessMs: Math.round(livenessMs),
    slowestStopMs: Math.max(...stops),
  });
  // A graceful stop confirms and acknowledges every send in flight: no fault, so no duplicate.
  assert.equal(r.duplicated, 0);
});
