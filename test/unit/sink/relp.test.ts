// The RELP sink against a small RELP server on 127.0.0.1 port 0 (test/support/relp-server.ts): sends settle on
// the receiver's answers only, the window, what a lost connection costs (the confirmed part is reported,
// the rest resent on a new session from transaction 1), refusals (rsp 500), serverclose, protocol errors,
// timeouts, close, sessions replaced when their transaction numbers run out, TLS.
import assert from "node:assert/strict";
import net from "node:net";
import { test } from "node:test";
import { createLogger } from "../../../src/log.js";
import { createSink, PartialSendError, type Sink, type SinkOptions } from "../../../src/sink/index.js";
import { createRelpSink } from "../../../src/sink/relp.js";
import { type RelpServer, type RelpServerOptions, startRelpServer } from "../../support/relp-server.js";
import { hasOpenssl, makeTestPki } from "../../support/tls-certs.js";
import {
  batches,
  captureLog,
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

async function server(t: test.TestContext, options?: RelpServerOptions): Promise<RelpServer> {
  const relp = await startRelpServer(options);
  t.after(() => relp.close());
  return relp;
}

function relpOptions(port: number, overrides: Partial<SinkOptions> = {}): SinkOptions {
  return sinkOptions({ protocol: "relp", port, window_size: 128, tls_enabled: false, ...overrides });
}

function sinkFor(t: test.TestContext, ...args: Parameters<typeof createSink>): Sink {
  const sink = createSink(...args);
  t.after(() => sink.close(100));
  return sink;
}

/** Rejects with a PartialSendError: returns it (the assertion fails otherwise). */
async function partial(promise: Promise<unknown>, code: string): Promise<PartialSendError> {
  const err = await promise.then(
    () => assert.fail("expected a rejection"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof PartialSendError, `a PartialSendError, got ${String(err)}`);
  assert.equal(err.code, code);
  return err;
}

test("10,000 messages in pipelined sends: one session, all acknowledged in order, never more than the window unanswered", async (t) => {
  const relp = await server(t);
  const up = recordUp();
  const sink = sinkFor(
    t,
    relpOptions(relp.port, { window_size: 64 }),
    sinkDeps({ onUpChange: up.onUpChange }),
  );
  const all = batches(10_000, 500);
  const settled: number[] = [];
  const results = await Promise.all(
    all.map((batch, i) =>
      sink.send(batch).then((r) => {
        settled.push(i);
        return r;
      }),
    ),
  );
  assert.equal(relp.messages.length, 10_000, "everything arrived before the last send resolved");
  assert.deepEqual(
    relp.messages.map(idOf),
    Array.from({ length: 10_000 }, (_, i) => i),
  );
  assert.deepEqual(
    settled,
    all.map((_, i) => i),
    "sends settle in call order",
  );
  assert.ok(results.every((r) => r.dropped.length === 0));
  assert.equal(relp.accepted, 1);
  assert.equal(relp.opens, 1);
  assert.ok(relp.maxUnanswered <= 64, `at most the window unanswered (${relp.maxUnanswered})`);
  assert.ok(relp.maxUnanswered > 1, "the window is used: commands are pipelined");
  assert.deepEqual(relp.violations, [], "transaction numbers from 1, one by one; frames well formed");
  const offers = relp.openOffers[0] ?? "";
  assert.match(offers, /^relp_version=0$/m);
  assert.match(offers, /^commands=syslog$/m);
  assert.match(offers, /^relp_software=mde-siem-forwarder(,[0-9A-Za-z.+-]+)?$/m);
  assert.deepEqual(up.calls, [[true, undefined]]);
});

test("a send resolves on the receiver's rsp 200, not before; the window holds the rest back", async (t) => {
  const relp = await server(t);
  const sink = sinkFor(t, relpOptions(relp.port, { window_size: 50 }), sinkDeps());
  relp.hold();
  const first = watch(sink.send(batches(300, 300)[0] ?? []));
  await relp.waitForMessages(50);
  await turns(20);
  assert.equal(relp.messages.length, 50, "no more than the window goes out unanswered");
  assert.equal(first.settled, false, "written is not acknowledged");
  relp.release();
  await first.promise;
  assert.equal(relp.messages.length, 300);
  assert.equal(relp.maxUnanswered, 50);
});

test("a connection lost with answers outstanding: the confirmed part is reported, the rest resent on a new session from transaction 1", async (t) => {
  const relp = await server(t);
  const up = recordUp();
  const sink = sinkFor(
    t,
    relpOptions(relp.port, { window_size: 30 }),
    sinkDeps({ onUpChange: up.onUpChange }),
  );
  const [a = [], b = []] = batches(200, 100);
  // Answer the first 40, then nothing: 30 more are on the wire unanswered when the connection dies.
  relp.answerLimit = 40;
  const first = sink.send(a);
  const second = sink.send(b);
  await relp.waitForMessages(70);
  relp.killConnections();
  const failedA = await partial(first, "E_SINK_WRITE");
  assert.deepEqual(
    failedA.confirmed,
    Array.from({ length: 40 }, (_, i) => i),
    "exactly the answered messages are confirmed",
  );
  assert.equal(failedA.refused, 0);
  await assert.rejects(second, (err: unknown) => {
    assert.ok(!(err instanceof PartialSendError), "nothing of the second send was confirmed");
    return isCode("E_SINK_WRITE")(err);
  });
  assert.equal(sink.up, false);

  // What the caller does (the drain, from its outbox): send the unconfirmed again.
  relp.release();
  const resend = [...a.slice(40), ...b];
  await sink.send(resend);
  assert.equal(relp.opens, 2, "a new session");
  assert.deepEqual(relp.violations, [], "the new session starts at transaction 1 again");
  const counts = new Map<number, number>();
  for (const m of relp.messages) counts.set(idOf(m), (counts.get(idOf(m)) ?? 0) + 1);
  assert.equal(counts.size, 200, "every message arrived");
  const duplicates = relp.messages.length - 200;
  assert.equal(duplicates, 30, "the duplicates are what was on the wire unanswered: the window");
  assert.deepEqual(up.calls, [
    [true, undefined],
    [false, "E_SINK_WRITE"],
    [true, undefined],
  ]);
});

test("rsp 500: the refused messages are not confirmed, the others are; the session stays open", async (t) => {
  const relp = await server(t);
  const log = captureLog();
  const up = recordUp();
  const sink = sinkFor(t, relpOptions(relp.port), sinkDeps({ log: log.log, onUpChange: up.onUpChange }));
  relp.answerWith = (m) => (/ id=(3|7)$/.test(m) ? "500 queue full" : "200 OK");
  const failed = await partial(sink.send(batches(10, 10)[0] ?? []), "E_SINK_REJECTED");
  assert.deepEqual(failed.confirmed, [0, 1, 2, 4, 5, 6, 8, 9]);
  assert.equal(failed.refused, 2);
  assert.match(failed.message, /refused 2 of 10 messages: 500 queue full/);
  assert.equal(failed.errorClass, "retryable", "kept and sent again, never dropped");
  await log.waitFor((l) => l.msg.startsWith("Receiver refused messages"), "the refusal logged");
  // A refusal is an answer: the receiver is reachable, the session goes on.
  relp.answerWith = undefined;
  await sink.send([message(3), message(7)]);
  assert.equal(relp.accepted, 1);
  assert.equal(sink.up, true);
  assert.deepEqual(up.calls, [[true, undefined]]);
});

test("serverclose while idle costs nothing: the next send opens a new session", async (t) => {
  const relp = await server(t);
  const up = recordUp();
  const sink = sinkFor(t, relpOptions(relp.port), sinkDeps({ onUpChange: up.onUpChange }));
  await sink.send([message(1)]);
  relp.serverClose();
  await relp.waitUntil(() => relp.openConnections === 0, "the session closed");
  await sink.send([message(2)]);
  assert.equal(relp.opens, 2);
  assert.deepEqual(up.calls, [[true, undefined]], "never down");
});

test("serverclose with messages unanswered: their sends fail (and are resent by the caller)", async (t) => {
  const relp = await server(t);
  const sink = sinkFor(t, relpOptions(relp.port), sinkDeps());
  relp.hold();
  const pending = sink.send(batches(5, 5)[0] ?? []);
  await relp.waitForMessages(5);
  relp.serverClose();
  await assert.rejects(pending, (err: unknown) => {
    assert.match(String(err), /closed by the receiver/);
    return isCode("E_SINK_WRITE")(err);
  });
  assert.equal(sink.up, false);
});

test("a refused or incomplete open, a server that never answers it, and garbage: clear errors, sends fail", async (t) => {
  const relp = await server(t);
  relp.openAnswer = "500 required command not supported by client";
  const refused = sinkFor(t, relpOptions(relp.port), sinkDeps());
  await assert.rejects(refused.send([message(1)]), (err: unknown) => {
    assert.match(String(err), /refused the session: 500 required command not supported by client/);
    return isCode("E_SINK_PROTOCOL")(err);
  });
  relp.openAnswer = "200 OK\nrelp_version=0\ncommands=";
  await assert.rejects(refused.check(), /does not offer the syslog command/);

  relp.openAnswer = undefined;
  relp.ignoreOpen = true;
  const silent = sinkFor(t, relpOptions(relp.port, { connect_timeout: 200 }), sinkDeps());
  await assert.rejects(silent.send([message(1)]), (err: unknown) => {
    assert.match(String(err), /no answer to the RELP open from 127\.0\.0\.1:\d+ within 200 ms/);
    return isCode("E_SINK_TIMEOUT")(err);
  });

  // A listener that hangs up at once (going down, or not RELP): a refused connection, not a failed write.
  const hangUp = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => hangUp.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => hangUp.close(() => resolve())));
  const dropped = sinkFor(t, relpOptions((hangUp.address() as net.AddressInfo).port), sinkDeps());
  await assert.rejects(dropped.send([message(1)]), (err: unknown) => {
    assert.match(String(err), /dropped before the RELP session opened/);
    return isCode("E_SINK_CONNECT")(err);
  });

  relp.ignoreOpen = false;
  const garbage = sinkFor(t, relpOptions(relp.port), sinkDeps());
  await garbage.send([message(1)]);
  relp.hold();
  const pending = garbage.send([message(2)]);
  await relp.waitForMessages(2);
  relp.inject("HTTP/1.1 400 Bad Request\r\n\r\n");
  await assert.rejects(pending, (err: unknown) => {
    assert.match(String(err), /RELP framing error: a frame must start with a transaction number, got "H"/);
    return isCode("E_SINK_PROTOCOL")(err);
  });
  assert.equal(relp.messages.length, 2, "nothing was resent by the sink itself");
});

