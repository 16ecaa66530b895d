import assert from "node:assert/strict";
import net from "node:net";
import { test } from "node:test";
import { ForwarderError } from "../../../src/errors.js";
import { createLogger } from "../../../src/log.js";
import { createSink, type Sink } from "../../../src/sink/index.js";
import { type Receiver, startReceiver } from "../../support/receiver.js";
import {
  batches,
  freePort,
  idOf,
  isCode,
  message,
  recordUp,
  sinkDeps,
  sinkOptions,
  turns,
  watch,
} from "./helpers.js";

async function receiver(
  t: test.TestContext,
  options: Parameters<typeof startReceiver>[0],
): Promise<Receiver> {
  const rx = await startReceiver(options);
  t.after(() => rx.close());
  return rx;
}

function sinkFor(t: test.TestContext, ...args: Parameters<typeof createSink>): Sink {
  const sink = createSink(...args);
  t.after(() => sink.close(100));
  return sink;
}

for (const framing of ["lf", "octet-counting"] as const) {
  test(`${framing}: 10,000 messages in pipelined sends arrive complete, in order, and settle in call order`, async (t) => {
    const rx = await receiver(t, { protocol: "tcp", framing });
    const up = recordUp();
    const sink = sinkFor(t, sinkOptions({ port: rx.port, framing }), sinkDeps({ onUpChange: up.onUpChange }));
    // Octet counting is transparent: a line break and multibyte text must survive it.
    const extra = framing === "octet-counting" ? " multi\nline é€😀" : " é€😀";
    const all = batches(10_000, 100).map((batch) => batch.map((m) => m + extra));

    const settled: number[] = [];
    const results = await Promise.all(
      all.map((batch, i) =>
        sink.send(batch).then((result) => {
          settled.push(i);
          return result;
        }),
      ),
    );

    await rx.waitForMessages(10_000);
    assert.equal(rx.messages.length, 10_000);
    rx.messages.forEach((text, i) => {
      assert.equal(idOf(text), i);
      assert.ok(text.endsWith(extra), `message ${i} intact`);
    });
    assert.deepEqual(
      settled,
      all.map((_, i) => i),
    );
    assert.ok(results.every((r) => r.dropped.length === 0));
    assert.equal(rx.accepted, 1, "one connection for all sends");
    assert.equal(sink.up, true);
    assert.deepEqual(up.calls, [[true, undefined]]);
  });
}

test("lf framing keeps a message with a raw line break in one event", async (t) => {
  const rx = await receiver(t, { protocol: "tcp", framing: "lf" });
  const sink = sinkFor(t, sinkOptions({ port: rx.port }), sinkDeps());
  await sink.send(["<13>first\nsecond\r\nthird", "<13>next"]);
  await rx.waitForMessages(2);
  assert.deepEqual(rx.messages, ["<13>first second  third", "<13>next"]);
});

test("a written send stays unconfirmed until the connection stayed healthy; a reset rejects it", async (t) => {
  const rx = await receiver(t, { protocol: "tcp" });
  const up = recordUp();
  const sink = sinkFor(
    t,
    sinkOptions({ port: rx.port }),
    sinkDeps({ confirmAfterMs: 60_000, onUpChange: up.onUpChange }),
  );
  const pending = watch(sink.send([message(1), message(2)]));
  // The receiver has the bytes, so the write completed; still no confirmation.
  await rx.waitForMessages(2);
  await turns();
  assert.equal(pending.settled, false);

  rx.killConnections();
  await assert.rejects(pending.promise, (err: unknown) => {
    assert.ok(err instanceof ForwarderError);
    assert.equal(err.code, "E_SINK_WRITE");
    assert.equal(err.errorClass, "retryable");
    assert.match(err.message, /127\.0\.0\.1:\d+/);
    assert.doesNotMatch(err.message, /msg id=/, "no payload in errors");
    return true;
  });
  assert.equal(sink.up, false);
  assert.deepEqual(up.calls, [
    [true, undefined],
    [false, "E_SINK_WRITE"],
  ]);
});

