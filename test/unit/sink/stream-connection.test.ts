// The stream sink's connection state machine (src/sink/stream-connection.ts), one test per row of its
// transition table, on a fake clock and a fake socket adapter: no socket, no real timer, milliseconds in
// all. The real-socket behaviour is tcp.test.ts's and tls.test.ts's; these pin every transition.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ForwarderError } from "../../../src/errors.js";
import {
  createStreamConnection,
  RETIRE_GRACE_MS,
  type StreamConnection,
  type StreamState,
} from "../../../src/sink/stream-connection.js";
import type { UpTracker } from "../../../src/sink/types.js";
import { createFakeClock, type FakeClock, settle } from "../../support/fake-clock.js";
import { connectError, createFakeTransport, type FakeSocket, type FakeTransport } from "./fake-transport.js";
import { captureLog, type LogCapture, sinkOptions } from "./helpers.js";

const CONFIRM_MS = 100;
const WRITE_TIMEOUT_MS = 1_000;

interface Outcome {
  readonly settled: boolean;
  readonly resolved: boolean;
  /** The rejection's code, once rejected. */
  readonly code: string | undefined;
  readonly error: ForwarderError | undefined;
}

function track(promise: Promise<unknown>): Outcome {
  const outcome = {
    settled: false,
    resolved: false,
    code: undefined as string | undefined,
    error: undefined as ForwarderError | undefined,
  };
  promise.then(
    () => {
      outcome.settled = true;
      outcome.resolved = true;
    },
    (err: unknown) => {
      outcome.settled = true;
      outcome.error = err as ForwarderError;
      outcome.code = (err as ForwarderError).code;
    },
  );
  return outcome;
}

interface Harness {
  readonly clock: FakeClock;
  readonly transport: FakeTransport;
  readonly conn: StreamConnection;
  readonly logs: LogCapture;
  /** "up" and "down:<code>", in order. */
  readonly upCalls: string[];
  readonly sends: Outcome[];
  readonly checks: Outcome[];
  /** Sends message `id` (framed as `m<id>`). */
  send(id: number): Outcome;
  check(): Outcome;
  /** The current socket. */
  socket(): FakeSocket;
  closing: Promise<void> | undefined;
  close(timeoutMs?: number): Promise<void>;
}

function harness(overrides: { tls?: boolean } = {}): Harness {
  const clock = createFakeClock();
  const transport = createFakeTransport();
  const logs = captureLog();
  const upCalls: string[] = [];
  let up = false;
  const tracker: UpTracker = {
    get up() {
      return up;
    },
    markUp() {
      up = true;
      upCalls.push("up");
    },
    markDown(error) {
      up = false;
      upCalls.push(`down:${error.code}`);
    },
  };
  const sink = sinkOptions({
    port: 514,
    write_timeout: WRITE_TIMEOUT_MS,
    ...(overrides.tls ? { protocol: "tls" as const, framing: "octet-counting" as const } : {}),
  });
  const conn = createStreamConnection(
    { sink, confirmAfterMs: CONFIRM_MS },
    { log: logs.log, tracker, transport, clock },
  );
  const h: Harness = {
    clock,
    transport,
    conn,
    logs,
    upCalls,
    sends: [],
    checks: [],
    send(id) {
      const outcome = track(conn.send(Buffer.from(`m${id}`)));
      h.sends.push(outcome);
      return outcome;
    },
    check() {
      const outcome = track(conn.check());
      h.checks.push(outcome);
      return outcome;
    },
    socket: () => transport.lastSocket(),
    closing: undefined,
    close(timeoutMs = 5_000) {
      h.closing = conn.close(timeoutMs);
      return h.closing;
    },
  };
  return h;
}

const writesOf = (socket: FakeSocket): string[] => socket.writes.map((w) => w.text);

