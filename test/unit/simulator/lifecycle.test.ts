import assert from "node:assert/strict";
import { once } from "node:events";
import { Agent, type IncomingMessage, request } from "node:http";
import { createServer, type Socket } from "node:net";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import { ForwarderError } from "../../../src/errors.js";
import { createLogger } from "../../../src/log.js";
import { createSimulator, DEMO_TENANT } from "../../../src/simulator/index.js";
import { getToken, manualClock, T0 } from "./helpers.js";

/** Resolves when a log line containing `text` is written to `stream`. */
function logged(stream: PassThrough, text: string): Promise<void> {
  return new Promise((resolve) => {
    const onData = (chunk: Buffer): void => {
      if (!chunk.toString("utf8").includes(text)) return;
      stream.off("data", onData);
      resolve();
    };
    stream.on("data", onData);
  });
}

test("close() drops keep-alive connections and pending slow replies, and stops listening", async (t) => {
  const lines = new PassThrough();
  const log = createLogger({ level: "info", destination: lines });
  const sim = await createSimulator({ ratePerMinute: 60, log });
  t.after(() => sim.close());
  assert.match(sim.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(sim.authorityHost, sim.url);

  // A keep-alive connection left open after a complete response.
  const agent = new Agent({ keepAlive: true });
  const req = request(`${sim.url}/_sim/stats`, { agent });
  req.end();
  const [socket] = (await once(req, "socket")) as [Socket];
  const [res] = (await once(req, "response")) as [IncomingMessage];
  res.resume();
  await once(res, "end");
  await new Promise((resolve) => setImmediate(resolve));
  assert.ok(!socket.destroyed, "the connection stays open for reuse");

  // A request parked in a slow fault.
  const token = await getToken(sim);
  sim.injectFaults([{ kind: "slow", delayMs: 600_000 }]);
  const parked = request(`${sim.url}/api/alerts`, {
    headers: { authorization: `Bearer ${token}` },
    agent: false,
  });
  const faultApplied = logged(lines, "Applying injected fault.");
  parked.end();
  const parkedError = once(parked, "error");
  // The server logs as it takes the fault, right before it starts waiting.
  await faultApplied;

  const closedSocket = once(socket, "close");
  await sim.close();
  await closedSocket;
  const [err] = (await parkedError) as [NodeJS.ErrnoException];
  assert.equal(err.code, "ECONNRESET");
  await assert.rejects(fetch(`${sim.url}/_sim/stats`), TypeError);
  // Closing twice is harmless.
  await sim.close();
  agent.destroy();
  lines.destroy();
});

test("steady arrival adds detections at now, per tenant, and stops at close()", async (t) => {
  // Only setInterval is mocked: the arrival timer then runs when the test says so.
  t.mock.timers.enable({ apis: ["setInterval"] });
  const clock = manualClock();
  const other = { tenantId: "t-2", clientId: "c2", clientSecret: "s2" };
  const sim = await createSimulator({ clock: clock.fn, ratePerMinute: 1200, tenants: [DEMO_TENANT, other] });
  assert.equal(sim.detections.length, 0);
  // 1200/min = 20/s; ticks every 100 ms add 2 per tenant.
  t.mock.timers.tick(100);
  assert.equal(sim.detections.length, 4);
  clock.now = T0 + 500;
  t.mock.timers.tick(400);
  assert.equal(sim.detections.length, 20);
  const latest = sim.detections.slice(-4);
  assert.ok(latest.every((d) => d.LastProcessedTimeUtc === "2024-05-01T12:00:00.5000000Z"));
  await sim.close();
  t.mock.timers.tick(1_000);
  assert.equal(sim.detections.length, 20, "no arrivals after close()");
});

test("fractional counts per tick accumulate instead of being rounded away", async (t) => {
  t.mock.timers.enable({ apis: ["setInterval"] });
  const sim = await createSimulator({ ratePerMinute: 900, clock: () => T0 });
  t.after(() => sim.close());
  // 900/min with a tick every 100 ms is 1.5 per tick: 1, then 2, then 1, then 2...
  const counts: number[] = [];
  for (let i = 0; i < 4; i++) {
    t.mock.timers.tick(100);
    counts.push(sim.detections.length);
  }
  assert.deepEqual(counts, [1, 3, 4, 6]);
});

test("slow rates add one detection per period", async (t) => {
  t.mock.timers.enable({ apis: ["setInterval"] });
  const sim = await createSimulator({ ratePerMinute: 0.5, clock: () => T0 });
  t.after(() => sim.close());
  t.mock.timers.tick(119_999);
  assert.equal(sim.detections.length, 0);
  t.mock.timers.tick(1);
  assert.equal(sim.detections.length, 1);
});

test("invalid options and a busy port are ForwarderErrors", async (t) => {
  for (const options of [
    { port: -1 },
    { tenants: [] },
    { ratePerMinute: -1 },
    { tokenLifetimeSeconds: 0 },
    { seed: 1.5 },
    { tenants: [DEMO_TENANT, { ...DEMO_TENANT }] },
    { tenants: [{ tenantId: "a/b", clientId: "c", clientSecret: "s" }] },
  ]) {
    await assert.rejects(
      createSimulator(options),
      (err: unknown) => err instanceof ForwarderError && err.code === "E_CONFIG_INVALID",
      JSON.stringify(options),
    );
  }
  const blocker = createServer();
  blocker.listen(0, "127.0.0.1");
  await once(blocker, "listening");
  t.after(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
  const address = blocker.address();
  assert.ok(address !== null && typeof address === "object");
  await assert.rejects(
    createSimulator({ port: address.port }),
    (err: unknown) =>
      err instanceof ForwarderError && err.code === "E_INTERNAL" && /cannot listen/.test(err.message),
  );
});
