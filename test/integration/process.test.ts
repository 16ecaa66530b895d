// The real forwarder process: kill -9 between ingest and send, and a graceful SIGTERM.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createSimulator } from "../../src/simulator/index.js";
import { arrivals, rawConfig, readState, spawnForwarder, writeConfig } from "../support/forwarder.js";
import { startReceiver } from "../support/receiver.js";

test("kill -9 between ingest and send, then restart: nothing is lost", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "mde-kill-"));
  const sim = await createSimulator({ seed: 11 });
  const rx = await startReceiver({ protocol: "tcp" });
  await rx.stop(); // the SIEM is down: detections are ingested but cannot be sent
  t.after(async () => {
    await rx.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });
  sim.generate(200, { from: Date.now() - 30 * 60_000, to: Date.now() - 1_000 });
  const file = writeConfig(dir, rawConfig({ sim, receiverPort: rx.port, stateDir: dir }));

  const first = spawnForwarder(["run", "-c", file]);
  t.after(() => first.kill());
  await first.waitForLog((l) => l.msg === "Poll finished.", "first poll");
  first.kill("SIGKILL");
  assert.equal((await first.exit).signal, "SIGKILL");

  // What the killed process left: all 200 in the outbox, the checkpoint moved with them.
  const state = readState(dir);
  assert.equal(state.outbox.get("siem"), 200);
  assert.ok(state.checkpoint);

  await rx.start();
  const second = spawnForwarder(["once", "-c", file]);
  t.after(() => second.kill());
  assert.equal((await second.exit).code, 0, second.stderr.join(""));
  const counts = arrivals(rx.messages);
  assert.equal(counts.size, 200);
  for (const d of sim.detections) assert.equal(counts.get(String(d.FullId)), 1, "delivered exactly once");
});

test("SIGTERM stops the daemon gracefully: exit 0, the send in flight acknowledged", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "mde-term-"));
  const sim = await createSimulator({ seed: 12 });
  const rx = await startReceiver({ protocol: "tcp" });
  t.after(async () => {
    await rx.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });
  sim.generate(50, { from: Date.now() - 30 * 60_000, to: Date.now() - 1_000 });
  const file = writeConfig(dir, rawConfig({ sim, receiverPort: rx.port, stateDir: dir }));
  const proc = spawnForwarder(["run", "-c", file]);
  t.after(() => proc.kill());
  await proc.waitForLog((l) => l.msg === "Poll finished.", "first poll");
  await rx.waitForMessages(1);
  const started = Date.now();
  proc.kill("SIGTERM");
  const { code } = await proc.exit;
  assert.equal(code, 0, proc.stderr.join(""));
  assert.ok(Date.now() - started < 10_000, "stopped within 10 s");
  assert.ok(proc.logs.some((l) => l.msg === "Stopped."));
  // Whatever was acknowledged is gone from the outbox; whatever is left will be sent on restart.
  const left = readState(dir).outbox.get("siem") ?? 0;
  assert.ok(arrivals(rx.messages).size + left >= 50, "received + still queued covers everything");
});
