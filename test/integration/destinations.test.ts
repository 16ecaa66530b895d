// Several destinations: each has its own outbox rows and drains on its own, so a dead one never holds up
// another; per-destination selection decides what each one gets.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { startDaemon } from "../../src/cli/daemon.js";
import { configSchema } from "../../src/config/schema.js";
import { silentLogger } from "../../src/log.js";
import { createSimulator } from "../../src/simulator/index.js";
import { parseCef } from "../support/cef-parser.js";
import { arrivals, rawConfig } from "../support/forwarder.js";
import { startReceiver } from "../support/receiver.js";
import { counterValue } from "../support/source.js";

test("a destination down for the whole run never holds up the other", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "mde-dests-"));
  const sim = await createSimulator({ seed: 31 });
  const arcsight = await startReceiver({ protocol: "tcp" });
  const qradar = await startReceiver({ protocol: "tcp" });
  await qradar.stop(); // down from start to end
  sim.generate(300, { from: Date.now() - 30 * 60_000, to: Date.now() - 1_000 });
  const raw = rawConfig({
    sim,
    receiverPort: arcsight.port,
    stateDir: dir,
    poll: { schedule: "*/1 * * * * *" },
    destination: { name: "arcsight" },
    extraDestinations: [
      { name: "qradar", format: "leef", protocol: "tcp", host: "127.0.0.1", port: qradar.port },
    ],
  });
  const daemon = await startDaemon(configSchema.parse({ ...raw, metrics: { host: "127.0.0.1", port: 0 } }), {
    log: silentLogger(),
    confirmAfterMs: 50,
  });
  t.after(async () => {
    await daemon.stop();
    await arcsight.close();
    await qradar.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const started = performance.now();
  await arcsight.waitForMessages(300);
  const firstBatchMs = performance.now() - started;
  // New detections keep flowing to ArcSight while QRadar stays down.
  const fresh = sim.generate(20, { from: Date.now() - 10, to: Date.now() });
  await arcsight.waitUntil(
    () => fresh.every((d) => arrivals(arcsight.messages).has(String(d.FullId))),
    "fresh detections at arcsight",
  );
  assert.equal(arrivals(arcsight.messages).size, 320);
  const depths = daemon.forwarder.store.outboxDepths();
  assert.equal(depths.get("qradar"), 320, "qradar's events wait in its own outbox");
  const { metrics } = daemon.forwarder;
  assert.equal(await counterValue(metrics, "mde_destination_up", { destination: "arcsight" }), 1);
  assert.equal(await counterValue(metrics, "mde_destination_up", { destination: "qradar" }), 0);
  t.diagnostic(`300 detections at arcsight ${Math.round(firstBatchMs)} ms after start with qradar down`);

  // QRadar comes back: its backlog drains, in LEEF.
  await qradar.start();
  await qradar.waitForMessages(320, 30_000);
  assert.ok(qradar.messages.every((m) => m.includes("LEEF:2.0|Microsoft|Microsoft Defender ATP|")));
});

test("per-destination selection: min_severity and include/exclude decide what each gets", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "mde-select-"));
  const sim = await createSimulator({ seed: 32 });
  const all = await startReceiver({ protocol: "tcp" });
  const high = await startReceiver({ protocol: "tcp" });
  sim.add([
    { Severity: "High", Category: "Ransomware", AlertTitle: "h1" },
    { Severity: "High", Category: "UnwantedSoftware", AlertTitle: "h-pua" },
    { Severity: "Medium", Category: "Malware", AlertTitle: "m1" },
    { Severity: "Low", Category: "Malware", AlertTitle: "l1" },
    { Severity: "Whatever", Category: "Malware", AlertTitle: "unknown" },
  ]);
  const raw = rawConfig({
    sim,
    receiverPort: all.port,
    stateDir: dir,
    destination: { name: "everything" },
    extraDestinations: [
      {
        name: "high-only",
        host: "127.0.0.1",
        port: high.port,
        min_severity: "high",
        exclude: { categories: ["unwantedsoftware"] },
      },
    ],
  });
  const daemon = await startDaemon(configSchema.parse(raw), { log: silentLogger(), confirmAfterMs: 50 });
  t.after(async () => {
    await daemon.stop();
    await all.close();
    await high.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await all.waitForMessages(5);
  await high.waitForMessages(2);
  const titles = (messages: string[]) => messages.map((m) => parseCef(m).name).sort();
  assert.deepEqual(titles(all.messages), ["h-pua", "h1", "l1", "m1", "unknown"]);
  assert.deepEqual(titles(high.messages), ["h1", "unknown"]);
  // The filtered three were never queued: at most the two sent ones wait for their acknowledgement.
  assert.ok(
    (daemon.forwarder.store.outboxDepths().get("high-only") ?? 0) <= 2,
    "filtered events never queued",
  );
  const filtered = await counterValue(daemon.forwarder.metrics, "mde_events_filtered_total", {
    destination: "high-only",
  });
  assert.equal(filtered, 3);
});

