import assert from "node:assert/strict";
import dgram from "node:dgram";
import { test } from "node:test";
import { ForwarderError } from "../../../src/errors.js";
import { createSink } from "../../../src/sink/index.js";
import { MAX_DATAGRAM_BYTES } from "../../../src/sink/udp.js";
import { startReceiver } from "../../support/receiver.js";
import { idOf, isCode, message, recordUp, sinkDeps, sinkOptions, turns } from "./helpers.js";

test("UDP: one message per datagram, no framing; up after a successful send", async (t) => {
  const rx = await startReceiver({ protocol: "udp" });
  t.after(() => rx.close());
  const up = recordUp();
  const sink = createSink(
    sinkOptions({ protocol: "udp", port: rx.port }),
    sinkDeps({ onUpChange: up.onUpChange }),
  );
  t.after(() => sink.close());
  const messages = Array.from({ length: 50 }, (_, i) => message(i, " with\nline break"));
  const result = await sink.send(messages);
  assert.deepEqual(result, { dropped: [] });
  await rx.waitForMessages(50);
  // Loopback keeps order in practice, but UDP promises nothing: compare as sets.
  assert.deepEqual(
    rx.messages.map(idOf).sort((a, b) => a - b),
    messages.map((_, i) => i),
  );
  assert.ok(
    rx.messages.every((m) => m.endsWith(" with\nline break")),
    "datagrams carry the message as is",
  );
  assert.equal(sink.up, true);
  assert.deepEqual(up.calls, [[true, undefined]]);
});

test("UDP: a 70,000-byte message is dropped as too_large, the others in the same send still go out", async (t) => {
  const rx = await startReceiver({ protocol: "udp" });
  t.after(() => rx.close());
  const sink = createSink(sinkOptions({ protocol: "udp", port: rx.port }), sinkDeps());
  t.after(() => sink.close());
  const largest = message(2) + "y".repeat(MAX_DATAGRAM_BYTES - message(2).length);
  const result = await sink.send([message(0), "x".repeat(70_000), largest, message(3)]);
  assert.deepEqual(result.dropped, [{ index: 1, reason: "too_large" }]);
  await rx.waitForMessages(3);
  assert.deepEqual(
    rx.messages.map(idOf).sort((a, b) => a - b),
    [0, 2, 3],
  );
  assert.ok(
    rx.messages.some((m) => m.length === MAX_DATAGRAM_BYTES),
    "65,507 bytes is still one datagram",
  );
});

test("UDP: a send of nothing but oversized messages reports them all and sends nothing", async (t) => {
  const rx = await startReceiver({ protocol: "udp" });
  t.after(() => rx.close());
  const sink = createSink(sinkOptions({ protocol: "udp", port: rx.port }), sinkDeps());
  t.after(() => sink.close());
  const result = await sink.send(["\0".repeat(70_000), "\0".repeat(MAX_DATAGRAM_BYTES + 1)]);
  assert.deepEqual(result.dropped, [
    { index: 0, reason: "too_large" },
    { index: 1, reason: "too_large" },
  ]);
  await sink.send([message(9)]);
  await rx.waitForMessages(1);
  assert.deepEqual(rx.messages.map(idOf), [9]);
});

test("UDP over IPv6: the socket family follows the resolved address", async (t) => {
  const rx = await startReceiver({ protocol: "udp", host: "::1" });
  t.after(() => rx.close());
  const sink = createSink(sinkOptions({ protocol: "udp", host: "::1", port: rx.port }), sinkDeps());
  t.after(() => sink.close());
  await sink.send([message(6)]);
  await rx.waitForMessages(1);
  assert.deepEqual(rx.messages.map(idOf), [6]);
});

test("UDP: sends settle in call order; close() waits for them, then leaves no handle", async () => {
  await turns();
  const before = process.getActiveResourcesInfo().filter((r) => r === "UDPWrap").length;
  const rx = await startReceiver({ protocol: "udp" });
  const sink = createSink(sinkOptions({ protocol: "udp", port: rx.port }), sinkDeps());
  const order: number[] = [];
  const sends = [
    sink.send([message(1), message(2)]).then(() => order.push(1)),
    sink.send(["\0".repeat(70_000)]).then(() => order.push(2)),
    sink.send([]).then(() => order.push(3)),
  ];
  const closing = sink.close();
  await assert.rejects(sink.send([message(4)]), isCode("E_SHUTDOWN"));
  await Promise.all(sends);
  await closing;
  assert.deepEqual(order, [1, 2, 3]);
  await rx.waitForMessages(2);
  await rx.close();
  await turns();
  assert.equal(process.getActiveResourcesInfo().filter((r) => r === "UDPWrap").length, before);
});

