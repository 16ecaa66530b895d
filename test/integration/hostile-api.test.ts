// Issue 11: bad data from the API can neither stop, crash, blind nor exhaust the forwarder. Each finding
// reproduced as a hostile or buggy API would behave, over real HTTP on 127.0.0.1, against the real
// pipeline (SQLite file, TCP receiver), in one process. Memory is not measured here: `npm run bench --
// hostile` measures each attack's peak RSS (bench/hostile.bench.ts).
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import type http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { gzipSync } from "node:zlib";
import { buildForwarder } from "../../src/cli/daemon.js";
import { configSchema } from "../../src/config/schema.js";
import type { ForwarderError } from "../../src/errors.js";
import type { PollResult } from "../../src/pipeline/poll.js";
import { formatTimestamp, parseTimestamp } from "../../src/timestamp.js";
import { fullIds } from "../support/forwarder.js";
import {
  type AlertsHandler,
  detection,
  hostileConfig,
  json,
  nestedText,
  startHostileApi,
} from "../support/hostile-api.js";
import { startReceiver } from "../support/receiver.js";
import { counterValue } from "../support/source.js";
import { captureLog } from "../unit/sink/helpers.js";

const TENANT = "hostile";

async function setup(
  t: TestContext,
  options: {
    poll?: Record<string, unknown>;
    destination?: Record<string, unknown>;
    handler?: AlertsHandler;
  } = {},
) {
  const dir = mkdtempSync(join(tmpdir(), "mde-hostile-"));
  const api = await startHostileApi(t, options.handler);
  const rx = await startReceiver({ protocol: "tcp" });
  const config = configSchema.parse(
    hostileConfig({
      api,
      receiverPort: rx.port,
      stateDir: dir,
      poll: options.poll,
      destination: options.destination,
    }),
  );
  const logs = captureLog();
  const fatal: ForwarderError[] = [];
  const forwarder = buildForwarder(config, {
    log: logs.log,
    confirmAfterMs: 50,
    onFatal: (e) => fatal.push(e),
  });
  t.after(async () => {
    await forwarder.close();
    await rx.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const poll = async (): Promise<PollResult> => {
    const [result] = await forwarder.pipeline.pollOnce();
    assert.ok(result);
    return result.result;
  };
  const cycle = async (): Promise<PollResult> => {
    const result = await poll();
    assert.equal(await forwarder.pipeline.drainUntilEmpty(1), true, "outbox drained");
    return result;
  };
  const counter = (name: string, labels: Record<string, string> = { tenant: TENANT }) =>
    counterValue(forwarder.metrics, name, labels);
  return { dir, api, rx, logs, fatal, forwarder, poll, cycle, counter };
}

const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
/** The canonical (7-digit) form of an ISO time, as the checkpoint holds it. */
const canonical = (iso: string) => formatTimestamp(parseTimestamp(iso) ?? 0n);

function arrivalsOf(messages: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const id of fullIds(messages)) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

/** A 200 whose body is whatever `text` is, as JSON. */
const serve =
  (items: () => unknown): AlertsHandler =>
  (_req, res) =>
    json(res, items());

function failedCode(result: PollResult): string | undefined {
  return result.status === "failed" ? result.error.code : undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Finding 1: a future LastProcessedTimeUtc moved the checkpoint there and blinded the tenant.

test("issue 11 finding 1: a detection dated 9999-12-31 is delivered once, counted and logged, and never moves the checkpoint", async (t) => {
  const d1 = detection("1", ago(60_000));
  const future = detection("future", "9999-12-31T23:59:59.9999999Z");
  const items: Record<string, unknown>[] = [d1, future];
  // A buggy API: it returns the future-dated detection whatever the window.
  const env = await setup(t, { handler: serve(() => items) });

  assert.equal((await env.cycle()).status, "ok");
  const checkpoint = env.forwarder.store.getCheckpoint(TENANT);
  assert.equal(checkpoint, canonical(String(d1.LastProcessedTimeUtc)), "the checkpoint follows d1, not 9999");
  assert.equal(await env.counter("mde_detections_future_total"), 1);
  const warned = env.logs.lines.filter((l) => /dated after this poll's end/.test(l.msg));
  assert.equal(warned.length, 1, "one warning per poll");
  assert.equal(warned[0]?.future, 1);
  assert.ok(Number(warned[0]?.maxSkewSeconds) > 200_000_000_000, `skew ${warned[0]?.maxSkewSeconds}`);
  assert.equal(warned[0]?.newest, "9999-12-31T23:59:59.9999999Z");

  // The next poll reads from the checkpoint (minus overlap), so a new real detection is not skipped.
  const d2 = detection("2", ago(1_000));
  items.push(d2);
  assert.equal((await env.cycle()).status, "ok");
  const since = env.api.requests.at(-1)?.query.get("sinceTimeUtc");
  assert.equal(since, new Date(Date.parse(String(d1.LastProcessedTimeUtc)) - 5 * 60_000).toISOString());
  const counts = arrivalsOf(env.rx.messages);
  assert.deepEqual(
    [...counts.entries()].sort(),
    [
      ["da1:hostile", 1],
      ["da2:hostile", 1],
      ["dafuture:hostile", 1],
    ],
    "every detection once, the future one included",
  );
  assert.equal(env.forwarder.store.getCheckpoint(TENANT), canonical(String(d2.LastProcessedTimeUtc)));
  assert.equal(await env.counter("mde_detections_future_total"), 2, "re-reads counted, like received");
});

test("issue 11 finding 1: a checkpoint already in the future (an earlier release) no longer blinds the tenant", async (t) => {
  const items: Record<string, unknown>[] = [];
  const env = await setup(t, { handler: serve(() => items) });
  env.forwarder.store.resetCheckpoint(TENANT, "9999-12-31T23:54:59.9990000Z");

  const fresh = detection("fresh", ago(2_000));
  items.push(fresh);
  const before = Date.now();
  assert.equal((await env.cycle()).status, "ok");
  const since = Date.parse(env.api.requests.at(-1)?.query.get("sinceTimeUtc") ?? "");
  // The window starts `overlap` before now, not before 9999.
  assert.ok(Math.abs(since - (before - 5 * 60_000)) < 5_000, `since ${new Date(since).toISOString()}`);
  assert.deepEqual(fullIds(env.rx.messages), ["dafresh:hostile"]);
});

// ---------------------------------------------------------------------------------------------------------
// Finding 2: one deeply nested detection crash-looped the daemon (E_STATE_WRITE from a stack overflow).

test("issue 11 finding 2: a detection nested 6,000 levels deep is quarantined; the others are delivered and the poll goes on", async (t) => {
  const d1 = detection("1", ago(30_000));
  const d3 = detection("3", ago(10_000));
  const deep = JSON.stringify(detection("deep", ago(20_000))).replace(
    /}$/,
    `,"Evidence":${nestedText(6_000)}}`,
  );
  const body = `[${JSON.stringify(d1)},${deep},${JSON.stringify(d3)}]`;
  const env = await setup(t, {
    handler: (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(body);
    },
  });

  const first = await env.cycle();
  assert.equal(first.status, "ok", JSON.stringify(first));
  assert.deepEqual(fullIds(env.rx.messages).sort(), ["da1:hostile", "da3:hostile"]);
  assert.deepEqual(env.fatal, [], "no state error");
  assert.equal(
    await env.counter("mde_detections_quarantined_total", { tenant: TENANT, reason: "too_deep" }),
    1,
  );

  const [row, ...more] = env.forwarder.store.quarantined(0, 10);
  assert.equal(more.length, 0);
  assert.equal(row?.tenant, TENANT);
  assert.equal(row?.reason, "too_deep");
  assert.equal(row?.destination, null);
  assert.equal(row?.rawBytes, Buffer.byteLength(deep));
  assert.equal(row?.raw, deep, "the raw body is kept whole (under 64 KiB)");
  const status = env.forwarder.store.status().tenants.find((s) => s.tenant === TENANT);
  assert.equal(status?.quarantined, 1);

  // The overlap reads it again: not quarantined twice, and the checkpoint passed it.
  assert.equal((await env.cycle()).status, "ok");
  assert.equal(env.forwarder.store.quarantined(0, 10).length, 1);
  assert.equal(
    await env.counter("mde_detections_quarantined_total", { tenant: TENANT, reason: "too_deep" }),
    1,
  );
  assert.equal(env.rx.messages.length, 2);
  assert.equal(env.forwarder.store.getCheckpoint(TENANT), canonical(String(d3.LastProcessedTimeUtc)));
});

test("issue 11 finding 2: items that are not objects are quarantined, not a reason to fail the response", async (t) => {
  const d1 = detection("1", ago(10_000));
  const env = await setup(t, { handler: serve(() => [d1, 42, "text", null, [d1]]) });
  assert.equal((await env.cycle()).status, "ok");
  assert.deepEqual(fullIds(env.rx.messages), ["da1:hostile"]);
  const rows = env.forwarder.store.quarantined(0, 10);
  assert.deepEqual(
    rows.map((r) => [r.reason, r.raw]),
    [
      ["not_an_object", "42"],
      ["not_an_object", '"text"'],
      ["not_an_object", "null"],
      ["not_an_object", `[${JSON.stringify(d1)}]`],
    ],
  );
  assert.equal(
    await env.counter("mde_detections_quarantined_total", { tenant: TENANT, reason: "not_an_object" }),
    4,
  );
});

test("issue 11 finding 2: a stored event its destination cannot encode is quarantined and never blocks the destination", async (t) => {
  const items: Record<string, unknown>[] = [];
  const env = await setup(t, { handler: serve(() => items) });
  // An event stored by an earlier release (no depth bound then): 100,000 levels overflow any encoder.
  const deepBody = `{"FullId":"daold:hostile","LastProcessedTimeUtc":"${ago(60_000)}","Extra":${nestedText(100_000)}}`;
  env.forwarder.store.ingest(
    TENANT,
    [{ key: "daold:hostile", lastProcessed: undefined, body: deepBody, malformed: false }],
    undefined,
  );
  items.push(detection("after", ago(1_000)));

  assert.equal((await env.cycle()).status, "ok");
  assert.deepEqual(fullIds(env.rx.messages), ["daafter:hostile"], "the next event went out");
  assert.deepEqual(env.fatal, []);
  const [row] = env.forwarder.store.quarantined(0, 10);
  assert.equal(row?.reason, "unencodable");
  assert.equal(row?.destination, "siem");
  assert.equal(row?.rawBytes, Buffer.byteLength(deepBody));
  assert.equal(Buffer.byteLength(row?.raw ?? ""), 65_536, "raw kept up to 64 KiB");
  assert.equal(env.forwarder.store.outboxDepths().get("siem"), 0);
  assert.equal(
    await env.counter("mde_detections_quarantined_total", { tenant: TENANT, reason: "unencodable" }),
    1,
  );
  assert.equal(
    await env.counter("mde_events_dropped_total", { destination: "siem", reason: "unencodable" }),
    0,
  );
});

// ---------------------------------------------------------------------------------------------------------
// Finding 3: response memory was unbounded (1 GB body, gzip bomb, endless chunked body, a million `{}`).

const LIMITED = { max_response_bytes: "1MiB" };

/** Streams `[` and detections until `total` bytes are out or the client hangs up; records how far it got. */
function hugeBody(total: number, sent: { bytes: number; closed: boolean }): AlertsHandler {
  const chunk = Buffer.from(`${JSON.stringify(detection("x", ago(1_000)))},`.repeat(200));
  return (_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.write("[");
    res.on("close", () => {
      sent.closed = true;
    });
    const pump = () => {
      while (!sent.closed && sent.bytes < total) {
        sent.bytes += chunk.length;
        if (!res.write(chunk)) {
          res.once("drain", pump);
          return;
        }
      }
      if (!sent.closed) res.end("{}]");
    };
    pump();
  };
}

test("issue 11 finding 3: a 1 GB body is aborted at max_response_bytes; the poll keeps what it stored and the next goes on", async (t) => {
  const sent = { bytes: 0, closed: false };
  let calls = 0;
  const early = [detection("early1", ago(100 * 60_000)), detection("early2", ago(90 * 60_000))];
  // max_per_request 10: a full first answer splits the window; its older half is fine, the newer one is 1 GB.
  const huge = hugeBody(1_073_741_824, sent);
  const env = await setup(t, {
    poll: { ...LIMITED, max_per_request: 10 },
    handler: (req, res, query) => {
      calls++;
      if (calls === 1)
        return json(
          res,
          Array.from({ length: 10 }, (_, i) => detection(`full${i}`, ago(1_000))),
        );
      if (calls === 2) return json(res, early);
      return huge(req, res, query);
    },
  });

  const result = await env.cycle();
  assert.equal(failedCode(result), "E_API_TOO_LARGE");
  assert.match(result.status === "failed" ? result.error.message : "", /over 1048576 bytes/);
  assert.ok(sent.closed, "the request was aborted");
  assert.ok(sent.bytes < 64 * 1_048_576, `the server sent ${sent.bytes} bytes before the abort`);
  assert.equal(calls, 3, "not retried within the poll");
  assert.deepEqual(
    fullIds(env.rx.messages).sort(),
    ["daearly1:hostile", "daearly2:hostile"],
    "kept what it stored",
  );
  assert.equal(env.forwarder.store.getCheckpoint(TENANT), canonical(String(early[1]?.LastProcessedTimeUtc)));
  assert.equal(await env.counter("mde_errors_total", { stage: "poll", code: "E_API_TOO_LARGE" }), 1);
  assert.equal(env.forwarder.pipeline.readiness().ready, false);

  env.api.handle(serve(() => [detection("later", ago(500))]));
  assert.equal((await env.cycle()).status, "ok");
  const since = env.api.requests.at(-1)?.query.get("sinceTimeUtc");
  assert.equal(
    since,
    new Date(Date.parse(String(early[1]?.LastProcessedTimeUtc)) - 5 * 60_000).toISOString(),
  );
  assert.ok(fullIds(env.rx.messages).includes("dalater:hostile"));
});

test("issue 11 finding 3: a body announced larger than max_response_bytes is refused before it is read", async (t) => {
  let closed = false;
  const env = await setup(t, {
    poll: LIMITED,
    handler: (_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-length": 1_073_741_824 });
      res.write("[");
      res.on("close", () => {
        closed = true;
      });
    },
  });
  assert.equal(failedCode(await env.poll()), "E_API_TOO_LARGE");
  await new Promise<void>((resolve) => {
    const check = () => (closed ? resolve() : setTimeout(check, 5));
    check();
  });
});

test("issue 11 finding 3: a gzip bomb counts its decompressed bytes and is aborted", async (t) => {
  // 64 MiB of blanks in a 64 KiB gzip body: valid JSON once decompressed (an empty array with padding).
  const bomb = gzipSync(
    Buffer.concat([Buffer.from("["), Buffer.alloc(64 * 1_048_576, " "), Buffer.from("]")]),
  );
  assert.ok(bomb.length < 100_000);
  const env = await setup(t, {
    poll: LIMITED,
    handler: (_req, res) => {
      res.writeHead(200, {
        "content-type": "application/json",
        "content-encoding": "gzip",
        "content-length": bomb.length,
      });
      res.end(bomb);
    },
  });
  const result = await env.poll();
  assert.equal(failedCode(result), "E_API_TOO_LARGE");
  assert.match(result.status === "failed" ? result.error.message : "", /over 1048576 bytes/);
});

test("issue 11 finding 3: an endless chunked body is aborted at max_response_bytes, long before the timeout", async (t) => {
  let closed = false;
  const handler: AlertsHandler = (_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.write("[");
    const filler = Buffer.alloc(16_384, " ");
    const timer = setInterval(() => res.write(filler), 1);
    res.on("close", () => {
      closed = true;
      clearInterval(timer);
    });
  };
  const env = await setup(t, { poll: { ...LIMITED, request_timeout: "60s" }, handler });
  const started = performance.now();
  assert.equal(failedCode(await env.poll()), "E_API_TOO_LARGE");
  assert.ok(performance.now() - started < 30_000);
  await new Promise<void>((resolve) => {
    const check = () => (closed ? resolve() : setTimeout(check, 5));
    check();
  });
});

test("issue 11 finding 3: a 3 MB array of a million {} fails as too large before anything is built; the next poll goes on", async (t) => {
  const body = `[${"{},".repeat(999_999)}{}]`;
  const env = await setup(t, {
    handler: (_req: http.IncomingMessage, res: http.ServerResponse) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(body);
    },
  });
  const result = await env.poll();
  assert.equal(failedCode(result), "E_API_TOO_LARGE");
  assert.match(result.status === "failed" ? result.error.message : "", /more than 100000 items/);
  assert.equal(env.api.requests.length, 1, "not split, not retried");
  assert.equal(env.forwarder.store.outboxDepths().get("siem"), 0);

  env.api.handle(serve(() => [detection("ok", ago(1_000))]));
  assert.equal((await env.cycle()).status, "ok");
  assert.deepEqual(fullIds(env.rx.messages), ["daok:hostile"]);
});

// ---------------------------------------------------------------------------------------------------------
// Finding 4: a server ignoring `limit` made every response "full" and the poll endless.

test("issue 11 finding 4: a response with more items than limit is complete: never split, logged once", async (t) => {
  const items = Array.from({ length: 25 }, (_, i) => detection(`n${i}`, ago(60_000 - i * 1_000)));
  const env = await setup(t, { poll: { max_per_request: 10 }, handler: serve(() => items) });

  assert.equal((await env.cycle()).status, "ok");
  assert.equal(env.api.requests.length, 1, "one request: the window was not split");
  assert.equal(env.api.requests[0]?.query.get("limit"), "10");
  assert.equal(new Set(fullIds(env.rx.messages)).size, 25);
  assert.equal((await env.cycle()).status, "ok");
  assert.equal(env.api.requests.length, 2);
  const said = env.logs.lines.filter((l) => /ignores `limit`/.test(l.msg));
  assert.equal(said.length, 1, "said once");
  assert.deepEqual([said[0]?.items, said[0]?.limit], [25, 10]);
  assert.equal(env.rx.messages.length, 25, "and delivered once");
});

test("issue 11 finding 4: max_requests_per_poll ends a poll that never completes; it keeps what it stored and the next goes on", async (t) => {
  // Always exactly `limit` items, spread over the asked range: every answer looks full, down to 2 ms slices.
  const handler: AlertsHandler = (_req, res, query) => {
    const since = Date.parse(query.get("sinceTimeUtc") ?? "");
    const until = Date.parse(query.get("untilTimeUtc") ?? "");
    const limit = Number(query.get("limit") ?? 10);
    const step = (until - since) / limit;
    json(
      res,
      Array.from({ length: limit }, (_, i) => {
        const at = Math.floor(since + i * step);
        return detection(`t${at}-${i}`, new Date(at).toISOString());
      }),
    );
  };
  const env = await setup(t, { poll: { max_per_request: 10, max_requests_per_poll: 40 }, handler });

  const result = await env.cycle();
  assert.equal(failedCode(result), "E_POLL_TOO_MANY_REQUESTS");
  assert.match(result.status === "failed" ? result.error.message : "", /after 40 API requests/);
  assert.equal(env.api.requests.length, 40);
  const checkpoint = env.forwarder.store.getCheckpoint(TENANT);
  assert.ok(checkpoint !== undefined, "parts read before the bound were stored and moved the checkpoint");
  const stored = env.rx.messages.length;
  assert.ok(stored > 0);
  assert.equal(await env.counter("mde_errors_total", { stage: "poll", code: "E_POLL_TOO_MANY_REQUESTS" }), 1);

  // The next poll starts from that checkpoint (minus overlap), not from the lookback again.
  await env.cycle();
  const since = env.api.requests[40]?.query.get("sinceTimeUtc");
  const expected = Number((parseTimestamp(checkpoint) ?? 0n) / 10_000n) - 5 * 60_000;
  assert.ok(
    Math.abs(Date.parse(since ?? "") - expected) <= 1,
    `${since} vs ${new Date(expected).toISOString()}`,
  );
  assert.ok(env.rx.messages.length > stored);
});

// ---------------------------------------------------------------------------------------------------------
// Finding 5: the first characters of a non-JSON body went into the error: a reflected token with them.

test("issue 11 finding 5: a body reflecting the Authorization header never reaches the error, the log, status or the state file", async (t) => {
  const reflect: AlertsHandler = (req, res) => {
    const text = `Authorization: ${req.headers.authorization}\n<html>proxy error</html>`;
    res.writeHead(200, {
      "content-type": "text/html; charset=utf-8",
      "content-length": Buffer.byteLength(text),
    });
    res.end(text);
  };
  const env = await setup(t, { handler: reflect });
  const token = env.api.token;
  const prefix = token.slice(0, 8);
  const result = await env.poll();
  assert.equal(failedCode(result), "E_API_BAD_RESPONSE");
  const message = result.status === "failed" ? result.error.message : "";
  assert.match(message, /status 200, content-type text\/html, \d+ bytes/);
  assert.ok(!message.includes(prefix), message);
  assert.ok(!message.includes("proxy error"), "no remote text at all");

  const status = env.forwarder.store.status().tenants.find((s) => s.tenant === TENANT);
  assert.equal(status?.lastErrorCode, "E_API_BAD_RESPONSE");
  assert.ok(!String(status?.lastError).includes(prefix));
  for (const line of env.logs.lines) assert.ok(!JSON.stringify(line).includes(prefix), JSON.stringify(line));
  for (const file of ["state.db", "state.db-wal"]) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(join(env.dir, file));
    } catch {
      continue;
    }
    assert.equal(bytes.indexOf(prefix), -1, `${file} holds no part of the token`);
  }
});

