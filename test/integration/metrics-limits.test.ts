// Issue 11, finding 9: the metrics server has limits. A real forwarder process, 1,000 real slow clients on
// 127.0.0.1 that send their request a byte at a time (or nothing): they are dropped after
// metrics.header_timeout, never more than metrics.max_connections are held, and /healthz answers for the
// others all along.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createSimulator, type Simulator } from "../../src/simulator/index.js";
import { type ForwarderProcess, rawConfig, spawnForwarder, writeConfig } from "../support/forwarder.js";
import { type Receiver, startReceiver } from "../support/receiver.js";

let dir: string;
let sim: Simulator;
let rx: Receiver;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "mde-metrics-limits-"));
  sim = await createSimulator({ seed: 9 });
  rx = await startReceiver({ protocol: "tcp" });
});
after(async () => {
  await rx.close();
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

async function startForwarder(
  t: { after: (fn: () => unknown) => void },
  name: string,
  metrics: Record<string, unknown>,
): Promise<{ p: ForwarderProcess; url: string; port: number }> {
  const stateDir = mkdtempSync(join(dir, `${name}-`));
  const raw = {
    ...rawConfig({ sim, receiverPort: rx.port, stateDir }),
    metrics: { host: "127.0.0.1", port: 0, ...metrics },
  };
  const p = spawnForwarder(["run", "-c", writeConfig(stateDir, raw)]);
  t.after(() => p.kill());
  const started = await p.waitForLog((l) => l.msg === "Forwarder started.", "the start");
  const url = String(started.metrics);
  return { p, url, port: Number(new URL(url).port) };
}

interface SlowClient {
  socket: Socket;
  connected: number | undefined;
  closed: number | undefined;
  answer: string;
}

const REQUEST = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow\r\n";

/** `n` clients that connect in batches and then send REQUEST one byte every `dribbleMs` (never the end). */
async function slowClients(port: number, n: number, dribbleMs: number): Promise<SlowClient[]> {
  const clients: SlowClient[] = [];
  for (let i = 0; i < n; i++) {
    const socket = connect(port, "127.0.0.1");
    const client: SlowClient = { socket, connected: undefined, closed: undefined, answer: "" };
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      client.answer += chunk;
    });
    socket.on("error", () => {});
    let sent = 0;
    const timer = setInterval(() => {
      if (client.connected !== undefined && sent < REQUEST.length) socket.write(REQUEST[sent++] ?? "");
    }, dribbleMs);
    socket.once("connect", () => {
      client.connected = Date.now();
    });
    socket.once("close", () => {
      client.closed = Date.now();
      clearInterval(timer);
    });
    clients.push(client);
    // Batches of 100, so that the listen backlog is not what limits them.
    if (i % 100 === 99) await settle(clients);
  }
  await settle(clients);
  return clients;
}

/** Until every client has connected or been closed. */
async function settle(clients: readonly SlowClient[]): Promise<void> {
  await until(
    () => clients.every((c) => c.connected !== undefined || c.closed !== undefined),
    "clients settled",
  );
}

async function until(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: await res.text() };
}

const open = (clients: readonly SlowClient[]) => clients.filter((c) => c.closed === undefined).length;

test("finding 9: 1,000 slow clients are dropped after metrics.header_timeout, however they dribble; /healthz answers meanwhile", async (t) => {
  const HEADER_TIMEOUT_MS = 5_000;
  const { url, port } = await startForwarder(t, "timeout", { header_timeout: "5s", max_connections: 1100 });
  const clients = await slowClients(port, 1_000, 250);
  t.after(() => {
    for (const c of clients) c.socket.destroy();
  });
  // While they are held, a probe gets its answer.
  const health = await get(`${url}/healthz`);
  assert.deepEqual(health, { status: 200, body: "ok\n" });
  assert.ok(open(clients) > 0, "answered while slow clients were still connected");

  await until(() => open(clients) === 0, "every slow client dropped");
  for (const c of clients) {
    assert.ok(c.connected !== undefined && c.closed !== undefined);
    // Dropped by the server (the client never ends), and not before the timeout (a lower bound only).
    assert.ok(c.closed - c.connected >= HEADER_TIMEOUT_MS - 100, `held ${c.closed - c.connected} ms`);
    assert.match(c.answer, /^HTTP\/1\.1 408 Request Timeout\r\n/);
  }
  const metrics = await get(`${url}/metrics`);
  assert.match(metrics.body, /^mde_http_connections_dropped_total\{reason="timeout"\} 1000$/m);
});

test("finding 9: past metrics.max_connections the oldest idle client is closed, so /healthz answers during a flood", async (t) => {
  const MAX = 16;
  // A long header timeout: only the connection cap can free a slot during this test.
  const { url, port } = await startForwarder(t, "cap", { header_timeout: "10m", max_connections: MAX });
  const clients = await slowClients(port, 1_000, 2_000);
  t.after(() => {
    for (const c of clients) c.socket.destroy();
  });
  await until(() => open(clients) <= MAX, `at most ${MAX} slow clients held`);
  assert.equal(open(clients), MAX, "the newest ones are held");
  assert.ok(
    clients.slice(-MAX).every((c) => c.closed === undefined),
    "the oldest were closed first",
  );

  // Every probe is a new connection beyond the cap: it closes a slow client, never waits for one.
  for (let i = 0; i < 20; i++) assert.deepEqual(await get(`${url}/healthz`), { status: 200, body: "ok\n" });
  const ready = await get(`${url}/readyz`);
  assert.ok([200, 503].includes(ready.status));
  const metrics = await get(`${url}/metrics`);
  assert.equal(metrics.status, 200);
  const dropped = Number(
    /^mde_http_connections_dropped_total\{reason="limit"\} (\d+)$/m.exec(metrics.body)?.[1],
  );
  assert.ok(dropped >= 1_000 - MAX, `dropped at the cap: ${dropped}`);
  assert.ok(open(clients) <= MAX);
});