test("no answer for write_timeout with messages waiting fails the connection (E_SINK_TIMEOUT)", async (t) => {
  const relp = await server(t);
  const sink = sinkFor(t, relpOptions(relp.port, { write_timeout: 300 }), sinkDeps());
  await sink.send([message(0)]);
  relp.hold();
  const started = performance.now();
  await assert.rejects(sink.send([message(1), message(2)]), (err: unknown) => {
    assert.match(String(err), /no RELP answer from 127\.0\.0\.1:\d+ for 300 ms with 2 messages waiting/);
    return isCode("E_SINK_TIMEOUT")(err);
  });
  assert.ok(performance.now() - started >= 290, "not before the timeout");
  // An idle session is not timed out.
  relp.release();
  await sink.send([message(3)]);
  await new Promise((resolve) => setTimeout(resolve, 400));
  await sink.send([message(4)]);
  assert.equal(relp.opens, 2);
});

test("check() opens a session (up) or fails like a send; a dead port is E_SINK_CONNECT", async (t) => {
  const relp = await server(t);
  const sink = sinkFor(t, relpOptions(relp.port), sinkDeps());
  assert.equal(sink.up, false);
  await sink.check();
  assert.equal(sink.up, true);
  assert.equal(relp.opens, 1);
  await sink.check();
  assert.equal(relp.opens, 1, "an open session is enough");
  const dead = sinkFor(t, relpOptions(await freePort()), sinkDeps());
  await assert.rejects(dead.check(), isCode("E_SINK_CONNECT"));
  await assert.rejects(dead.send([message(1)]), isCode("E_SINK_CONNECT"));
});