test("the receiver closing the connection (FIN) rejects unconfirmed sends", async (t) => {
  const rx = await receiver(t, { protocol: "tcp" });
  const sink = sinkFor(t, sinkOptions({ port: rx.port }), sinkDeps({ confirmAfterMs: 60_000 }));
  const pending = handled(sink.send([message(1)]));
  await rx.waitForMessages(1);
  await rx.stop({ abrupt: false });
  await assert.rejects(pending, (err: unknown) => {
    assert.ok(err instanceof ForwarderError);
    assert.equal(err.code, "E_SINK_WRITE");
    assert.match(err.message, /closed by the receiver/);
    return true;
  });
});

test("receiver killed mid-stream: confirmed sends had arrived, the rest is rejected, resending conserves every id", async (t) => {
  const rx = await receiver(t, { protocol: "tcp" });
  const sink = sinkFor(t, sinkOptions({ port: rx.port }), sinkDeps({ confirmAfterMs: 50 }));
  const all = batches(3_000, 30);
  const confirmed = new Set<number>();
  const rejected: number[] = [];
  const codes = new Set<string>();
  let confirmedAtKill: number[] | undefined;
  let arrivedAtKill: Set<number> | undefined;
  let restarted: Promise<void> | undefined;

  // A drain loop like the pipeline's: four sends in flight; a failed batch is kept for later.
  let next = 0;
  const worker = async () => {
    while (next < all.length) {
      const i = next++;
      try {
        await sink.send(all[i] ?? []);
        confirmed.add(i);
        if (confirmed.size === 20 && restarted === undefined) {
          // Kill after one turn of I/O, as a crash would: the receiver is in this process and
          // must first get the chance to read what the kernel already holds for it.
          restarted = new Promise((resolve, reject) =>
            setImmediate(() => {
              confirmedAtKill = [...confirmed];
              arrivedAtKill = new Set(rx.messages.map(idOf));
              rx.stop({ abrupt: true })
                .then(() => rx.start())
                .then(resolve, reject);
            }),
          );
        }
      } catch (err) {
        codes.add((err as ForwarderError).code);
        rejected.push(i);
      }
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  await restarted;

  assert.ok(confirmedAtKill !== undefined && arrivedAtKill !== undefined, "the kill happened");
  const lost = confirmedAtKill
    .flatMap((i) => (all[i] ?? []).map((m) => idOf(m.toString())))
    .filter((id) => !arrivedAtKill?.has(id));
  assert.deepEqual(lost, [], "every message of a confirmed send had arrived before the kill");
  assert.ok(rejected.length > 0, "sends in flight at the kill were rejected");
  for (const code of codes) assert.ok(["E_SINK_WRITE", "E_SINK_CONNECT"].includes(code), code);

  // The caller resends what was rejected, after the receiver is back.
  const resend = rejected.sort((a, b) => a - b).flatMap((i) => all[i] ?? []);
  await sink.send(resend);
  assert.equal(sink.up, true);
  await rx.waitUntil(() => new Set(rx.messages.map(idOf)).size === 3_000, "every id");
  const ids = new Set(rx.messages.map(idOf));
  for (let id = 0; id < 3_000; id++) assert.ok(ids.has(id), `id ${id} arrived`);
});

test("receiver not listening: the send rejects E_SINK_CONNECT, up goes false, a later success flips it back", async (t) => {
  const port = await freePort();
  const up = recordUp();
  const sink = sinkFor(
    t,
    sinkOptions({ port, connect_timeout: 60_000 }),
    sinkDeps({ onUpChange: up.onUpChange }),
  );
  assert.equal(sink.up, false);
  await assert.rejects(sink.send([message(1)]), (err: unknown) => {
    assert.ok(err instanceof ForwarderError);
    assert.equal(err.code, "E_SINK_CONNECT");
    assert.match(err.message, /ECONNREFUSED/);
    assert.equal(err.details.port, port);
    return true;
  });
  assert.equal(sink.up, false);
  assert.deepEqual(up.calls, [[false, "E_SINK_CONNECT"]]);

  // A second failure while down is not a transition.
  await assert.rejects(sink.send([message(2)]), isCode("E_SINK_CONNECT"));
  assert.equal(up.calls.length, 1);

  const rx = await receiver(t, { protocol: "tcp", port });
  await sink.send([message(3)]);
  assert.equal(sink.up, true);
  assert.deepEqual(up.calls, [
    [false, "E_SINK_CONNECT"],
    [true, undefined],
  ]);
  await rx.waitForMessages(1);
  assert.equal(idOf(rx.messages[0] ?? ""), 3);
});

test("logs a warning once when the destination goes down, info when it is back, never the payload", async (t) => {
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger({
    level: "debug",
    destination: { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
  });
  const port = await freePort();
  const sink = sinkFor(t, sinkOptions({ name: "siem", port }), sinkDeps({ log }));
  await assert.rejects(sink.send([message(1)]), isCode("E_SINK_CONNECT"));
  await assert.rejects(sink.send([message(2)]), isCode("E_SINK_CONNECT"));
  await receiver(t, { protocol: "tcp", port });
  await sink.send([message(3)]);

  const at = (level: string) => lines.filter((l) => l.level === level);
  assert.equal(at("warn").length, 1, "one warning for the outage, not one per retry");
  assert.equal(at("warn")[0]?.code, "E_SINK_CONNECT");
  assert.equal(at("warn")[0]?.destination, "siem");
  assert.ok(
    at("debug").some((l) => l.code === "E_SINK_CONNECT"),
    "the retry while down is logged at debug",
  );
  assert.equal(at("info").at(-1)?.msg, "Destination is reachable again.");
  assert.ok(!lines.some((l) => JSON.stringify(l).includes("msg id=")), "no payload in logs");
});

test("every send waiting for the same connect attempt shares its failure", async (t) => {
  const port = await freePort();
  const sink = sinkFor(t, sinkOptions({ port }), sinkDeps());
  const results = await Promise.allSettled([sink.send([message(1)]), sink.send([message(2)])]);
  for (const r of results) {
    assert.equal(r.status, "rejected");
    assert.equal((r.reason as ForwarderError).code, "E_SINK_CONNECT");
  }
});

test("a receiver that accepts but never reads: write_timeout fires, E_SINK_TIMEOUT, the socket is destroyed", async (t) => {
  const rx = await receiver(t, { protocol: "tcp", neverRead: true });
  const up = recordUp();
  const sink = sinkFor(
    t,
    sinkOptions({ port: rx.port, write_timeout: 300 }),
    sinkDeps({ onUpChange: up.onUpChange }),
  );
  // More than the kernel buffers of both ends can hold.
  const chunk = "a".repeat(1024 * 1024);
  const payload = Array.from({ length: 32 }, () => chunk);
  const first = handled(sink.send(payload));
  const second = handled(sink.send([message(1)]));
  await assert.rejects(first, (err: unknown) => {
    assert.ok(err instanceof ForwarderError);
    assert.equal(err.code, "E_SINK_TIMEOUT");
    assert.match(err.message, /timed out after 300 ms/);
    return true;
  });
  await assert.rejects(second, isCode("E_SINK_TIMEOUT"));
  assert.equal(sink.up, false);
  assert.deepEqual(up.calls, [
    [true, undefined],
    [false, "E_SINK_TIMEOUT"],
  ]);
  // The stuck connection was dropped: the next (small) send opens a new one.
  await sink.send([message(2)]);
  assert.equal(rx.accepted, 2);
  assert.equal(sink.up, true);
});

test("data sent by the receiver is read and discarded", async (t) => {
  const received: Buffer[] = [];
  const server = net.createServer((socket) => {
    socket.write("not a syslog receiver\n".repeat(1000));
    socket.on("data", (d: Buffer) => received.push(d));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address() as net.AddressInfo;
  const sink = createSink(sinkOptions({ port: address.port }), sinkDeps());
  await sink.send([message(7)]);
  await sink.close();
  assert.match(Buffer.concat(received).toString(), /id=7\n$/);
});

test("an empty send resolves after the sends before it, with nothing dropped", async (t) => {
  const rx = await receiver(t, { protocol: "tcp" });
  const sink = sinkFor(t, sinkOptions({ port: rx.port }), sinkDeps());
  const order: string[] = [];
  await Promise.all([
    sink.send([message(1)]).then(() => order.push("full")),
    sink.send([]).then((r) => {
      order.push("empty");
      assert.deepEqual(r.dropped, []);
    }),
  ]);
  assert.deepEqual(order, ["full", "empty"]);
  assert.deepEqual(await sink.send([]), { dropped: [] });
});

test("close() lets an in-flight send confirm, ends the connection and leaves no handle", async () => {
  await turns();
  const before = leakyHandles();
  const rx = await startReceiver({ protocol: "tcp" });
  const sink = createSink(sinkOptions({ port: rx.port }), sinkDeps({ confirmAfterMs: 100 }));
  const inFlight = sink.send([message(1), message(2)]);
  const closing = sink.close();
  assert.strictEqual(sink.close(), closing, "idempotent");
  await assert.rejects(sink.send([message(3)]), isCode("E_SHUTDOWN"));
  assert.deepEqual(await inFlight, { dropped: [] });
  await closing;
  // The receiver sees our FIN: a graceful end, not a reset.
  await rx.waitUntil(() => rx.openConnections === 0, "the connection to close");
  assert.deepEqual(rx.messages.map(idOf), [1, 2]);
  await rx.close();
  await turns();
  const after = leakyHandles();
  for (const name of LEAKY) assert.ok(count(after, name) <= count(before, name), `${name} left open`);
});

test("close(timeoutMs) rejects what cannot be confirmed in time with E_SHUTDOWN", async (t) => {
  const rx = await receiver(t, { protocol: "tcp", neverRead: true });
  const sink = createSink(sinkOptions({ port: rx.port, write_timeout: 60_000 }), sinkDeps());
  const stuck = handled(sink.send(Array.from({ length: 32 }, () => "b".repeat(1024 * 1024))));
  await rx.waitForConnections(1);
  const before = leakyHandles();
  await sink.close(200);
  await assert.rejects(stuck, (err: unknown) => {
    assert.ok(err instanceof ForwarderError);
    assert.equal(err.code, "E_SHUTDOWN");
    assert.match(err.message, /close timeout/);
    return true;
  });
  // Our end of the connection is gone (the receiver, which never reads, cannot notice).
  assert.ok(count(leakyHandles(), "TCPSocketWrap") < count(before, "TCPSocketWrap"));
});

test("close() on a sink that never connected resolves at once; a connect in progress is abandoned", async (t) => {
  const idle = createSink(sinkOptions({ port: 9 }), sinkDeps());
  await idle.close();
  await assert.rejects(idle.send([message(1)]), isCode("E_SHUTDOWN"));

  // A TCP listener with a full backlog is hard to make portably; a paused TLS handshake is not.
  const rx = await receiver(t, { protocol: "tcp", neverRead: true });
  const sink = createSink(
    sinkOptions({ port: rx.port, protocol: "tls", connect_timeout: 60_000 }),
    sinkDeps(),
  );
  const connecting = handled(sink.send([message(1)]));
  await rx.waitForConnections(1);
  const before = leakyHandles();
  await sink.close(100);
  await assert.rejects(connecting, isCode("E_SHUTDOWN"));
  assert.ok(count(leakyHandles(), "TCPSocketWrap") < count(before, "TCPSocketWrap"));
});

const LEAKY = new Set(["TCPSocketWrap", "TCPServerWrap", "TCPWrap", "UDPWrap", "TLSWrap"]);

function count(handles: string[], name: string): number {
  return handles.filter((h) => h === name).length;
}

/** Marks a rejection as handled now; the test asserts on it later. */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}

function leakyHandles(): string[] {
  return process
    .getActiveResourcesInfo()
    .filter((r) => LEAKY.has(r))
    .sort();
}

test("check() connects when idle and reports the destination's health without sending", async (t) => {
  const port = await freePort();
  const up = recordUp();
  const sink = createSink(sinkOptions({ port }), sinkDeps({ onUpChange: up.onUpChange }));
  t.after(() => sink.close());
  await assert.rejects(
    sink.check(),
    (err: unknown) => err instanceof ForwarderError && err.code === "E_SINK_CONNECT",
  );
  assert.equal(sink.up, false);
  assert.deepEqual(up.calls, [[false, "E_SINK_CONNECT"]]);
  const rx = await startReceiver({ protocol: "tcp", port });
  t.after(() => rx.close());
  await sink.check();
  assert.equal(sink.up, true);
  await rx.waitForConnections(1);
  await sink.check(); // an open connection: no new connect
  assert.equal(rx.accepted, 1);
  assert.equal(rx.messages.length, 0, "a health check sends nothing");
  assert.deepEqual(up.calls, [
    [false, "E_SINK_CONNECT"],
    [true, undefined],
  ]);
});
