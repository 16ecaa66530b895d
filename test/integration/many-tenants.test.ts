// A managed security provider's forwarder: 50 tenants on the three sources, a concurrency limit across
// them, one tenant with rejected credentials. Its failure delays no one; /readyz and the state's status
// name it, and only it.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { startDaemon } from "../../src/cli/daemon.js";
import { configSchema } from "../../src/config/schema.js";
import { silentLogger } from "../../src/log.js";
import { createSimulator, type SimTenant } from "../../src/simulator/index.js";
import { parseCef } from "../support/cef-parser.js";
import { startReceiver } from "../support/receiver.js";

const TENANTS = 50;

test("50 tenants: all delivered with a concurrency limit of 4; one bad tenant delays no one and is the only one reported", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "mde-msp-"));
  const simTenants: SimTenant[] = Array.from({ length: TENANTS }, (_, i) => ({
    tenantId: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
    clientId: `client-${i}`,
    clientSecret: `secret-${i}`,
  }));
  const sim = await createSimulator({ seed: 61, tenants: simTenants });
  const rx = await startReceiver({ protocol: "tcp" });
  t.after(async () => {
    await rx.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const sources = ["siem", "alerts", "graph"] as const;
  const now = Date.now();
  const expected = new Set<string>();
  simTenants.forEach((tenant, i) => {
    const source = sources[i % 3] ?? "siem";
    if (i === 7) return; // the bad tenant: nothing will be read from it
    if (source === "siem") {
      for (const d of sim.generate(3, { tenantId: tenant.tenantId, from: now - 60_000, to: now - 1_000 })) {
        expected.add(String(d.FullId));
      }
    } else {
      sim.addAlerts(3, { tenantId: tenant.tenantId, from: now - 60_000, to: now - 1_000 });
    }
  });
  const alertCount = sim.alerts.length;
  const config = configSchema.parse({
    tenants: simTenants.map((tenant, i) => {
      const source = sources[i % 3] ?? "siem";
      return {
        name: `t${String(i).padStart(2, "0")}`,
        source,
        tenant_id: tenant.tenantId,
        client_id: tenant.clientId,
        client_secret: i === 7 ? "wrong-secret" : tenant.clientSecret,
        api_url: source === "siem" ? sim.url : source === "alerts" ? sim.alertsApiUrl : sim.graphUrl,
        authority_host: sim.authorityHost,
      };
    }),
    poll: { schedule: "0 0 1 1 *", max_concurrent_requests: 4 },
    state: { path: join(dir, "state.db") },
    destinations: [{ name: "siem", host: "127.0.0.1", port: rx.port }],
    metrics: { host: "127.0.0.1", port: 0 },
    log: { level: "silent" },
  });
  const daemon = await startDaemon(config, { log: silentLogger(), confirmAfterMs: 20 });
  t.after(() => daemon.stop());

  const total = expected.size + alertCount;
  await rx.waitForMessages(total, 60_000);
  const ids = rx.messages.map((m) => parseCef(m).extension.get("cs3") ?? "");
  assert.equal(new Set(ids).size, total, "every detection and alert of the 49 good tenants, once");
  for (const id of expected) assert.ok(ids.includes(id));

  // The bad tenant is reported, by name and code, and it is the only one.
  const url = daemon.metricsServer?.url ?? "";
  let ready = await (await fetch(`${url}/readyz`)).json();
  for (let i = 0; i < 100 && (ready as { reasons: string[] }).reasons.length !== 1; i++) {
    await new Promise((r) => setTimeout(r, 50));
    ready = await (await fetch(`${url}/readyz`)).json();
  }
  assert.deepEqual(ready, { ready: false, reasons: ["tenant t07: last poll failed (E_AUTH_TOKEN)"] });
  const status = daemon.forwarder.store.status();
  const failing = status.tenants.filter((s) => s.lastErrorCode !== undefined);
  assert.deepEqual(
    failing.map((s) => [s.tenant, s.lastErrorCode]),
    [["t07", "E_AUTH_TOKEN"]],
  );
  assert.equal(status.tenants.filter((s) => s.lastSuccessAt !== undefined).length, TENANTS - 1);
});
