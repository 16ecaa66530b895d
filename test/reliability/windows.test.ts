// What the API's window semantics can do to a forwarder: far more detections in one window than
// max_per_request, many sharing one LastProcessedTimeUtc, detections that become visible seconds after
// their LastProcessedTimeUtc, and timestamps with 7, 3, 1 and 0 fraction digits in one response.
import assert from "node:assert/strict";
import { test } from "node:test";
import { readState } from "../support/forwarder.js";
import {
  checkLiveness,
  createEnv,
  delay,
  POLL_SECONDS,
  report,
  SOAK,
  stopGracefully,
  waitForConservation,
} from "./harness.js";

test("windows many times max_per_request, shared instants and late-visible detections", async (t) => {
  const maxPerRequest = 50;
  const env = await createEnv(t, { poll: { max_per_request: maxPerRequest, overlap: "1m" } });
  const now = Date.now();
  env.sim.generate(SOAK ? 5_000 : 600, { from: now - 40 * 60_000, to: now - 1_000 });
  // Four instants, each holding more detections than one request may return.
  for (let i = 1; i <= 4; i++)
    env.sim.generate(maxPerRequest * 2 + i, { to: now - i * 7 * 60_000, sameTime: true });
  const stopFeed = env.feed(2, 200);
  const p = env.start();
  await p.waitForLog((l) => l.msg === "Poll finished.", "the first poll");

  // Late arrivals: stamped two seconds ago, visible only in four seconds, by which time the checkpoint
  // has moved past them. Only the overlap brings them in.
  const lateAt = Date.now();
  const late = env.sim.add(
    Array.from({ length: 30 }, (_, i) => ({
      LastProcessedTimeUtc: new Date(lateAt - 2_000 + i).toISOString(),
    })),
    { visibleAt: lateAt + 4_000 },
  );
  await delay(4_000 + 2 * POLL_SECONDS * 1000);
  stopFeed();
  // 50 per request is far below this feed's 1 m overlap, so the forwarder polls in second-look mode: the late
  // ones come with the second look, about `overlap` after their time. Wait two overlaps so load cannot flake it.
  await waitForConservation(env, env.allIds(), 120_000);
  const lateIds = late.map((d) => String(d.FullId));
  assert.equal(env.ledger.missing(lateIds).length, 0, "late-visible detections were caught by the overlap");
  const livenessMs = await checkLiveness(env);
  await stopGracefully(p);
  const alerts = env.sim.requests.filter((r) => r.path.startsWith("/api/alerts"));
  assert.ok(
    alerts.some((r) => r.query.limit === undefined),
    "an instant over the limit was read without limit",
  );
  const r = report(t, env, "windows over max_per_request, shared instants, late visibility", {
    livenessMs: Math.round(livenessMs),
    apiCalls: alerts.length,
  });
  assert.equal(r.duplicated, 0, "no fault, no duplicate");
});

test("timestamps with 7, 3, 1 and 0 fraction digits mixed in one response", async (t) => {
  const env = await createEnv(t, { poll: { overlap: "10m" } });
  const base = new Date(Date.now() - 60_000);
  base.setUTCMilliseconds(0);
  const second = base.toISOString().slice(0, 19); // 2026-11-30T08:00:00
  const stamps = [
    `${second}.5Z`, // the latest: as a raw string "…:00.5Z" sorts BEFORE "…:00Z"
    `${second}Z`,
    `${second}.123Z`,
    `${second}.4999999Z`,
    `${second}.05Z`,
    `${second}.0000001Z`,
  ];
  const mixed = env.sim.add(stamps.map((LastProcessedTimeUtc) => ({ LastProcessedTimeUtc })));
  const p = env.start();
  await waitForConservation(
    env,
    mixed.map((d) => String(d.FullId)),
    30_000,
  );
  // Several more polls re-read them through the overlap: dedupe keeps them single.
  const polls = p.logs.filter((l) => l.msg === "Poll finished.").length;
  await p.waitForLog(
    (l) => l.msg === "Poll finished." && p.logs.filter((x) => x.msg === "Poll finished.").length >= polls + 2,
    "two more polls",
  );
  // The checkpoint is the true latest at full precision, in canonical form: a raw string comparison
  // would have picked "…:00Z" over "…:00.5Z".
  assert.equal(readState(env.dir).checkpoint, `${second}.5000000Z`);
  const livenessMs = await checkLiveness(env);
  await stopGracefully(p);
  const r = report(t, env, "mixed fraction digits", { livenessMs: Math.round(livenessMs) });
  assert.equal(r.duplicated, 0);
});
