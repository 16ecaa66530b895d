// Issue 13, finding 5: a reload that removes a tenant and a destination deletes their series from the
// registry (all of them: gauges, histograms, counters with more labels), except the count of the removed
// destination's backlog dropped on the way out, which MdeEventsDropped must see. test/ops/reload-forget
// shows the same through a real Prometheus and the alert rules.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { startDaemon } from "../../src/cli/daemon.js";
import { type Config, configSchema } from "../../src/config/schema.js";
import { silentLogger } from "../../src/log.js";
import type { PollProgress } from "../../src/pipeline/poll.js";
import { createSimulator, DEMO_TENANT } from "../../src/simulator/index.js";
import { rawConfig, spawnForwarder, writeConfig } from "../support/forwarder.js";
import { startReceiver } from "../support/receiver.js";

test("finding 5: a reload deletes every series of a removed tenant and destination; the dropped backlog stays counted", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "mde-reload-forget-"));
  const sim = await createSimulator({ seed: 44 });
  const rx = await startReceiver({ protocol: "tcp" });
  const dead = await startReceiver({ protocol: "tcp" });
  await dead.stop(); // "old" never answers: its outbox keeps what the polls stored for it
  t.after(async () => {
    await rx.close();
    await dead.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });
  sim.generate(3, { from: Date.now() - 60_000, to: Date.now() - 1_000 });
  const base = rawConfig({
    sim,
    receiverPort: rx.port,
    stateDir: dir,
    extraDestinations: [{ name: "old", format: "cef", protocol: "tcp", host: "127.0.0.1", port: dead.port }],
  });
  const tenant = (name: string) => ({
    name,
    tenant_id: DEMO_TENANT.tenantId,
    client_id: DEMO_TENANT.clientId,
    client_secret: DEMO_TENANT.clientSecret,
    api_url: sim.url,
    authority_host: sim.authorityHost,
  });
  const parse = (raw: Record<string, unknown>): Config => configSchema.parse(raw);
  const polled = new Set<string>();
  let bothPolled: () => void = () => {};
  const stored = new Promise<void>((resolve) => {
    bothPolled = resolve;
  });
  const daemon = await startDaemon(parse({ ...base, tenants: [tenant("keep"), tenant("gone")] }), {
    log: silentLogger(),
    confirmAfterMs: 50,
    onProgress: (progress: PollProgress) => {
      polled.add(progress.tenant);
      if (polled.size === 2) bothPolled();
    },
  });
  t.after(() => daemon.stop());
  await stored;
  const { metrics, store } = daemon.forwarder;
  const lines = async (pattern: RegExp) =>
    (await metrics.registry.metrics()).split("\n").filter((line) => pattern.test(line));
  assert.ok((await lines(/tenant="gone"/)).length >= 10, "the removed tenant has series before");
  assert.ok((await lines(/destination="old"/)).length >= 5, "the removed destination has series before");
  const backlog = store.outboxDepths().get("old") ?? 0;
  assert.ok(backlog > 0, "the removed destination has a backlog");

  const next = {
    ...base,
    tenants: [tenant("keep")],
    destinations: (base.destinations as unknown[]).slice(0, 1),
  };
  await daemon.reload(parse(next));

  assert.deepEqual(await lines(/tenant="gone"/), []);
  assert.deepEqual(await lines(/destination="old"/), [
    `mde_events_dropped_total{destination="old",reason="destination_removed"} ${backlog}`,
  ]);
  // What stays configured keeps its series.
  assert.ok((await lines(/tenant="keep"/)).length >= 10);
  assert.ok((await lines(/destination="siem"/)).length >= 5);

  // `status` (beside the running daemon, on the reloaded file) lists what is configured: the removed
  // tenant's checkpoint stays in the state (no state change on reload), but it is not listed.
  assert.ok(store.getCheckpoint("gone") !== undefined);
  const status = spawnForwarder(["status", "--json", "-c", writeConfig(dir, next)]);
  const out: string[] = [];
  status.child.stdout?.on("data", (c: Buffer | string) => out.push(String(c)));
  assert.equal((await status.exit).code, 0, status.stderr.join(""));
  const report = JSON.parse(out.join("")) as {
    tenants: Array<{ tenant: string }>;
    destinations: Array<{ destination: string }>;
  };
  assert.deepEqual(
    report.tenants.map((t) => t.tenant),
    ["keep"],
  );
  assert.deepEqual(
    report.destinations.map((d) => d.destination),
    ["siem"],
  );
});
