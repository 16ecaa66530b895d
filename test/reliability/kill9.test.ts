// kill -9 of the forwarder at random instants (during a poll, during ingest, during a send), many times
// in a row, restarting each time: nothing is lost, duplicates only from sends in flight at a kill.
import { test } from "node:test";
import {
  between,
  checkLiveness,
  createEnv,
  report,
  rng,
  SEED,
  SOAK,
  stopGracefully,
  until,
  waitForConservation,
} from "./harness.js";

test("kill -9 at random instants, 20 times in a row: nothing lost", async (t) => {
  const random = rng(SEED ^ 0x9);
  const env = await createEnv(t, { poll: { max_per_request: 200 } });
  const now = Date.now();
  env.sim.generate(SOAK ? 20_000 : 3_000, { from: now - 50 * 60_000, to: now - 1_000 });
  const stopFeed = env.feed(2, 100);
  const kills = SOAK ? 100 : 20;
  const phases = { poll: 0, ingest: 0, send: 0, random: 0 };
  for (let i = 0; i < kills; i++) {
    const p = env.start();
    const phase = (["poll", "ingest", "send", "random"] as const)[between(random, 0, 4)] ?? "random";
    phases[phase]++;
    const requests = env.sim.requests.length;
    const messages = env.rx.messages.length;
    try {
      if (phase === "poll") {
        // A request reached the API: the poll is in flight.
        await until(() => env.sim.requests.length > requests, "an API request");
      } else if (phase === "ingest") {
        // A response with detections went out: the forwarder is parsing and storing it.
        await until(
          () => env.sim.requests.slice(requests).some((r) => r.count > 0),
          "a response with detections",
        );
        await new Promise((resolve) => setTimeout(resolve, between(random, 0, 40)));
      } else if (phase === "send") {
        await until(() => env.rx.messages.length > messages, "a message at the receiver");
      } else {
        await new Promise((resolve) => setTimeout(resolve, between(random, 300, 2_500)));
      }
    } catch {
      // The awaited moment did not come (nothing left to poll or send): kill anyway.
    }
    p.kill("SIGKILL");
    await p.exit;
    env.fault();
  }
  stopFeed();
  const final = env.start();
  await waitForConservation(env, env.allIds(), 120_000);
  const livenessMs = await checkLiveness(env);
  await stopGracefully(final);
  report(t, env, "kill -9 at random instants", { livenessMs: Math.round(livenessMs), ...phases });
});
