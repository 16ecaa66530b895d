// SIGHUP reloads the config (destinations, filters, schedule, log level) without a restart and without
// losing the outbox; a broken new config is refused with a clear log line and the old one keeps running.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createSimulator } from "../../src/simulator/index.js";
import { arrivals, rawConfig, spawnForwarder, writeConfig } from "../support/forwarder.js";
import { startReceiver } from "../support/receiver.js";

test("SIGHUP: a new destination, schedule and log level apply; a broken config is refused; the outbox survives", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "mde-reload-"));
  const sim = await createSimulator({ seed: 41 });
  const a = await startReceiver({ protocol: "tcp" });
  const b = await startReceiver({ protocol: "tcp" });
  t.after(async () => {
    await a.close();
    await b.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const base = rawConfig({ sim, receiverPort: a.port, stateDir: dir, poll: { schedule: "*/1 * * * * *" } });
  const file = writeConfig(dir, base);
  const p = spawnForwarder(["run", "-c", file]);
  t.after(() => p.kill());
  const reloads = () =>
    p.logs.filter((l) => l.msg === "Config reloaded." || l.msg.startsWith("New config rejected"));

  sim.generate(10, { from: Date.now() - 60_000, to: Date.now() - 1_000 });
  await a.waitForMessages(10);

  // Destination a goes down with a backlog waiting for it; then b is added, polls slow down, debug logs on.
  await a.stop();
  sim.generate(15, { from: Date.now() - 2_000, to: Date.now() - 1 });
  await p.waitForLog((l) => l.msg === "Poll finished." && Number(l.new) === 15, "the backlog for a stored");
  writeConfig(dir, {
    ...base,
    poll: { ...(base.poll as object), schedule: "*/2 * * * * *" },
    destinations: [
      ...(base.destinations as object[]),
      { name: "b", format: "leef", protocol: "tcp", host: "127.0.0.1", port: b.port, min_severity: "low" },
    ],
    log: { level: "debug" },
  });
  p.child.kill("SIGHUP");
  const reloaded = await p.waitForLog((l) => l.msg === "Config reloaded.", "the reload");
  assert.deepEqual(reloaded.destinations, ["siem", "b"]);
  assert.equal(reloaded.schedule, "*/2 * * * * *");
  await p.waitForLog((l) => l.level === "debug", "a debug line after the reload");

  // New detections go to both; the backlog stored for a before the reload is delivered when a is back.
  const fresh = sim.add([
    { Severity: "High", AlertTitle: "after reload, high" },
    { Severity: "Informational", AlertTitle: "after reload, informational" },
  ]);
  await b.waitUntil(() => b.messages.some((m) => m.includes("after reload, high")), "b gets the high one");
  await a.start();
  await a.waitUntil(() => arrivals(a.messages).size >= 27, "a gets its backlog and the new ones");
  const atA = arrivals(a.messages);
  for (const d of [...sim.detections]) assert.ok(atA.has(String(d.FullId)), "nothing lost at a");
  assert.ok(!b.messages.some((m) => m.includes("after reload, informational")), "b's min_severity applies");
  assert.ok(fresh.length === 2);

  // A broken config: refused with its problems, the running one carries on.
  writeConfig(dir, { ...base, destinations: [{ name: "Bad Name!", host: "x" }] });
  p.child.kill("SIGHUP");
  const refused = await p.waitForLog((l) => String(l.msg).startsWith("New config rejected"), "the refusal");
  assert.equal(refused.level, "error");
  assert.match(JSON.stringify(refused.issues), /destinations\[0\]\.name/);
  // A config that needs a restart is refused too.
  writeConfig(dir, { ...base, state: { path: join(dir, "elsewhere.db") } });
  p.child.kill("SIGHUP");
  await p.waitForLog(
    (l) =>
      String(l.msg).startsWith("New config rejected") &&
      JSON.stringify(l.issues ?? "").includes("state.path"),
    "state.path refused",
  );
  assert.equal(reloads().length, 3);
  const last = sim.add([{ Severity: "High", AlertTitle: "still running the reloaded config" }]);
  await b.waitUntil(
    () => b.messages.some((m) => m.includes("still running the reloaded config")),
    "b still fed",
  );
  await a.waitUntil(() => arrivals(a.messages).has(String(last[0]?.FullId)), "a still fed");

  p.kill("SIGTERM");
  assert.equal((await p.exit).code, 0);
});