test("issue 11 finding 5: a failure rendered with a bearer token or a JWT in it is redacted in status and the state", async (t) => {
  const env = await setup(t);
  const token = env.api.token;
  // An error text as another component (or an earlier release) may have recorded it.
  env.forwarder.store.recordPoll(TENANT, {
    ok: false,
    code: "E_API_SERVER",
    message: `upstream said: Authorization: Bearer ${token}; id_token=${token}; bare ${token.slice(0, 30)}`,
  });
  const lastError = env.forwarder.store.status().tenants.find((s) => s.tenant === TENANT)?.lastError ?? "";
  assert.ok(!lastError.includes(token.slice(0, 8)), lastError);
  assert.match(lastError, /Bearer \[redacted\]/);
  assert.match(lastError, /id_token=\[redacted\]/);
});

// ---------------------------------------------------------------------------------------------------------
// Finding 6: U+0085, U+2028 and U+2029 passed raw into CEF, LEEF and JSON; a receiver that ends lines on them
// (Java's readers, JavaScript's line terminators) split one event in two.

test("issue 11 finding 6: line separators from the API never split an event, in CEF, LEEF or JSON over TCP", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "mde-hostile-"));
  const separators = "one\u0085two\u2028three\u2029four";
  const items = [
    detection("sep1", ago(20_000), {
      AlertTitle: `Title ${separators}`,
      MachineName: `host\u2028evil`,
      Description: `Line ${separators}\r\nend\u2029`,
      CommandLine: "cmd.exe /c echo \u0085\u2028\u2029",
    }),
    detection("sep2", ago(10_000), { Category: "Mal\u2029ware", FileName: "\u2028.exe" }),
  ];
  const api = await startHostileApi(
    t,
    serve(() => items),
  );
  const receivers = {
    cef: await startReceiver({ protocol: "tcp", framing: "lf" }),
    leef: await startReceiver({ protocol: "tcp", framing: "lf" }),
    json: await startReceiver({ protocol: "tcp", framing: "lf" }),
  };
  const raw = hostileConfig({ api, receiverPort: receivers.cef.port, stateDir: dir });
  raw.destinations = Object.entries(receivers).map(([format, rx]) => ({
    name: format,
    format,
    protocol: "tcp",
    host: "127.0.0.1",
    port: rx.port,
    framing: "lf",
  }));
  const forwarder = buildForwarder(configSchema.parse(raw), { log: captureLog().log, confirmAfterMs: 50 });
  t.after(async () => {
    await forwarder.close();
    for (const rx of Object.values(receivers)) await rx.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const [polled] = await forwarder.pipeline.pollOnce();
  assert.equal(polled?.result.status, "ok");
  assert.equal(await forwarder.pipeline.drainUntilEmpty(1), true);
  for (const [format, rx] of Object.entries(receivers)) {
    await rx.waitUntil(() => rx.messages.length >= 2, `${format}: two messages`);
    assert.equal(rx.messages.length, 2, `${format}: one frame per detection`);
    assert.deepEqual(rx.framingErrors, []);
    for (const message of rx.messages) {
      // What a receiver that ends lines on any of them would see: still one line.
      assert.equal(message.split(/[\n\r\u0085\u2028\u2029]/).length, 1, `${format}: ${message}`);
    }
  }
  const cef = receivers.cef.messages.find((m) => m.includes("cs3=dasep1:hostile")) ?? "";
  assert.match(cef, /Title one two three four/);
  const leef = receivers.leef.messages.find((m) => m.includes("dasep1:hostile")) ?? "";
  assert.match(leef, /one two three four/);
  // JSON escapes them, so the SIEM reads back exactly what the API sent.
  const json = receivers.json.messages.map(
    (m) => JSON.parse(m.slice(m.indexOf("{"))) as Record<string, unknown>,
  );
  const sep1 = json.find((d) => d.FullId === "dasep1:hostile");
  assert.equal(sep1?.Description, items[0]?.Description);
  assert.equal(sep1?.MachineName, "host\u2028evil");
});