/** How each starting state of the table is reached. */
const START = {
  idle: async (_h: Harness) => {},
  /** A send waits for the attempt. */
  connecting: async (h: Harness) => {
    h.send(1);
  },
  /** Open, nothing in flight (a check opened it). */
  open: async (h: Harness) => {
    h.check();
    h.transport.lastAttempt().succeed();
    await settle();
  },
  /** Open, send 1 written and its write completed, not yet confirmed. */
  "open, 1 in flight": async (h: Harness) => {
    h.send(1);
    h.transport.lastAttempt().succeed();
    h.socket().completeWrites();
    await settle();
  },
  /** Open, send 1 written, its write not completed (the kernel has not taken it). */
  "open, 1 write pending": async (h: Harness) => {
    h.send(1);
    h.transport.lastAttempt().succeed();
    await settle();
  },
  /** Retiring with send 1 in flight (TLS files rotated). */
  retiring: async (h: Harness) => {
    await START["open, 1 in flight"](h);
    h.socket().events.onRotate();
  },
  /** Retiring with send 1 written and its write not completed. */
  "retiring, 1 write pending": async (h: Harness) => {
    await START["open, 1 write pending"](h);
    h.socket().events.onRotate();
  },
} satisfies Record<string, (h: Harness) => Promise<void>>;

interface Row {
  readonly from: keyof typeof START;
  readonly event: string;
  readonly to: StreamState;
  readonly act: (h: Harness) => unknown;
  readonly effects: (h: Harness) => void;
}