test("UDP: messages over 2048 bytes are cut to fit; one that cannot fit is dropped and counted", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "mde-udp-"));
  const sim = await createSimulator({ seed: 33 });
  const rx = await startReceiver({ protocol: "udp" });
  const [long] = sim.add([
    { AlertTitle: "long command line", CommandLine: `cmd.exe /c ${"x".repeat(6_000)}` },
  ]);
  sim.add([{ AlertTitle: "fits as it is" }]);
  // A 512-byte Name is never cut to fit: with a 256-byte limit this one can never be sent.
  sim.add([{ AlertTitle: "T".repeat(600) }]);
  const raw = rawConfig({
    sim,
    receiverPort: rx.port,
    stateDir: dir,
    protocol: "udp",
    destination: { name: "udp", max_message_bytes: 2048 },
    extraDestinations: [
      {
        name: "tiny",
        protocol: "udp",
        host: "127.0.0.1",
        port: rx.port,
        max_message_bytes: 256,
        format: "json",
      },
    ],
  });
  const config = configSchema.parse(raw);
  const udpDefault = configSchema.parse({
    ...raw,
    destinations: [{ name: "d", protocol: "udp", host: "h" }],
  });
  assert.equal(udpDefault.destinations[0]?.max_message_bytes, 2048, "UDP defaults to 2048 bytes");
  const daemon = await startDaemon(config, { log: silentLogger(), confirmAfterMs: 50 });
  t.after(async () => {
    await daemon.stop();
    await rx.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await rx.waitUntil(
    () => rx.messages.filter((m) => m.includes("CEF:0|")).length >= 3,
    "three CEF datagrams",
  );
  // Dropped events are acknowledged at once, sent ones after the confirmation delay: wait for an empty outbox.
  while ((daemon.forwarder.store.outboxDepths().get("tiny") ?? 0) > 0)
    await new Promise((r) => setTimeout(r, 20));
  const cefs = rx.messages.filter((m) => m.includes("CEF:0|"));
  assert.equal(cefs.length, 3, "all three fit 2048 bytes once cut");
  for (const m of cefs) assert.ok(Buffer.byteLength(m) <= 2048);
  const cut = cefs.find((m) => m.includes("long command line")) ?? "";
  assert.equal(parseCef(cut).extension.get("cs3"), long?.FullId, "FullId kept whole");
  const { metrics } = daemon.forwarder;
  assert.ok((await counterValue(metrics, "mde_fields_truncated_total", { destination: "udp" })) >= 1);
  // The JSON destination at 256 bytes: every detection has more than 256 bytes of fields that may not be cut.
  const dropped = await counterValue(metrics, "mde_events_dropped_total", {
    destination: "tiny",
    reason: "too_large",
  });
  const jsons = rx.messages.filter((m) => m.includes("{"));
  assert.equal(dropped + jsons.length, 3, "each event either sent within the limit or counted as dropped");
  assert.ok(dropped >= 1);
  for (const m of jsons) assert.ok(Buffer.byteLength(m) <= 256);
});
