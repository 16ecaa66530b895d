// End to end in one process: the simulator over HTTP, a real SQLite file, a real TCP receiver.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { buildForwarder } from "../../src/cli/daemon.js";
import { silentLogger } from "../../src/log.js";
import { createSimulator } from "../../src/simulator/index.js";
import { arrivals, config } from "../support/forwarder.js";
import { startReceiver } from "../support/receiver.js";
import { counterValue } from "../support/source.js";

async function setup(
  t: import("node:test").TestContext,
  options: { maxPerRequest?: number; overlap?: string; confirmAfterMs?: number } = {},
) {
  const dir = mkdtempSync(join(tmpdir(), "mde-e2e-"));
  const sim = await createSimulator({ seed: 7 });
  const rx = await startReceiver({ protocol: "tcp" });
  const cfg = config({
    sim,
    receiverPort: rx.port,
    stateDir: dir,
    poll: { max_per_request: options.maxPerRequest ?? 5000, overlap: options.overlap ?? "5m" },
  });
  const forwarder = buildForwarder(cfg, {
    log: silentLogger(),
    confirmAfterMs: options.confirmAfterMs ?? 50,
  });
  t.after(async () => {
    await forwarder.close();
    await rx.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const cycle = async () => {
    const polls = await forwarder.pipeline.pollOnce();
    assert.equal(await forwarder.pipeline.drainUntilEmpty(1), true, "outbox drained");
    return polls[0]?.result;
  };
  return { sim, rx, forwarder, cycle };
}

test("every detection is delivered exactly once across several polls with overlap", async (t) => {
  const { sim, rx, forwarder, cycle } = await setup(t, { overlap: "1h" });
  const now = Date.now();
  sim.generate(30, { from: now - 30 * 60_000, to: now - 1_000 });
  for (let round = 0; round < 4; round++) {
    const result = await cycle();
    assert.equal(result?.status, "ok");
    sim.generate(10, { from: Date.now() - 5_000, to: Date.now() - 1 });
  }
  await cycle();
  const counts = arrivals(rx.messages);
  assert.equal(counts.size, sim.detections.length, "every detection arrived");
  for (const d of sim.detections) assert.equal(counts.get(String(d.FullId)), 1, `${d.FullId} exactly once`);
  // The 1 h overlap re-read everything each poll: the dedupe table dropped those re-reads.
  const dups = await counterValue(forwarder.metrics, "mde_detections_duplicate_total", { tenant: "demo" });
  assert.ok(dups >= 30 * 4, `duplicates dropped: ${dups}`);
  const sent = await counterValue(forwarder.metrics, "mde_events_sent_total", { destination: "siem" });
  assert.equal(sent, sim.detections.length);
});

test("a window with 5x max_per_request detections, many sharing one instant, is fully delivered", async (t) => {
  const { sim, rx, cycle } = await setup(t, { maxPerRequest: 20 });
  const now = Date.now();
  sim.generate(70, { from: now - 50 * 60_000, to: now - 1_000 });
  // 30 detections with the same LastProcessedTimeUtc: more than one request may hold.
  sim.generate(30, { to: now - 20 * 60_000, sameTime: true });
  const result = await cycle();
  assert.equal(result?.status, "ok");
  const counts = arrivals(rx.messages);
  assert.equal(counts.size, 100);
  for (const d of sim.detections) assert.equal(counts.get(String(d.FullId)), 1);
  const alerts = sim.requests.filter((r) => r.path === "/api/alerts");
  assert.ok(alerts.length > 5, `the window was split (${alerts.length} requests)`);
  assert.ok(
    alerts.some((r) => r.query.limit === undefined),
    "the instant holding more than the limit was read without limit",
  );
});

test("an expired token is refreshed without a failed poll", async (t) => {
  const { sim, rx, forwarder, cycle } = await setup(t);
  sim.generate(5, { from: Date.now() - 60_000, to: Date.now() - 1_000 });
  assert.equal((await cycle())?.status, "ok");
  sim.expireTokens();
  sim.generate(5, { from: Date.now() - 2_000, to: Date.now() - 1 });
  assert.equal((await cycle())?.status, "ok");
  assert.equal(sim.tokensIssued, 2);
  assert.equal(
    await counterValue(forwarder.metrics, "mde_api_requests_total", { tenant: "demo", status: "401" }),
    1,
  );
  assert.equal(arrivals(rx.messages).size, 10);
});

test("a failed API call moves nothing: the next poll reads the same window again", async (t) => {
  const { sim, rx, forwarder, cycle } = await setup(t);
  sim.generate(8, { from: Date.now() - 60_000, to: Date.now() - 1_000 });
  // More faults than the retry policy's attempts: the poll fails.
  sim.injectFaults([{ kind: "html" }, { kind: "cut" }, { kind: "status", status: 500 }, { kind: "html" }]);
  const failed = await forwarder.pipeline.pollOnce();
  assert.equal(failed[0]?.result.status, "failed");
  assert.equal(forwarder.store.getCheckpoint("demo"), undefined);
  assert.equal(forwarder.store.maxOutboxDepth(), 0);
  assert.equal((await cycle())?.status, "ok");
  assert.equal(arrivals(rx.messages).size, 8);
});

test("a receiver that restarts mid-stream loses nothing", async (t) => {
  // The default confirmation delay: the receiver shares this process's event loop, so under CPU load it
  // may leave bytes unread in its socket buffer for a while, as a busy real receiver would.
  const { sim, rx, forwarder } = await setup(t, { confirmAfterMs: 1_000 });
  sim.generate(3000, { from: Date.now() - 60 * 60_000, to: Date.now() - 1_000 });
  const polls = await forwarder.pipeline.pollOnce();
  assert.equal(polls[0]?.result.status, "ok");
  const draining = forwarder.pipeline.drainUntilEmpty(50);
  await rx.waitForMessages(500);
  await rx.stop({ abrupt: true });
  await rx.start();
  assert.equal(await draining, true);
  const counts = arrivals(rx.messages);
  const missing = sim.detections.map((d) => String(d.FullId)).filter((id) => !counts.has(id));
  assert.equal(
    missing.length,
    0,
    `conservation: ${missing.length} missing, e.g. ${missing.slice(0, 3).join(", ")}`,
  );
  const duplicates = [...counts.values()].reduce((n, c) => n + c - 1, 0);
  t.diagnostic(`3000 detections, ${duplicates} duplicates around the restart`);
});

test("detections without FullId or with an unparseable time are forwarded once and counted as malformed", async (t) => {
  const { sim, rx, forwarder, cycle } = await setup(t);
  sim.generate(3, { from: Date.now() - 60_000, to: Date.now() - 1_000 });
  sim.add([
    { FullId: undefined, AlertTitle: "no FullId" },
    { LastProcessedTimeUtc: "yesterday-ish", AlertTitle: "bad time" },
  ]);
  assert.equal((await cycle())?.status, "ok");
  assert.equal((await cycle())?.status, "ok", "a second poll re-reads them");
  const titles = rx.messages.map((m) => /\|([^|]*)\|\d+\|/.exec(m)?.[1]);
  assert.equal(titles.filter((x) => x === "no FullId").length, 1, "deduped on a content hash");
  assert.equal(titles.filter((x) => x === "bad time").length, 1);
  assert.equal(rx.messages.length, 5);
  assert.equal(
    await counterValue(forwarder.metrics, "mde_detections_malformed_total", { tenant: "demo" }),
    4,
  );
  // An unparseable time never moves the checkpoint.
  const newest = sim.detections
    .map((d) => String(d.LastProcessedTimeUtc))
    .filter((x) => /Z$/.test(x))
    .sort()
    .at(-1);
  assert.equal(forwarder.store.getCheckpoint("demo"), newest);
});