const ROWS: Row[] = [
  {
    from: "idle",
    event: "send",
    to: "connecting",
    act: (h) => h.send(1),
    effects: (h) => {
      assert.equal(h.transport.attempts.length, 1);
      assert.equal(h.sends[0]?.settled, false);
    },
  },
  {
    from: "idle",
    event: "check",
    to: "connecting",
    act: (h) => h.check(),
    effects: (h) => {
      assert.equal(h.transport.attempts.length, 1);
      assert.equal(h.checks[0]?.settled, false);
    },
  },
  {
    from: "connecting",
    event: "send",
    to: "connecting",
    act: (h) => h.send(2),
    effects: (h) => assert.equal(h.transport.attempts.length, 1, "one attempt serves every send"),
  },
  {
    from: "connecting",
    event: "check",
    to: "connecting",
    act: (h) => h.check(),
    effects: (h) => assert.equal(h.transport.attempts.length, 1),
  },
  {
    from: "connecting",
    event: "connected",
    to: "open",
    act: (h) => {
      h.send(2);
      h.check();
      h.transport.lastAttempt().succeed();
    },
    effects: (h) => {
      assert.deepEqual(h.upCalls, ["up"]);
      assert.equal(h.checks[0]?.resolved, true);
      assert.deepEqual(writesOf(h.socket()), ["m1", "m2"], "queued sends written in call order");
      assert.equal(h.socket().watching, true, "the TLS files are watched while it is open");
    },
  },
  {
    from: "connecting",
    event: "connect failed",
    to: "idle",
    act: (h) => {
      h.check();
      h.transport.lastAttempt().fail(connectError());
    },
    effects: (h) => {
      assert.deepEqual(h.upCalls, ["down:E_SINK_CONNECT"]);
      assert.equal(h.sends[0]?.code, "E_SINK_CONNECT");
      assert.equal(h.checks[0]?.code, "E_SINK_CONNECT");
    },
  },
  {
    from: "open",
    event: "send",
    to: "open",
    act: (h) => h.send(2),
    effects: (h) => assert.deepEqual(writesOf(h.socket()), ["m2"], "written at once"),
  },
  {
    from: "open",
    event: "send on a blocked socket",
    to: "open",
    act: (h) => {
      h.socket().blocked = true;
      h.send(2);
      h.send(3);
    },
    effects: (h) => assert.deepEqual(writesOf(h.socket()), ["m2"], "the rest waits for drain"),
  },
  {
    from: "open",
    event: "drain",
    to: "open",
    act: (h) => {
      h.socket().blocked = true;
      h.send(2);
      h.send(3);
      h.socket().blocked = false;
      h.socket().events.onDrain();
    },
    effects: (h) => assert.deepEqual(writesOf(h.socket()), ["m2", "m3"]),
  },
  {
    from: "open",
    event: "check",
    to: "open",
    act: (h) => h.check(),
    effects: (h) => {
      assert.equal(h.checks.at(-1)?.resolved, true);
      assert.equal(h.transport.attempts.length, 1);
    },
  },
  {
    from: "open, 1 write pending",
    event: "write done",
    to: "open",
    act: (h) => h.socket().completeWrites(),
    effects: (h) => {
      assert.equal(h.clock.nextAt, h.clock.now() + CONFIRM_MS, "the confirm timer runs");
      assert.equal(h.sends[0]?.settled, false, "written is not confirmed");
    },
  },
  {
    from: "open, 1 in flight",
    event: "confirm timer",
    to: "open",
    act: async (h) => {
      await h.clock.advance(CONFIRM_MS / 2);
      h.send(2);
      h.socket().completeWrites();
      await h.clock.advance(CONFIRM_MS / 2);
    },
    effects: (h) => {
      assert.equal(h.sends[0]?.resolved, true, "confirmed after confirmAfterMs on a healthy connection");
      assert.equal(h.sends[1]?.settled, false, "the later send waits for its own delay");
      assert.equal(h.clock.pending, 1, "the timer is armed again for it");
    },
  },
  {
    from: "open, 1 write pending",
    event: "write timeout",
    to: "idle",
    act: (h) => h.clock.advance(WRITE_TIMEOUT_MS),
    effects: (h) => {
      assert.equal(h.sends[0]?.code, "E_SINK_TIMEOUT");
      assert.equal(h.transport.sockets[0]?.destroyed, true);
      assert.deepEqual(h.upCalls, ["up", "down:E_SINK_TIMEOUT"]);
      assert.equal(h.clock.pending, 0, "no timer left");
    },
  },
  {
    from: "open, 1 in flight",
    event: "end (FIN from the receiver)",
    to: "idle",
    act: (h) => h.socket().events.onEnd(),
    effects: (h) => {
      assert.equal(h.sends[0]?.code, "E_SINK_WRITE");
      assert.match(String(h.sends[0]?.error?.message), /closed by the receiver/);
      assert.equal(h.transport.sockets[0]?.destroyed, true);
      assert.equal(h.transport.sockets[0]?.watching, false);
      assert.deepEqual(h.upCalls, ["up", "down:E_SINK_WRITE"]);
      assert.equal(h.clock.pending, 0, "the confirm timer is gone");
    },
  },
  {
    from: "open, 1 in flight",
    event: "error (reset)",
    to: "idle",
    act: (h) =>
      h.socket().events.onError(Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" })),
    effects: (h) => {
      assert.equal(h.sends[0]?.code, "E_SINK_WRITE");
      assert.match(String(h.sends[0]?.error?.message), /ECONNRESET/);
    },
  },
  {
    from: "open, 1 in flight",
    event: "error (a TLS alert)",
    to: "idle",
    act: (h) =>
      h
        .socket()
        .events.onError(Object.assign(new Error("alert"), { code: "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA" })),
    effects: (h) => assert.equal(h.sends[0]?.code, "E_SINK_TLS"),
  },
  {
    from: "open, 1 in flight",
    event: "close",
    to: "idle",
    act: (h) => h.socket().events.onClose(),
    effects: (h) => {
      assert.equal(h.sends[0]?.code, "E_SINK_WRITE");
      assert.match(String(h.sends[0]?.error?.message), /127\.0\.0\.1:514 closed$/);
    },
  },
  {
    from: "open, 1 write pending",
    event: "write error",
    to: "idle",
    act: (h) => h.socket().writes[0]?.complete(Object.assign(new Error("EPIPE"), { code: "EPIPE" })),
    effects: (h) => {
      assert.equal(h.sends[0]?.code, "E_SINK_WRITE");
      assert.equal(h.transport.sockets[0]?.destroyed, true);
    },
  },
  {
    from: "open",
    event: "end with nothing in flight",
    to: "idle",
    act: (h) => h.socket().events.onEnd(),
    effects: (h) => {
      assert.deepEqual(h.upCalls, ["up"], "a receiver's idle timeout is no failure");
      assert.ok(h.logs.lines.some((l) => l.msg === "Idle connection lost." && l.level === "debug"));
    },
  },
  {
    from: "open",
    event: "TLS error with nothing in flight",
    to: "idle",
    act: (h) =>
      h
        .socket()
        .events.onError(Object.assign(new Error("alert"), { code: "ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE" })),
    effects: (h) => assert.deepEqual(h.upCalls, ["up", "down:E_SINK_TLS"], "the next connect would fail too"),
  },
  {
    from: "open, 1 in flight",
    event: "TLS files rotated",
    to: "retiring",
    act: (h) => h.socket().events.onRotate(),
    effects: (h) => {
      assert.equal(h.socket().endedWithGrace, undefined, "not ended while a send is in flight");
      assert.equal(h.sends[0]?.settled, false);
    },
  },
  {
    from: "open",
    event: "TLS files rotated, nothing in flight",
    to: "idle",
    act: (h) => h.socket().events.onRotate(),
    effects: (h) => {
      assert.equal(h.socket().endedWithGrace, RETIRE_GRACE_MS, "ended politely at once");
      assert.equal(h.socket().destroyed, false);
      assert.equal(h.transport.attempts.length, 1, "no reconnect without a send");
    },
  },
  {
    from: "retiring",
    event: "send",
    to: "retiring",
    act: (h) => h.send(2),
    effects: (h) => {
      assert.deepEqual(writesOf(h.socket()), ["m1"], "nothing new on a retiring connection");
      assert.equal(h.transport.attempts.length, 1, "and no new one yet");
    },
  },
  {
    from: "retiring",
    event: "check",
    to: "retiring",
    act: (h) => h.check(),
    effects: (h) => assert.equal(h.checks[0]?.resolved, true, "the connection still works"),
  },
  {
    from: "retiring",
    event: "confirm timer, the last in flight confirmed",
    to: "connecting",
    act: async (h) => {
      h.send(2);
      await h.clock.advance(CONFIRM_MS);
    },
    effects: (h) => {
      assert.equal(h.sends[0]?.resolved, true, "confirmed on the old connection");
      assert.equal(h.transport.sockets[0]?.endedWithGrace, RETIRE_GRACE_MS, "which is ended politely");
      assert.equal(h.transport.sockets[0]?.destroyed, false);
      assert.equal(h.transport.attempts.length, 2, "the queued send opens the next connection");
      assert.equal(h.sends[1]?.settled, false);
    },
  },
  {
    from: "retiring",
    event: "end",
    to: "idle",
    act: (h) => {
      h.send(2);
      h.socket().events.onEnd();
    },
    effects: (h) => {
      assert.equal(h.sends[0]?.code, "E_SINK_WRITE");
      assert.equal(h.sends[1]?.code, "E_SINK_WRITE", "the queued send fails with it");
      assert.equal(h.transport.attempts.length, 1);
    },
  },
  {
    from: "retiring, 1 write pending",
    event: "write timeout",
    to: "idle",
    act: (h) => h.clock.advance(WRITE_TIMEOUT_MS),
    effects: (h) => {
      assert.equal(h.sends[0]?.code, "E_SINK_TIMEOUT");
      assert.equal(h.transport.sockets[0]?.destroyed, true);
      assert.equal(h.transport.sockets[0]?.endedWithGrace, undefined, "cut, not ended politely");
    },
  },
];

describe("stream connection: the transition table", () => {
  for (const row of ROWS) {
    test(`${row.from} + ${row.event} -> ${row.to}`, async () => {
      const h = harness();
      await START[row.from](h);
      await row.act(h);
      await settle();
      assert.equal(h.conn.state, row.to);
      row.effects(h);
    });
  }
});

/** close(): the sink's closing phase over the connection's states, and the teardown to `closed`. */
interface CloseRow {
  readonly from: keyof typeof START;
  readonly event: string;
  readonly timeoutMs?: number;
  readonly act: (h: Harness) => unknown;
  readonly effects: (h: Harness) => void;
}

const CLOSE_ROWS: CloseRow[] = [
  {
    from: "idle",
    event: "close()",
    act: async (h) => {
      await h.close();
    },
    effects: (h) => {
      assert.equal(h.conn.state, "closed");
      assert.equal(h.transport.attempts.length, 0);
      assert.equal(h.clock.pending, 0);
    },
  },
  {
    from: "open",
    event: "close(), nothing in flight",
    act: async (h) => {
      void h.close(5_000);
      await settle();
      assert.equal(h.socket().endedWithGrace, 5_000, "ended politely with the whole budget");
      h.socket().peerCloses();
      await h.closing;
    },
    effects: (h) => {
      assert.equal(h.conn.state, "closed");
      assert.equal(h.socket().destroyed, false);
      assert.equal(h.clock.pending, 0, "the deadline timer is gone");
    },
  },
  {
    from: "open, 1 in flight",
    event: "close(), then the send confirms",
    act: async (h) => {
      void h.close(5_000);
      await settle();
      assert.equal(h.conn.state, "open", "the connection goes on while closing");
      assert.equal(h.conn.closing, true);
      assert.equal(h.socket().watching, false, "rotation is no longer watched");
      h.socket().events.onRotate();
      assert.equal(h.conn.state, "open", "and ignored");
      h.send(2);
      h.check();
      await h.clock.advance(CONFIRM_MS);
      assert.equal(h.conn.state, "closed");
      assert.equal(h.socket().endedWithGrace, 5_000 - CONFIRM_MS, "the rest of the budget");
      h.socket().peerCloses();
      await h.closing;
    },
    effects: (h) => {
      assert.equal(h.sends[0]?.resolved, true);
      assert.equal(h.sends[1]?.code, "E_SHUTDOWN", "no send after close()");
      assert.equal(h.checks[0]?.code, "E_SHUTDOWN", "no check either");
    },
  },
  {
    from: "open, 1 write pending",
    event: "close(200), the timeout",
    act: async (h) => {
      void h.close(200);
      await h.clock.advance(200);
      await h.closing;
    },
    effects: (h) => {
      assert.equal(h.conn.state, "closed");
      assert.equal(h.sends[0]?.code, "E_SHUTDOWN");
      assert.match(String(h.sends[0]?.error?.message), /not confirmed within the close timeout \(200 ms\)/);
      assert.equal(h.socket().destroyed, true, "cut: a send was abandoned on it");
      assert.deepEqual(h.upCalls, ["up"], "a shutdown is not the destination going down");
    },
  },
  {
    from: "connecting",
    event: "close(), then connected",
    act: async (h) => {
      void h.close(5_000);
      h.transport.lastAttempt().succeed();
      h.socket().completeWrites();
      await h.clock.advance(CONFIRM_MS);
      h.socket().peerCloses();
      await h.closing;
    },
    effects: (h) => {
      assert.equal(h.sends[0]?.resolved, true, "the queued send still goes out and confirms");
      assert.equal(h.conn.state, "closed");
    },
  },
  {
    from: "connecting",
    event: "close(200), the timeout",
    act: async (h) => {
      h.check();
      void h.close(200);
      await h.clock.advance(200);
      await h.closing;
    },
    effects: (h) => {
      assert.equal(h.transport.lastAttempt().cancelledWith?.code, "E_SHUTDOWN", "the attempt is abandoned");
      assert.equal(h.sends[0]?.code, "E_SHUTDOWN");
      assert.equal(h.checks[0]?.code, "E_SHUTDOWN");
      assert.deepEqual(h.upCalls, []);
      assert.equal(h.conn.state, "closed");
    },
  },
  {
    from: "retiring",
    event: "close() with a send queued for the next connection",
    act: async (h) => {
      h.send(2);
      void h.close(5_000);
      await h.clock.advance(CONFIRM_MS);
      assert.equal(h.transport.attempts.length, 2, "the retired connection ended; the queued send connects");
      h.transport.lastAttempt().succeed();
      h.socket().completeWrites();
      await h.clock.advance(CONFIRM_MS);
      for (const socket of h.transport.sockets) socket.peerCloses();
      await h.closing;
    },
    effects: (h) => {
      assert.equal(h.sends[0]?.resolved, true);
      assert.equal(h.sends[1]?.resolved, true, "delivered within the budget");
      assert.equal(h.conn.state, "closed");
    },
  },
  {
    from: "open, 1 in flight",
    event: "close(), then the receiver resets",
    act: async (h) => {
      void h.close(5_000);
      h.socket().events.onError(Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }));
      await h.closing;
    },
    effects: (h) => {
      assert.equal(h.sends[0]?.code, "E_SINK_WRITE", "rejected by the failure, not by the shutdown");
      assert.equal(h.conn.state, "closed");
      assert.equal(h.clock.pending, 0);
    },
  },
  {
    from: "open",
    event: "close(300), the receiver never closes its side",
    act: async (h) => {
      void h.close(300);
      await h.clock.advance(300);
      await h.closing;
    },
    effects: (h) => {
      assert.equal(h.transport.cutAll, true, "every socket still open is cut at the deadline");
      assert.equal(h.socket().destroyed, true);
    },
  },
];

