// The metrics contract (the README's metric table), scraped from a running daemon.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { startDaemon } from "../../src/cli/daemon.js";
import { configSchema } from "../../src/config/schema.js";
import { silentLogger } from "../../src/log.js";
import { createSimulator } from "../../src/simulator/index.js";
import { rawConfig } from "../support/forwarder.js";
import { startReceiver } from "../support/receiver.js";

const CONTRACT: Array<[string, string, string[]]> = [
  ["mde_detections_received_total", "counter", ["tenant"]],
  ["mde_detections_duplicate_total", "counter", ["tenant"]],
  ["mde_detections_malformed_total", "counter", ["tenant"]],
  ["mde_events_sent_total", "counter", ["destination"]],
  ["mde_events_dropped_total", "counter", ["destination", "reason"]],
  ["mde_errors_total", "counter", ["stage", "code"]],
  ["mde_api_requests_total", "counter", ["tenant", "status"]],
  ["mde_api_request_duration_seconds", "histogram", ["tenant"]],
  ["mde_token_requests_total", "counter", ["tenant", "outcome"]],
  ["mde_poll_duration_seconds", "histogram", ["tenant"]],
  ["mde_outbox_events", "gauge", ["destination"]],
  ["mde_checkpoint_timestamp_seconds", "gauge", ["tenant"]],
  ["mde_last_successful_poll_timestamp_seconds", "gauge", ["tenant"]],
  ["mde_destination_up", "gauge", ["destination"]],
];

test("/metrics, /healthz and /readyz of a running daemon", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "mde-metrics-"));
  const sim = await createSimulator({ seed: 5 });
  const rx = await startReceiver({ protocol: "tcp" });
  sim.generate(10, { from: Date.now() - 60_000, to: Date.now() - 1_000 });
  const raw = rawConfig({ sim, receiverPort: rx.port, stateDir: dir });
  const config = configSchema.parse({ ...raw, metrics: { host: "127.0.0.1", port: 0 } });
  const daemon = await startDaemon(config, { log: silentLogger(), confirmAfterMs: 50 });
  t.after(async () => {
    await daemon.stop();
    await rx.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const base = daemon.metricsServer?.url ?? "";
  await rx.waitForMessages(10);

  const health = await fetch(`${base}/healthz`);
  assert.equal(health.status, 200);
  await health.text();

  // Ready once the first poll succeeded (the daemon polls at start).
  let ready = await fetch(`${base}/readyz`);
  for (let i = 0; i < 50 && ready.status !== 200; i++) {
    await ready.text();
    await new Promise((r) => setTimeout(r, 100));
    ready = await fetch(`${base}/readyz`);
  }
  assert.equal(ready.status, 200);
  assert.deepEqual(await ready.json(), { ready: true, reasons: [] });

  // Sends are acknowledged after the confirmation delay; wait for the counter rather than guess.
  let body = "";
  for (let i = 0; i < 50; i++) {
    const res = await fetch(`${base}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/plain/);
    body = await res.text();
    if (/mde_events_sent_total\{destination="siem"\} 10/.test(body)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const [name, type] of CONTRACT) {
    assert.match(body, new RegExp(`^# TYPE ${name} ${type}$`, "m"), `${name} is a ${type}`);
  }
  assert.match(body, /^mde_detections_received_total\{tenant="demo"\} 10$/m);
  assert.match(body, /^mde_events_sent_total\{destination="siem"\} 10$/m);
  assert.match(body, /^mde_outbox_events\{destination="siem"\} 0$/m);
  assert.match(body, /^mde_destination_up\{destination="siem"\} 1$/m);
  assert.match(body, /^mde_api_requests_total\{tenant="demo",status="200"\} 1$/m);
  assert.match(body, /^mde_token_requests_total\{tenant="demo",outcome="success"\} 1$/m);
  assert.match(body, /^mde_checkpoint_timestamp_seconds\{tenant="demo"\} \d+\.\d+$/m);
  assert.match(body, /^process_resident_memory_bytes \d+/m, "default process metrics");
  assert.ok(!body.includes("demo-secret"), "no secret in metrics");
  assert.equal(
    await fetch(`${base}/nope`).then(async (r) => {
      await r.text();
      return r.status;
    }),
    404,
  );
});
