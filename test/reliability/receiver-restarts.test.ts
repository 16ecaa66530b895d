// The receiver killed (connections reset, listener gone) and restarted repeatedly while events flow,
// over TCP and over TLS: every detection arrives, duplicates only from what was in flight.
import { test } from "node:test";
import { hasOpenssl } from "../support/tls-certs.js";
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
  until,
  waitForConservation,
} from "./harness.js";

for (const protocol of ["tcp", "tls"] as const) {
  const skip = protocol === "tls" && !hasOpenssl() ? "openssl is not installed" : false;
  test(`receiver killed and restarted repeatedly over ${protocol.toUpperCase()}`, { skip }, async (t) => {
    const random = rng(SEED ^ (protocol === "tcp" ? 0x21 : 0x22));
    const env = await createEnv(t, { protocol, poll: { max_per_request: 500 } });
    const now = Date.now();
    env.sim.generate(SOAK ? 20_000 : 4_000, { from: now - 50 * 60_000, to: now - 1_000 });
    const stopFeed = env.feed(3, 100);
    const p = env.start();
    const restarts = SOAK ? 60 : 10;
    for (let i = 0; i < restarts; i++) {
      const target = env.rx.messages.length + between(random, 50, 400);
      await until(() => env.rx.messages.length >= target, "events flowing", 30_000);
      await env.rx.stop({ abrupt: true });
      env.fault();
      await delay(between(random, 0, 1_500));
      await env.rx.start();
    }
    stopFeed();
    await waitForConservation(env, env.allIds(), 90_000);
    const livenessMs = await checkLiveness(env);
    await stopGracefully(p);
    report(t, env, `receiver restarts (${protocol})`, { livenessMs: Math.round(livenessMs) });
  });
}