test("close: waits for the answers, then closes the session with `close`; later sends are E_SHUTDOWN", async (t) => {
  const relp = await server(t);
  const sink = createRelpSink(relpOptions(relp.port), {
    log: sinkDeps().log,
    tracker: { up: true, markUp() {}, markDown() {} },
    tlsWatchIntervalMs: 30_000,
  });
  relp.hold();
  const pending = sink.send(batches(20, 20)[0] ?? []);
  await relp.waitForMessages(20);
  const closing = sink.close(5_000);
  await turns(10);
  relp.release();
  await pending;
  await closing;
  assert.equal(relp.closes, 1, "the session was closed with the close command");
  assert.deepEqual(relp.violations, []);
  await relp.waitUntil(() => relp.openConnections === 0, "the connection closed");
  await assert.rejects(sink.send([message(1)]), isCode("E_SHUTDOWN"));

  // Answers that do not come within the close timeout: E_SHUTDOWN, and nothing is left open.
  const stuck = createSink(relpOptions(relp.port), sinkDeps());
  relp.hold();
  const never = assert.rejects(stuck.send([message(2)]), isCode("E_SHUTDOWN"));
  await relp.waitForMessages(21);
  await stuck.close(100);
  await never;
  relp.release();
});

test("a session whose transaction numbers run out is closed politely and replaced; nothing is lost or doubled", async (t) => {
  const relp = await server(t);
  const log = createLogger({ level: "silent" });
  const sink = createRelpSink(relpOptions(relp.port, { window_size: 4 }), {
    log,
    tracker: { up: true, markUp() {}, markDown() {} },
    tlsWatchIntervalMs: 30_000,
    maxTxnr: 12,
  });
  t.after(() => sink.close(100));
  await Promise.all(batches(50, 7).map((batch) => sink.send(batch)));
  assert.deepEqual(
    relp.messages.map(idOf),
    Array.from({ length: 50 }, (_, i) => i),
    "each message once, in order",
  );
  // open, 10 syslog, close: 10 messages per session.
  assert.equal(relp.opens, 5);
  assert.ok(relp.closes >= 4, `old sessions closed with close (${relp.closes})`);
  assert.deepEqual(relp.violations, []);
});

