// The newer sources end to end through the simulator: the Defender Alerts API and Graph alerts_v2 deliver
// every alert and every update, with no duplicate across polls and restarts; switching a tenant's source keeps
// its destinations and SIEM fields; every call can go through an HTTP CONNECT proxy.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { buildForwarder, type Forwarder } from "../../src/cli/daemon.js";
import { configSchema } from "../../src/config/schema.js";
import { silentLogger } from "../../src/log.js";
import { createSimulator, type Simulator } from "../../src/simulator/index.js";
import { canonicalTimestamp } from "../../src/timestamp.js";
import { parseCef } from "../support/cef-parser.js";
import { rawConfig } from "../support/forwarder.js";
import { startTestProxy } from "../support/proxy.js";
import { type Receiver, startReceiver } from "../support/receiver.js";
import { hasOpenssl, makeTestPki } from "../support/tls-certs.js";

type NewSource = "alerts" | "graph";

function apiUrlOf(sim: Simulator, source: NewSource | "siem"): string {
  return source === "alerts" ? sim.alertsApiUrl : source === "graph" ? sim.graphUrl : sim.url;
}

/** FullId (cs3) of each CEF message, counted. */
function versions(rx: Receiver): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of rx.messages) {
    const id = parseCef(m).extension.get("cs3") ?? "";
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

/** The FullId the forwarder gives an alert's current version: `<id>@<canonical lastUpdate>`. */
function versionOf(alert: { id: string; lastUpdateTime: string }): string {
  return `${alert.id}@${canonicalTimestamp(alert.lastUpdateTime)}`;
}

async function setup(t: TestContext, source: NewSource, extra: { tenant?: Record<string, unknown> } = {}) {
  const dir = mkdtempSync(join(tmpdir(), `mde-${source}-`));
  const sim = await createSimulator({ seed: 51 });
  const rx = await startReceiver({ protocol: "tcp" });
  const raw = () =>
    rawConfig({
      sim,
      receiverPort: rx.port,
      stateDir: dir,
      poll: { overlap: "1h", max_per_request: 25 },
      tenant: { source, api_url: apiUrlOf(sim, source), ...extra.tenant },
    });
  let forwarder: Forwarder = buildForwarder(configSchema.parse(raw()), {
    log: silentLogger(),
    confirmAfterMs: 20,
  });
  t.after(async () => {
    await forwarder.close();
    await rx.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const cycle = async () => {
    const polls = await forwarder.pipeline.pollOnce();
    assert.equal(polls[0]?.result.status, "ok", JSON.stringify(polls[0]?.result));
    assert.equal(await forwarder.pipeline.drainUntilEmpty(1), true);
  };
  const restart = async () => {
    await forwarder.close();
    forwarder = buildForwarder(configSchema.parse(raw()), { log: silentLogger(), confirmAfterMs: 20 });
  };
  return { sim, rx, cycle, restart, forwarder: () => forwarder };
}

for (const source of ["alerts", "graph"] as const) {
  test(`${source}: every alert and every update delivered once, across polls and a restart`, async (t) => {
    const { sim, rx, cycle, restart } = await setup(t, source);
    const now = Date.now();
    sim.addAlerts(60, { from: now - 30 * 60_000, to: now - 1_000 });
    await cycle();
    const first = sim.alertsOf().map(versionOf);
    assert.equal(first.length, 60);
    for (const v of first) assert.equal(versions(rx).get(v), 1, `${v} once`);

    // Ten alerts change (status, classification, new evidence): each is forwarded again as a new version.
    const changed = sim.alertsOf().slice(0, 10);
    for (const a of changed) sim.updateAlert(a.id, { status: "InProgress", addEvidence: true });
    await cycle();
    await cycle(); // the 1 h overlap re-reads everything: dedupe keeps it single
    const updated = sim.alertsOf().slice(0, 10).map(versionOf);
    for (const v of updated) assert.equal(versions(rx).get(v), 1, `update ${v} once`);
    assert.equal(rx.messages.length, 70, "60 alerts and 10 updates, nothing twice");

    // A restart on the same state: nothing re-sent, new alerts flow.
    await restart();
    await cycle();
    assert.equal(rx.messages.length, 70, "nothing re-sent after a restart");
    const fresh = sim.addAlerts(5, { from: Date.now() - 2_000, to: Date.now() - 1 });
    await cycle();
    for (const a of fresh) assert.equal(versions(rx).get(versionOf(a)), 1);
    assert.equal(rx.messages.length, 75);

    // The CEF carries the alert id and the SIEM fields.
    const cef = parseCef(rx.messages[0] ?? "");
    assert.equal(cef.vendor, "Microsoft");
    const alertId = cef.extension.get("externalId") ?? "";
    assert.ok(
      sim.alertsOf().some((a) => a.id.startsWith(alertId)),
      "externalId is the alert id",
    );
    for (const key of ["cat", "rt", "start", "shost", "cs3"])
      assert.ok(cef.extension.get(key), `${key} is filled`);
  });
}

test("graph with events: evidence: one event per evidence entity", async (t) => {
  const { sim, rx, cycle } = await setup(t, "graph", { tenant: { events: "evidence" } });
  const alerts = sim.addAlerts(8, { from: Date.now() - 60_000, to: Date.now() - 1_000 });
  await cycle();
  const evidenceCount = alerts.reduce((n, a) => n + ((a.graph.evidence as unknown[]) ?? []).length, 0);
  assert.ok(evidenceCount > alerts.length, "the alerts have several entities");
  assert.equal(rx.messages.length, evidenceCount);
  const ids = [...versions(rx).keys()];
  assert.ok(
    ids.every((id) => /#\d+$/.test(id)),
    "FullId carries the evidence index",
  );
  assert.equal(new Set(ids).size, evidenceCount);
});

test("switching a tenant from siem to graph keeps its destinations and SIEM fields", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "mde-switch-"));
  const sim = await createSimulator({ seed: 52 });
  const rx = await startReceiver({ protocol: "tcp" });
  t.after(async () => {
    await rx.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const config = (source: "siem" | "graph") =>
    configSchema.parse(
      rawConfig({
        sim,
        receiverPort: rx.port,
        stateDir: dir,
        tenant: source === "siem" ? {} : { source, api_url: sim.graphUrl },
      }),
    );
  sim.generate(5, { from: Date.now() - 60_000, to: Date.now() - 1_000 });
  const siem = buildForwarder(config("siem"), { log: silentLogger(), confirmAfterMs: 20 });
  await siem.pipeline.pollOnce();
  assert.equal(await siem.pipeline.drainUntilEmpty(1), true);
  await siem.close();
  const fromSiem = rx.messages.length;
  assert.equal(fromSiem, 5);

  sim.addAlerts(5, { from: Date.now() - 30_000, to: Date.now() - 1 });
  const graph = buildForwarder(config("graph"), { log: silentLogger(), confirmAfterMs: 20 });
  t.after(() => graph.close());
  const polls = await graph.pipeline.pollOnce();
  assert.equal(polls[0]?.result.status, "ok");
  assert.equal(await graph.pipeline.drainUntilEmpty(1), true);
  assert.equal(rx.messages.length, fromSiem + 5, "the same destination gets the graph alerts");
  // The keys a SIEM rule uses are there for both sources.
  const keysOf = (m: string) => new Set(parseCef(m).extension.keys());
  const siemKeys = keysOf(rx.messages[0] ?? "");
  const graphKeys = keysOf(rx.messages[fromSiem] ?? "");
  for (const key of ["cat", "sourceServiceName", "shost", "externalId", "rt", "start", "cs3", "msg"]) {
    assert.ok(siemKeys.has(key) && graphKeys.has(key), `${key} in both`);
  }
  assert.equal(parseCef(rx.messages[fromSiem] ?? "").product, parseCef(rx.messages[0] ?? "").product);
});

test("every call, token requests included, goes through an HTTP CONNECT proxy", {
  skip: !hasOpenssl(),
}, async (t) => {
  const pki = makeTestPki({ serverNames: { dns: ["localhost"], ip: ["127.0.0.1"] } });
  const sim = await createSimulator({ seed: 53, tls: { cert: pki.server.cert, key: pki.server.key } });
  const rx = await startReceiver({ protocol: "tcp" });
  const proxy = await startTestProxy({ auth: { user: "fwd", password: "pr0xy-secret" } });
  const dir = mkdtempSync(join(tmpdir(), "mde-proxy-"));
  t.after(async () => {
    await rx.close();
    await proxy.close();
    await sim.close();
    pki.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  assert.match(sim.url, /^https:/);
  const raw = rawConfig({
    sim,
    receiverPort: rx.port,
    stateDir: dir,
    // The token endpoint under another name than the API: two tunnels, so both are seen to go through.
    tenant: {
      source: "graph",
      api_url: sim.graphUrl,
      authority_host: sim.url.replace("127.0.0.1", "localhost"),
    },
  });
  const config = configSchema.parse({
    ...raw,
    proxy: {
      url: proxy.url.replace("http://", "http://fwd:pr0xy-secret@"),
      no_proxy: [],
      ca_file: pki.caFile,
    },
  });
  sim.addAlerts(12, { from: Date.now() - 60_000, to: Date.now() - 1_000 });
  const forwarder = buildForwarder(config, { log: silentLogger(), confirmAfterMs: 20 });
  t.after(() => forwarder.close());
  const polls = await forwarder.pipeline.pollOnce();
  assert.equal(polls[0]?.result.status, "ok", JSON.stringify(polls[0]?.result));
  assert.equal(await forwarder.pipeline.drainUntilEmpty(1), true);
  assert.equal(rx.messages.length, 12);
  assert.ok(proxy.tunnels >= 1, "tunnels were opened");
  assert.ok(proxy.attempts.every((a) => a.status === 200 && a.authorization?.startsWith("Basic ")));
  const port = new URL(sim.url).port;
  const targets = new Set(proxy.attempts.map((a) => a.target));
  assert.ok(targets.has(`127.0.0.1:${port}`), "the API calls went through the proxy");
  assert.ok(targets.has(`localhost:${port}`), "the token request went through the proxy");
  assert.equal(sim.tokensIssued, 1);
});

test("certificate credentials: a signed client assertion gets the token, the simulator verifies it", {
  skip: !hasOpenssl(),
}, async (t) => {
  const pki = makeTestPki({ rsaClient: true });
  const cert = pki.rsaClient;
  assert.ok(cert);
  const tenant = {
    tenantId: "22222222-3333-4444-8555-666666666666",
    clientId: "cert-client",
    clientSecret: "unused-secret",
    clientCertificatePem: cert.cert,
  };
  const sim = await createSimulator({ seed: 54, tenants: [tenant] });
  const rx = await startReceiver({ protocol: "tcp" });
  const dir = mkdtempSync(join(tmpdir(), "mde-cert-"));
  t.after(async () => {
    await rx.close();
    await sim.close();
    pki.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  const raw = rawConfig({ sim, receiverPort: rx.port, stateDir: dir });
  const tenants = raw.tenants as Array<Record<string, unknown>>;
  const { client_secret: _secret, ...withoutSecret } = tenants[0] ?? {};
  const config = configSchema.parse({
    ...raw,
    tenants: [
      {
        ...withoutSecret,
        source: "alerts",
        api_url: sim.alertsApiUrl,
        tenant_id: tenant.tenantId,
        client_id: tenant.clientId,
        client_certificate_file: cert.certFile,
        client_key_file: cert.keyFile,
      },
    ],
  });
  sim.addAlerts(4, { tenantId: tenant.tenantId, from: Date.now() - 60_000, to: Date.now() - 1_000 });
  const forwarder = buildForwarder(config, { log: silentLogger(), confirmAfterMs: 20 });
  t.after(() => forwarder.close());
  const polls = await forwarder.pipeline.pollOnce();
  assert.equal(polls[0]?.result.status, "ok", JSON.stringify(polls[0]?.result));
  assert.equal(await forwarder.pipeline.drainUntilEmpty(1), true);
  assert.equal(rx.messages.length, 4);
  assert.equal(sim.tokensIssued, 1);
});