describe("stream connection: close()", () => {
  for (const row of CLOSE_ROWS) {
    test(`${row.from} + ${row.event}`, async () => {
      const h = harness();
      await START[row.from](h);
      await row.act(h);
      await settle();
      row.effects(h);
    });
  }
});

describe("stream connection: invariants", () => {
  test("sends settle in call order: a later write confirmed first waits for the earlier one", async () => {
    const h = harness();
    h.send(1);
    h.transport.lastAttempt().succeed();
    h.send(2);
    h.socket().writes[1]?.complete();
    await h.clock.advance(CONFIRM_MS * 3);
    assert.equal(h.sends[1]?.settled, false, "send 2 is not settled before send 1");
    h.socket().writes[0]?.complete();
    await h.clock.advance(CONFIRM_MS);
    assert.deepEqual(
      h.sends.map((s) => s.resolved),
      [true, true],
    );
  });

  test("a write pending for write_timeout fails the connection even while others complete slowly", async () => {
    const h = harness();
    h.send(1);
    h.transport.lastAttempt().succeed();
    h.send(2);
    await h.clock.advance(WRITE_TIMEOUT_MS / 2);
    h.socket().writes[0]?.complete();
    await h.clock.advance(WRITE_TIMEOUT_MS - 1);
    assert.equal(h.conn.state, "open", "progress restarted the write timeout");
    await h.clock.advance(1);
    assert.equal(h.conn.state, "idle");
    assert.equal(h.sends[1]?.code, "E_SINK_TIMEOUT");
    assert.equal(h.sends[0]?.resolved, true, "send 1 was confirmed before: it stays delivered");
  });

  test("events of a connection that is no longer current change nothing", async () => {
    const h = harness();
    await START["open, 1 write pending"](h);
    const old = h.socket();
    old.events.onEnd();
    await settle();
    h.send(2);
    h.transport.lastAttempt().succeed();
    h.socket().completeWrites();
    // The old socket's late events: its write callback, a drain, a rotation, an error, a close.
    old.writes[0]?.complete();
    old.events.onDrain();
    old.events.onRotate();
    old.events.onError(new Error("late"));
    old.events.onClose();
    await h.clock.advance(CONFIRM_MS);
    assert.equal(h.conn.state, "open");
    assert.equal(h.sends[1]?.resolved, true);
    assert.deepEqual(h.upCalls, ["up", "down:E_SINK_WRITE", "up"]);
  });

  test("dropped right after a handshake that asked for a client certificate: a refused certificate", async () => {
    const h = harness({ tls: true });
    h.send(1);
    h.transport.lastAttempt().succeed({ certRequested: true });
    h.socket().completeWrites();
    h.socket().events.onEnd();
    await settle();
    assert.equal(h.sends[0]?.code, "E_SINK_TLS");
    assert.match(String(h.sends[0]?.error?.message), /dropped by the receiver right after the handshake/);
    assert.match(String(h.sends[0]?.error?.message), /none is configured \(tls\.cert_file, tls\.key_file\)/);
  });

  test("the same drop after a confirmed send, or later than confirmAfterMs, is a plain E_SINK_WRITE", async () => {
    for (const wait of ["confirmed", "late"] as const) {
      const h = harness({ tls: true });
      h.send(1);
      h.transport.lastAttempt().succeed({ certRequested: true });
      h.socket().completeWrites();
      if (wait === "confirmed") {
        await h.clock.advance(CONFIRM_MS);
        h.send(2);
        h.socket().completeWrites();
      } else {
        await h.clock.advance(CONFIRM_MS / 2);
        h.send(2);
        await h.clock.advance(CONFIRM_MS);
      }
      h.socket().events.onEnd();
      await settle();
      assert.equal(h.sends.at(-1)?.code, "E_SINK_WRITE", wait);
    }
  });

  test("a failed connect with a send and a check waiting is one down transition, shared by both", async () => {
    const h = harness();
    h.send(1);
    h.send(2);
    h.check();
    h.transport.lastAttempt().fail(connectError("ETIMEDOUT"));
    await settle();
    assert.deepEqual(h.upCalls, ["down:E_SINK_CONNECT"]);
    assert.deepEqual(
      [...h.sends, ...h.checks].map((o) => o.error?.message),
      Array(3).fill("connect to 127.0.0.1:514 failed: ETIMEDOUT"),
    );
    h.send(3);
    assert.equal(h.transport.attempts.length, 2, "the next send tries again (backoff is the caller's)");
  });
});
