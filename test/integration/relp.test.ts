// RELP end to end (simulator, real SQLite, the drain) against the small RELP server of test/support: an
// outbox row leaves only on its rsp 200, a lost connection resends exactly what was unanswered, a refusal
// (rsp 500) is retried and counted, never dropped; and the CLI: send-test says the receiver acknowledged,
// status shows a refusal with the receiver's words.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { buildForwarder } from "../../src/cli/daemon.js";
import { silentLogger } from "../../src/log.js";
import { createSimulator, type Simulator } from "../../src/simulator/index.js";
import {
  arrivals,
  config,
  fullIds,
  rawConfig,
  readState,
  spawnForwarder,
  writeConfig,
} from "../support/forwarder.js";
import { type RelpServer, startRelpServer } from "../support/relp-server.js";
import { counterValue } from "../support/source.js";

const WINDOW = 32;

async function setup(t: test.TestContext, seed: number) {
  const dir = mkdtempSync(join(tmpdir(), "mde-relp-"));
  const sim = await createSimulator({ seed });
  const relp = await startRelpServer();
  t.after(async () => {
    await relp.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, sim, relp };
}

function forwarderFor(t: test.TestContext, sim: Simulator, relp: RelpServer, dir: string) {
  const cfg = config({
    sim,
    receiverPort: relp.port,
    stateDir: dir,
    protocol: "relp",
    destination: { window_size: WINDOW },
  });
  const forwarder = buildForwarder(cfg, { log: silentLogger() });
  t.after(() => forwarder.close());
  return forwarder;
}

test("connections lost with a full window unanswered: every detection arrives, the duplicates are those unanswered, each is counted sent once", async (t) => {
  const { dir, sim, relp } = await setup(t, 41);
  const detections = sim.generate(1_000, { from: Date.now() - 30 * 60_000, to: Date.now() - 1_000 });
  const forwarder = forwarderFor(t, sim, relp, dir);
  await forwarder.pipeline.pollOnce();
  const drained = forwarder.pipeline.drainUntilEmpty(Number.POSITIVE_INFINITY);
  for (const at of [200, 500, 800]) {
    // Stop answering at `at`: the forwarder fills its window and waits; then the connection dies.
    relp.answerLimit = at;
    await relp.waitUntil(() => relp.unanswered === WINDOW, `a full window unanswered after ${at}`);
    relp.killConnections();
    relp.release();
  }
  assert.equal(await drained, true);
  const counts = arrivals(relp.messages);
  for (const d of detections) assert.ok(counts.has(String(d.FullId)), `${d.FullId} arrived`);
  const duplicates = relp.messages.length - detections.length;
  assert.equal(duplicates, 3 * WINDOW, "exactly the unanswered window was sent again, at each loss");
  assert.equal(relp.opens, 4, "a new session after each loss");
  assert.deepEqual(relp.violations, []);
  // The acknowledged rows left the outbox as their answers came, the failed sends included.
  assert.equal(
    await counterValue(forwarder.metrics, "mde_events_sent_total", { destination: "siem" }),
    1_000,
  );
  assert.equal(readState(dir).outbox.get("siem") ?? 0, 0);
});

test("rsp 500 for one detection: kept, sent again after the backoff until accepted, each refusal counted, nothing dropped", async (t) => {
  const { dir, sim, relp } = await setup(t, 42);
  const detections = sim.generate(50, { from: Date.now() - 30 * 60_000, to: Date.now() - 1_000 });
  const target = String(detections[17]?.FullId);
  let refusals = 0;
  relp.answerWith = (m) => (fullIds([m])[0] === target && ++refusals <= 2 ? "500 queue full" : "200 OK");
  const forwarder = forwarderFor(t, sim, relp, dir);
  await forwarder.pipeline.pollOnce();
  assert.equal(await forwarder.pipeline.drainUntilEmpty(Number.POSITIVE_INFINITY), true);
  assert.equal(refusals, 3, "refused twice, accepted the third time");
  const counts = arrivals(relp.messages);
  assert.equal(counts.get(target), 3);
  // The others were acknowledged the first time, even those sent with the refused one.
  assert.equal(relp.messages.length, 52);
  const { metrics } = forwarder;
  assert.equal(
    await counterValue(metrics, "mde_errors_total", { stage: "send", code: "E_SINK_REJECTED" }),
    2,
  );
  assert.equal(await counterValue(metrics, "mde_events_sent_total", { destination: "siem" }), 50);
  assert.equal(
    await counterValue(metrics, "mde_events_dropped_total", { destination: "siem", reason: "too_large" }),
    0,
  );
  assert.equal(
    await counterValue(metrics, "mde_destination_up", { destination: "siem" }),
    1,
    "a refusal is an answer",
  );
});

async function run(args: string[]) {
  const proc = spawnForwarder(args);
  const chunks: string[] = [];
  proc.child.stdout?.on("data", (c: Buffer | string) => chunks.push(String(c)));
  const { code } = await proc.exit;
  return { code, stdout: chunks.join(""), stderr: proc.stderr.join("") };
}

test("send-test over RELP says the receiver acknowledged; status shows a refusal in the receiver's words", async (t) => {
  const { dir, sim, relp } = await setup(t, 43);
  const raw = rawConfig({ sim, receiverPort: relp.port, stateDir: dir, protocol: "relp" });
  const file = writeConfig(dir, raw);
  const sent = await run(["send-test", "-c", file]);
  assert.equal(sent.code, 0, sent.stderr);
  assert.match(
    sent.stdout,
    /^sent to siem \(relp:\/\/127\.0\.0\.1:\d+\), acknowledged by the receiver \(rsp 200\), \d+ bytes:$/m,
  );
  assert.equal(relp.messages.length, 1);
  assert.ok(sent.stdout.includes(relp.messages[0] ?? "?"), "what was printed is what was acknowledged");
  assert.equal(relp.closes, 1, "the session was closed politely");

  sim.generate(5, { from: Date.now() - 60_000, to: Date.now() - 1_000 });
  relp.answerWith = () => "500 disk full\u001b[2J";
  const once = await run(["once", "-c", file]);
  assert.equal(once.code, 1, "not everything was delivered");
  const status = await run(["status", "-c", file, "--json"]);
  const json = JSON.parse(status.stdout) as {
    destinations: Array<{ outbox: number; lastErrorCode?: string; lastError?: string }>;
  };
  assert.equal(json.destinations[0]?.outbox, 5, "the refused events stay in the outbox");
  assert.equal(json.destinations[0]?.lastErrorCode, "E_SINK_REJECTED");
  assert.match(json.destinations[0]?.lastError ?? "", /refused 5 of 5 messages: 500 disk full\?\[2J$/);
  const table = await run(["status", "-c", file]);
  assert.match(
    table.stdout,
    /siem\s+5\s+.*E_SINK_REJECTED .*: 127\.0\.0\.1:\d+ refused 5 of 5 messages: 500 disk full/,
  );
  assert.ok(!table.stdout.includes("\u001b"), "no control character from the receiver reaches the terminal");
});