test("UDP: sends after close() reject E_SHUTDOWN even when nothing was ever sent", async () => {
  const sink = createSink(sinkOptions({ protocol: "udp", port: 9 }), sinkDeps());
  await sink.close();
  await assert.rejects(sink.send([message(1)]), (err: unknown) => {
    assert.ok(err instanceof ForwarderError);
    assert.equal(err.code, "E_SHUTDOWN");
    return true;
  });
  assert.equal(sink.up, false);
});

test("check() resolves the host and reports up; an unresolvable host is E_SINK_CONNECT", async (t) => {
  const good = createSink(sinkOptions({ protocol: "udp", port: 9 }), sinkDeps());
  t.after(() => good.close());
  await good.check();
  assert.equal(good.up, true);
  const bad = createSink(sinkOptions({ protocol: "udp", host: "no-such-host.invalid", port: 9 }), sinkDeps());
  t.after(() => bad.close());
  await assert.rejects(
    bad.check(),
    (err: unknown) => err instanceof ForwarderError && err.code === "E_SINK_CONNECT",
  );
  assert.equal(bad.up, false);
});

/** A UDP port on 127.0.0.1 that nothing listens on (it was bound a moment ago). */
async function closedUdpPort(): Promise<number> {
  const socket = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

test("issue 14, finding 5: a closed UDP port is a refused send (E_SINK_CONNECT), the destination down; a receiver there brings it back", async (t) => {
  const port = await closedUdpPort();
  const up = recordUp();
  const sink = createSink(sinkOptions({ protocol: "udp", port }), sinkDeps({ onUpChange: up.onUpChange }));
  t.after(() => sink.close());
  // Two sends in flight: the host's "port unreachable" fails both (the caller resends them).
  const first = sink.send([message(1)]);
  const second = sink.send([message(2), message(3)]);
  for (const send of [first, second]) {
    await assert.rejects(send, (err: unknown) => {
      assert.ok(err instanceof ForwarderError);
      assert.equal(err.code, "E_SINK_CONNECT");
      assert.match(
        err.message,
        /nothing listens at udp:\/\/127\.0\.0\.1:\d+: .*port unreachable.*ECONNREFUSED/,
      );
      return true;
    });
  }
  assert.equal(sink.up, false);
  assert.deepEqual(up.calls, [[false, "E_SINK_CONNECT"]]);
  // A health check cannot call it up again: only a send that gets through can.
  await assert.rejects(sink.check(), isCode("E_SINK_CONNECT"));
  assert.equal(sink.up, false);

  const rx = await startReceiver({ protocol: "udp", port });
  t.after(() => rx.close());
  assert.deepEqual(await sink.send([message(4)]), { dropped: [] });
  await rx.waitForMessages(1);
  assert.deepEqual(rx.messages.map(idOf), [4]);
  assert.equal(sink.up, true);
  await sink.check();
  assert.deepEqual(up.calls, [
    [false, "E_SINK_CONNECT"],
    [true, undefined],
  ]);
});

test("issue 14, finding 5: with no confirmation time, a refusal still marks the destination down", async (t) => {
  const port = await closedUdpPort();
  const up = recordUp();
  let down: () => void = () => {};
  const wentDown = new Promise<void>((resolve) => {
    down = resolve;
  });
  const sink = createSink(
    sinkOptions({ protocol: "udp", port }),
    sinkDeps({
      confirmAfterMs: 0,
      onUpChange: (isUp, error) => {
        up.onUpChange(isUp, error);
        if (!isUp) down();
      },
    }),
  );
  t.after(() => sink.close());
  // Resolved or refused, depending on whether the refusal beat the (zero) confirmation time: either way
  // the outage is reported.
  await sink.send([message(1)]).catch(() => undefined);
  await wentDown;
  assert.equal(sink.up, false);
  assert.equal(up.calls.at(-1)?.[1], "E_SINK_CONNECT");
});
