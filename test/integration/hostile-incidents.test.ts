// Issue 11 on the Graph incidents source (merged from issue 12 after the bounds were built): its reads are
// bounded like every source's. A hostile Graph on 127.0.0.1 answers the real pipeline with an incident nested
// too deep (quarantined, the others delivered), a body over poll.max_response_bytes (E_API_TOO_LARGE) and an
// endless chain of nextLinks (E_POLL_TOO_MANY_REQUESTS: the poll keeps what it stored, the next goes on).
import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { buildForwarder } from "../../src/cli/daemon.js";
import { configSchema } from "../../src/config/schema.js";
import { silentLogger } from "../../src/log.js";
import type { PollResult } from "../../src/pipeline/poll.js";
import { HOSTILE_TOKEN, nestedText } from "../support/hostile-api.js";
import { startReceiver } from "../support/receiver.js";
import { counterValue } from "../support/source.js";

type Page = (query: URLSearchParams, url: URL) => string;

interface Graph {
  url: string;
  /** Every GET of /v1.0/security/incidents (first pages and nextLinks), in order. */
  requests: URL[];
  answer(page: Page): void;
}

async function startGraph(t: TestContext): Promise<Graph> {
  const requests: URL[] = [];
  let page: Page = () => '{"value":[]}';
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (req.method === "POST" && url.pathname.endsWith("/oauth2/v2.0/token")) {
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ access_token: HOSTILE_TOKEN, token_type: "Bearer", expires_in: 3599 }));
      });
      return;
    }
    if (req.method === "GET" && url.pathname === "/v1.0/security/incidents") {
      requests.push(url);
      const body = page(url.searchParams, url);
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    res.writeHead(404).end();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    answer(next) {
      page = next;
    },
  };
}

function incident(id: string, time: string): Record<string, unknown> {
  return {
    id,
    displayName: `Hostile incident ${id}`,
    createdDateTime: time,
    lastUpdateDateTime: time,
    status: "active",
    severity: "high",
    alerts: [],
  };
}

const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

async function setup(t: TestContext, poll: Record<string, unknown> = {}) {
  const dir = mkdtempSync(join(tmpdir(), "mde-hostile-incidents-"));
  const graph = await startGraph(t);
  const rx = await startReceiver({ protocol: "tcp" });
  const config = configSchema.parse({
    tenants: [
      {
        name: "hostile",
        source: "incidents",
        tenant_id: "00000000-0000-0000-0000-00000000beef",
        client_id: "11111111-1111-1111-1111-111111111111",
        client_secret: "not-a-real-secret",
        api_url: graph.url,
        authority_host: graph.url,
      },
    ],
    poll: { schedule: "0 0 1 1 *", lookback: "2h", overlap: "5m", request_timeout: "10s", ...poll },
    state: { path: join(dir, "state.db") },
    destinations: [{ name: "siem", format: "cef", protocol: "tcp", host: "127.0.0.1", port: rx.port }],
    metrics: { enabled: false },
    log: { level: "info", format: "json" },
  });
  const forwarder = buildForwarder(config, { log: silentLogger(), confirmAfterMs: 20 });
  t.after(async () => {
    await forwarder.close();
    await rx.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const cycle = async (): Promise<PollResult> => {
    const [polled] = await forwarder.pipeline.pollOnce();
    assert.ok(polled);
    assert.equal(await forwarder.pipeline.drainUntilEmpty(1), true);
    return polled.result;
  };
  return { graph, rx, forwarder, cycle };
}

const externalIds = (messages: readonly string[]) =>
  messages.map((m) => /externalId=(\S+)/.exec(m)?.[1] ?? "?").sort();

test("issue 11 on incidents: an incident nested too deep is quarantined, the others of its page are delivered", async (t) => {
  const env = await setup(t);
  const a = incident("1001", ago(30_000));
  const b = incident("1003", ago(10_000));
  const deep = JSON.stringify(incident("1002", ago(20_000))).replace(/}$/, `,"x":${nestedText(6_000)}}`);
  env.graph.answer(() => `{"value":[${JSON.stringify(a)},${deep},${JSON.stringify(b)}]}`);

  const result = await env.cycle();
  assert.equal(result.status, "ok", JSON.stringify(result));
  assert.deepEqual(externalIds(env.rx.messages), ["1001", "1003"]);
  const [row, ...more] = env.forwarder.store.quarantined(0, 10);
  assert.equal(more.length, 0);
  assert.deepEqual([row?.reason, row?.kind, row?.raw], ["too_deep", "incidents", deep]);
  assert.equal(
    await counterValue(env.forwarder.metrics, "mde_detections_quarantined_total", {
      tenant: "hostile",
      reason: "too_deep",
    }),
    1,
  );
});

test("issue 11 on incidents: a body over max_response_bytes is refused (E_API_TOO_LARGE), not retried in the poll", async (t) => {
  const env = await setup(t, { max_response_bytes: "64KiB" });
  const pad = "p".repeat(70_000);
  env.graph.answer(() => JSON.stringify({ value: [{ ...incident("2001", ago(5_000)), pad }] }));
  const result = await env.cycle();
  assert.equal(result.status === "failed" ? result.error.code : result.status, "E_API_TOO_LARGE");
  assert.equal(env.graph.requests.length, 1);
  assert.equal(env.rx.messages.length, 0);
});

test("issue 11 on incidents: endless nextLinks end the poll at max_requests_per_poll; it keeps what it stored and the next goes on", async (t) => {
  const env = await setup(t, { max_requests_per_poll: 5 });
  // Every page sits on the cursor's instant and links to one more page: readGraph follows nextLinks there,
  // and a server that never stops would keep one poll going forever.
  const at = ago(60_000);
  let n = 0;
  env.graph.answer((_query, url) => {
    n++;
    const next = new URL(`${url.pathname}${url.search}`, env.graph.url);
    next.searchParams.set("page", String(n));
    return JSON.stringify({ value: [incident(`30${n}`, at)], "@odata.nextLink": next.toString() });
  });

  const first = await env.cycle();
  assert.equal(first.status === "failed" ? first.error.code : first.status, "E_POLL_TOO_MANY_REQUESTS");
  assert.equal(env.graph.requests.length, 5);
  assert.deepEqual(externalIds(env.rx.messages), ["301", "302", "303", "304", "305"], "kept what it stored");
  const checkpoint = env.forwarder.store.getCheckpoint("hostile");
  assert.ok(checkpoint?.startsWith(at.slice(0, 19)), `checkpoint ${checkpoint} at the pages' instant`);

  // The next poll starts again from the checkpoint (minus overlap), with a fresh request budget.
  env.graph.answer(() => JSON.stringify({ value: [incident("400", ago(1_000))] }));
  const second = await env.cycle();
  assert.equal(second.status, "ok", JSON.stringify(second));
  assert.equal(env.graph.requests.length, 6);
  const filter = env.graph.requests[5]?.searchParams.get("$filter") ?? "";
  const since = Date.parse(/ge (\S+)/.exec(filter)?.[1] ?? "");
  assert.equal(since, Date.parse(at) - 5 * 60_000);
  assert.ok(externalIds(env.rx.messages).includes("400"));
});