test("RELP over TLS, with a client certificate; the receiver's certificate is verified", {
  skip: !hasOpenssl(),
}, async (t) => {
  const pki = makeTestPki({ client: true });
  t.after(() => pki.cleanup());
  const relp = await server(t, {
    tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca, requestCert: true },
  });
  const tlsOptions = {
    ca_file: pki.caFile,
    cert_file: pki.client?.certFile,
    key_file: pki.client?.keyFile,
    server_name: "localhost",
    reject_unauthorized: true,
  };
  const sink = sinkFor(t, relpOptions(relp.port, { tls_enabled: true, tls: tlsOptions }), sinkDeps());
  await sink.send(batches(100, 100)[0] ?? []);
  assert.equal(relp.messages.length, 100);
  assert.deepEqual(relp.clientCertificates, ["mde-forwarder-test-client"]);

  // The same server without TLS on our side is not a RELP answer: the session never opens.
  const plain = sinkFor(t, relpOptions(relp.port, { connect_timeout: 300 }), sinkDeps());
  await assert.rejects(plain.send([message(1)]), (err: unknown) =>
    ["E_SINK_TIMEOUT", "E_SINK_CONNECT", "E_SINK_PROTOCOL"].includes(
      String((err as { code?: unknown }).code),
    ),
  );
  // A server name the certificate does not cover is refused by our side.
  const wrongName = sinkFor(
    t,
    relpOptions(relp.port, {
      tls_enabled: true,
      tls: { ...tlsOptions, server_name: "not-the-server.example" },
    }),
    sinkDeps(),
  );
  await assert.rejects(wrongName.send([message(1)]), isCode("E_SINK_TLS"));
});
