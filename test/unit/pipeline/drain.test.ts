// The drain loop (src/pipeline/drain.ts) on a fake store, a fake sink and a fake clock: what each phase of
// the flight window does to the outbox, the sink, the metrics and the delivery status, in milliseconds.
// The real store, sinks and receivers are the integration and reliability suites'.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ForwarderError } from "../../../src/errors.js";
import type { Formatter } from "../../../src/format/index.js";
import { silentLogger } from "../../../src/log.js";
import { createMetrics, type Metrics } from "../../../src/metrics/definitions.js";
import { createDrain, type Drain, type DrainOptions, type DrainStore } from "../../../src/pipeline/drain.js";
import { createHotTail, type HotTail } from "../../../src/pipeline/hot-tail.js";
import { PartialSendError, type SendResult, type Sink } from "../../../src/sink/index.js";
import type { Outcome, StoredEvent } from "../../../src/state/index.js";
import { createFakeClock, type FakeClock, settle } from "../../support/fake-clock.js";

const NAME = "siem";
const BACKOFF_MS = 100;

interface FakeStore extends DrainStore {
  /** Ids still in the outbox. */
  readonly ids: () => number[];
  readonly deliveries: Outcome[];
  /** Events moved to the quarantine, with the reason. */
  readonly quarantined: { id: number; reason: string }[];
  /** Stores `count` events; returns them. */
  add(count: number): StoredEvent[];
  /** Calls of next(): reads of the outbox. */
  reads: number;
  /** Bodies of the events quarantined, by id. */
  readonly quarantinedBodies: Map<number, string>;
  failAck: boolean;
  failNext: boolean;
}

function fakeStore(initial: number): FakeStore {
  const rows = new Map<number, StoredEvent>();
  let lastId = 0;
  const store: FakeStore = {
    ids: () => [...rows.keys()].sort((a, b) => a - b),
    deliveries: [],
    quarantined: [],
    reads: 0,
    quarantinedBodies: new Map(),
    failAck: false,
    failNext: false,
    add(count) {
      const added: StoredEvent[] = [];
      for (let i = 0; i < count; i++) {
        lastId++;
        const row: StoredEvent = {
          id: lastId,
          tenant: "t",
          body: JSON.stringify({ n: lastId }),
          kind: "siem",
          receivedAt: 0,
        };
        rows.set(lastId, row);
        added.push(row);
      }
      return added;
    },
    next(destination, afterId, limit) {
      assert.equal(destination, NAME);
      store.reads++;
      if (store.failNext) throw new ForwarderError("E_STATE_CORRUPT", "database disk image is malformed");
      return store
        .ids()
        .filter((id) => id > afterId)
        .slice(0, limit)
        .map((id) => rows.get(id) as StoredEvent);
    },
    ack(_destination, ids) {
      if (store.failAck) throw new ForwarderError("E_STATE_WRITE", "disk I/O error");
      for (const id of ids) rows.delete(id);
    },
    quarantine(_destination, event, reason) {
      rows.delete(event.id);
      store.quarantined.push({ id: event.id, reason });
      store.quarantinedBodies.set(event.id, event.body);
    },
    recordDelivery(_destination, outcome) {
      store.deliveries.push(outcome);
    },
    outboxDepths: () => new Map([[NAME, rows.size]]),
  };
  store.add(initial);
  return store;
}

interface PendingSend {
  /** The ids in the send, from the message bytes. */
  readonly ids: number[];
  resolve(result?: SendResult): void;
  reject(error: ForwarderError): void;
}

interface FakeSink extends Sink {
  readonly sends: PendingSend[];
  /** Sends not yet settled, oldest first. */
  open(): PendingSend[];
  checks: number;
  /** What check() does; resolves by default. */
  checkResult: () => Promise<void>;
}

function fakeSink(): FakeSink {
  const sends: PendingSend[] = [];
  const settled = new Set<PendingSend>();
  const sink: FakeSink = {
    sends,
    open: () => sends.filter((s) => !settled.has(s)),
    checks: 0,
    checkResult: () => Promise.resolve(),
    send(messages) {
      return new Promise<SendResult>((resolve, reject) => {
        const pending: PendingSend = {
          ids: messages.map((m) => Number(m.toString())),
          resolve(result = { dropped: [] }) {
            settled.add(pending);
            resolve(result);
          },
          reject(error) {
            settled.add(pending);
            reject(error);
          },
        };
        sends.push(pending);
      });
    },
    check() {
      sink.checks++;
      return sink.checkResult();
    },
    up: true,
    close: () => Promise.resolve(),
  };
  return sink;
}

/** The detection's `n` as the message: the tests read the ids back from what was sent. */
const formatter: Formatter = {
  format: (detection) => {
    if (detection.unencodable === true) throw new Error("cannot encode");
    return {
      text: String(detection.n),
      bytes: Buffer.from(String(detection.n)),
      truncated: 0,
      tooLarge: false,
    };
  },
};

interface Harness {
  readonly clock: FakeClock;
  readonly store: FakeStore;
  readonly sink: FakeSink;
  readonly metrics: Metrics;
  readonly drain: Drain;
  readonly fatal: ForwarderError[];
  /** The destination's hot tail (when the harness was given `tailBytes`). */
  readonly tail: HotTail | undefined;
  /** Stores `count` events as an ingest of this process does: in the store and, parsed, in the tail. */
  ingest(count: number, detection?: (id: number) => Record<string, unknown>): void;
  counter(name: "errors" | "eventsSent", labels: Record<string, string>): Promise<number>;
}

function harness(rows: number, options: DrainOptions = {}, tailBytes?: number): Harness {
  const clock = createFakeClock();
  const store = fakeStore(rows);
  const tail = tailBytes === undefined ? undefined : createHotTail({ maxBytes: tailBytes });
  const sink = fakeSink();
  const metrics = createMetrics({ defaultMetrics: false });
  const fatal: ForwarderError[] = [];
  const drain = createDrain(
    { name: NAME, formatter, sink },
    {
      batchSize: 10,
      initialInFlight: 20,
      maxInFlight: 40,
      idleCheckMs: 5_000,
      retryPolicy: {
        baseMs: BACKOFF_MS,
        maxMs: BACKOFF_MS,
        maxAttempts: Number.POSITIVE_INFINITY,
        maxThrottleMs: 0,
      },
      ...options,
    },
    { log: silentLogger(), metrics, store, clock, onFatal: (e) => fatal.push(e), tail },
  );
  return {
    clock,
    store,
    sink,
    metrics,
    drain,
    fatal,
    tail,
    ingest(count, detection = (n) => ({ n })) {
      const added = store.add(count);
      tail?.append(
        added.map((r) => ({
          id: r.id,
          tenant: r.tenant,
          kind: r.kind,
          detection: detection(r.id),
          bytes: 1,
        })),
      );
      drain.wake();
    },
    async counter(name, labels) {
      const values = (await metrics[name].get()).values;
      const match = values.find((v) =>
        Object.entries(labels).every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x),
      );
      return match?.value ?? 0;
    },
  };
}

/** stop(), confirming every send still open meanwhile, as a healthy receiver would. */
async function stopConfirming(h: Harness, run: Promise<void>): Promise<void> {
  const stopped = ended(h.drain.stop());
  while (!stopped.ended) {
    for (const send of h.sink.open()) send.resolve();
    await settle();
  }
  await run;
}

/** Whether a promise has settled, without awaiting it (a hang shows as false, not as a test timeout). */
function ended(promise: Promise<unknown>): { readonly ended: boolean } {
  const state = { ended: false };
  const mark = () => {
    state.ended = true;
  };
  promise.then(mark, mark);
  return state;
}

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);
const sinkError = () =>
  new ForwarderError("E_SINK_WRITE", "connection to 127.0.0.1:514 closed by the receiver");

describe("drain loop", () => {
  test("reading: batches go out pipelined until the window is full, then the oldest is awaited", async () => {
    const h = harness(100);
    const run = h.drain.run();
    await settle();
    assert.deepEqual(
      h.sink.sends.map((s) => s.ids),
      [range(1, 10), range(11, 20)],
      "20 events: the initial window",
    );
    assert.deepEqual(h.store.ids().length, 100, "nothing acknowledged before it is confirmed");

    h.sink.sends[0]?.resolve();
    await settle();
    assert.equal(h.store.ids()[0], 11, "the confirmed batch is acknowledged");
    assert.equal(h.sink.sends.length, 4, "the window grew by 10 to 30: two more batches");
    assert.equal(await h.counter("eventsSent", { destination: NAME }), 10);

    await stopConfirming(h, run);
  });

  test("settling: the window grows with each confirmation up to maxInFlight", async () => {
    const h = harness(200);
    const run = h.drain.run();
    const inFlight: number[] = [];
    for (let i = 0; i < 8; i++) {
      await settle();
      inFlight.push(h.sink.open().length * 10);
      h.sink.open()[0]?.resolve();
    }
    assert.deepEqual(inFlight, [20, 30, 40, 40, 40, 40, 40, 40]);
    await stopConfirming(h, run);
  });

  test("recovering: a failed send waits out the others, then everything unacknowledged is resent from the start", async () => {
    const h = harness(25);
    const run = h.drain.run();
    await settle();
    h.sink.sends[0]?.resolve();
    await settle();
    assert.equal(h.sink.sends.length, 3);
    h.sink.sends[1]?.reject(sinkError());
    await settle();
    assert.equal(h.sink.sends.length, 3, "no new send while recovering");
    h.sink.sends[2]?.resolve();
    await settle();
    assert.deepEqual(
      h.store.ids(),
      range(11, 20),
      "the later send confirmed and was acknowledged all the same",
    );
    assert.equal(await h.counter("errors", { stage: "send", code: "E_SINK_WRITE" }), 1);
    assert.deepEqual(h.store.deliveries.at(-1), {
      ok: false,
      code: "E_SINK_WRITE",
      message: "connection to 127.0.0.1:514 closed by the receiver",
    });

    await h.clock.advance(BACKOFF_MS);
    assert.deepEqual(
      h.sink.sends[3]?.ids,
      range(11, 20),
      "resent from the start of the outbox after the backoff",
    );
    h.sink.sends[3]?.resolve();
    await settle();
    assert.deepEqual(h.store.ids(), []);
    await stopConfirming(h, run);
  });

  test("recovering: a partial RELP send acknowledges its confirmed part and resends only the rest", async () => {
    const h = harness(10);
    const run = h.drain.run();
    await settle();
    const refused = new ForwarderError(
      "E_SINK_REJECTED",
      "127.0.0.1:2514 refused 2 of 10 messages: 500 full",
    );
    h.sink.sends[0]?.reject(new PartialSendError(refused, [0, 1, 2, 3, 4, 5, 6, 7], 2));
    await settle();
    assert.deepEqual(h.store.ids(), [9, 10]);
    assert.equal(await h.counter("eventsSent", { destination: NAME }), 8);
    assert.equal(
      await h.counter("errors", { stage: "send", code: "E_SINK_REJECTED" }),
      2,
      "one per refused event, not once more for the failed send",
    );
    await h.clock.advance(BACKOFF_MS);
    assert.deepEqual(h.sink.sends[1]?.ids, [9, 10]);
    await stopConfirming(h, run);
  });

  test("stopped (fatal): an acknowledgement that cannot be written stops the drain and keeps the rows", async () => {
    const h = harness(10);
    const run = h.drain.run();
    await settle();
    h.store.failAck = true;
    h.sink.sends[0]?.resolve();
    await run;
    assert.deepEqual(
      h.fatal.map((e) => e.code),
      ["E_STATE_WRITE"],
    );
    assert.equal(h.store.ids().length, 10, "sent again after a restart: a duplicate, never a loss");
    assert.equal(h.sink.sends.length, 1);
  });

  test("stopped (fatal): an outbox that cannot be read stops the drain", async () => {
    const h = harness(10);
    h.store.failNext = true;
    assert.equal(await h.drain.runUntilEmpty(3), false);
    assert.deepEqual(
      h.fatal.map((e) => e.code),
      ["E_STATE_CORRUPT"],
    );
  });

  test("done: runUntilEmpty resolves true once the outbox is empty", async () => {
    const h = harness(15);
    const result = h.drain.runUntilEmpty(3);
    await settle();
    for (const send of h.sink.open()) send.resolve();
    assert.equal(await result, true);
    assert.deepEqual(h.store.ids(), []);
  });

  test("stopped (gave up): runUntilEmpty gives up after maxFailures failed sends in a row", async () => {
    const h = harness(5);
    const result = h.drain.runUntilEmpty(2);
    await settle();
    h.sink.sends[0]?.reject(sinkError());
    await h.clock.advance(BACKOFF_MS);
    h.sink.sends[1]?.reject(sinkError());
    assert.equal(await result, false);
    assert.equal(h.sink.sends.length, 2);
    assert.equal(await h.counter("errors", { stage: "send", code: "E_SINK_WRITE" }), 2);
  });

  test("idle: the sink is probed, then a wake-up (not the idle check) sends what was added", async () => {
    const h = harness(0);
    const run = h.drain.run();
    await settle();
    assert.equal(h.sink.checks, 1, "probed while idle");
    h.store.add(3);
    h.drain.wake();
    await settle();
    assert.deepEqual(h.sink.sends[0]?.ids, [1, 2, 3]);
    h.sink.sends[0]?.resolve();
    await settle();
    await h.clock.advance(5_000);
    assert.equal(h.sink.checks, 3, "idle again: probed at every idle check");
    await stopConfirming(h, run);
  });

  test("settling with room in the window: rows stored meanwhile go out at once, not after the oldest confirmation", async () => {
    const h = harness(5);
    const run = h.drain.run();
    await settle();
    assert.deepEqual(
      h.sink.sends.map((s) => s.ids),
      [range(1, 5)],
      "the outbox is empty: waiting on the one flight",
    );
    h.store.add(7);
    h.drain.wake();
    await settle();
    assert.deepEqual(
      h.sink.sends.map((s) => s.ids),
      [range(1, 5), range(6, 12)],
      "the new rows are sent while the first flight is still unconfirmed (TCP confirms a second later)",
    );
    h.store.add(20);
    h.drain.wake();
    await settle();
    assert.equal(
      h.sink.open().reduce((n, s) => n + s.ids.length, 0),
      22,
      "up to the window (20) and one batch over it, never more: a wake-up does not widen the window",
    );
    await stopConfirming(h, run);
    assert.deepEqual(
      h.store.ids(),
      range(23, 32),
      "what was sent was confirmed and acknowledged; the rest waits",
    );
  });

  test("settling: large messages fill the window by their characters before its events", async () => {
    const h = harness(100, { maxInFlightChars: 5 });
    const run = h.drain.run();
    await settle();
    assert.deepEqual(
      h.sink.sends.map((s) => s.ids),
      [range(1, 10)],
      "11 characters in flight, over the bound of 5: one flight, not the 20 events' two",
    );
    h.sink.sends[0]?.resolve();
    await settle();
    assert.deepEqual(h.sink.sends.at(-1)?.ids, range(11, 20), "confirmed: the next flight goes out");
    assert.equal(h.sink.open().length, 1);
    await stopConfirming(h, run);
  });

  test("idle: a failed probe is counted and recorded", async () => {
    const h = harness(0);
    h.sink.checkResult = () => Promise.reject(new ForwarderError("E_SINK_CONNECT", "connect refused"));
    const run = h.drain.run();
    await settle();
    assert.equal(await h.counter("errors", { stage: "send", code: "E_SINK_CONNECT" }), 1);
    assert.deepEqual(h.store.deliveries, [{ ok: false, code: "E_SINK_CONNECT", message: "connect refused" }]);
    await stopConfirming(h, run);
  });

  test("paused: a wake-up ends the backoff early", async () => {
    const h = harness(5, {
      retryPolicy: { baseMs: 60_000, maxMs: 60_000, maxAttempts: Number.POSITIVE_INFINITY, maxThrottleMs: 0 },
    });
    const run = h.drain.run();
    await settle();
    h.sink.sends[0]?.reject(sinkError());
    await settle();
    h.drain.wake();
    await settle();
    assert.equal(h.sink.sends.length, 2, "resent without waiting up to a minute");
    await stopConfirming(h, run);
  });

  test("finish() turns a running drain into one that ends, delivered, once the outbox is empty", async () => {
    const h = harness(10);
    const run = h.drain.run();
    await settle();
    const finished = h.drain.finish(3);
    h.sink.sends[0]?.resolve();
    assert.equal(await finished, true);
    await run;
  });

  test("stop() lets the sends in flight settle, acknowledges the confirmed ones and reports what is left", async () => {
    const h = harness(30);
    const run = h.drain.run();
    await settle();
    const stopped = h.drain.stop();
    await settle();
    assert.equal(h.sink.sends.length, 2, "nothing new after stop()");
    h.sink.sends[0]?.resolve();
    h.sink.sends[1]?.reject(sinkError());
    await stopped;
    await run;
    assert.deepEqual(h.store.ids(), range(11, 30));
    assert.equal(h.clock.pending, 0, "no timer left behind");
  });

  test("issue 13: stop() that comes during a probe or a recovery ends the drain at once, not after a wait", async () => {
    // During a probe: the idle check (5 s) is not waited.
    const idle = harness(0);
    let probed: () => void = () => {};
    idle.sink.checkResult = () =>
      new Promise<void>((resolve) => {
        probed = resolve;
      });
    const idleRun = idle.drain.run();
    await settle();
    const idleStop = ended(idle.drain.stop());
    probed();
    await settle();
    assert.equal(idleStop.ended, true, "stopped without waiting for the idle check");
    await idleRun;
    assert.equal(idle.clock.pending, 0);

    // During a recovery: the backoff (a minute here) is not waited.
    const busy = harness(20, {
      retryPolicy: { baseMs: 60_000, maxMs: 60_000, maxAttempts: Number.POSITIVE_INFINITY, maxThrottleMs: 0 },
    });
    const busyRun = busy.drain.run();
    await settle();
    busy.sink.sends[0]?.reject(sinkError());
    await settle();
    const busyStop = ended(busy.drain.stop());
    busy.sink.sends[1]?.reject(sinkError());
    await settle();
    assert.equal(busyStop.ended, true, "stopped without waiting for the backoff");
    await busyRun;
    assert.equal(busy.clock.pending, 0);
    assert.equal(
      await busy.counter("errors", { stage: "send", code: "E_SINK_WRITE" }),
      1,
      "the recovery under way was still counted",
    );
  });
});

describe("drain loop: the hot tail (events this process stored, sent without reading them back)", () => {
  /** Confirms every open send until the outbox is empty; returns the ids sent, in order. */
  async function deliverAll(h: Harness): Promise<number[]> {
    for (let i = 0; i < 1_000 && (h.sink.open().length > 0 || h.store.ids().length > 0); i++) {
      for (const send of h.sink.open()) send.resolve();
      await settle();
    }
    return h.sink.sends.flatMap((s) => s.ids);
  }

  test("events stored while draining are sent from the tail, with no read of the outbox", async () => {
    const h = harness(0, {}, 1_000_000);
    const run = h.drain.run();
    await settle();
    const readsBefore = h.store.reads;
    h.ingest(35);
    await settle();
    assert.deepEqual(
      h.sink.sends.map((s) => s.ids),
      [range(1, 10), range(11, 20)],
      "the initial window, from the tail",
    );
    assert.equal(h.store.ids().length, 35, "nothing acknowledged before it is confirmed");
    assert.deepEqual(await deliverAll(h), range(1, 35), "each once, in order");
    assert.deepEqual(h.store.ids(), [], "every row acknowledged after its confirmation");
    assert.equal(h.store.reads, readsBefore, "the outbox was never read for them");
    assert.equal(h.tail?.size, 0, "the tail holds nothing once sent");
    await stopConfirming(h, run);
  });

  test("a backlog from before the start is read from the store, then the tail takes over", async () => {
    const h = harness(25, {}, 1_000_000);
    h.ingest(30); // ids 26-55: stored by this process before the drain ran
    const run = h.drain.run();
    assert.deepEqual(await deliverAll(h), range(1, 55), "the old rows first, then the new, each once");
    assert.equal(
      h.store.reads,
      3,
      "rows 1-25 read from the store (in batches of 10); the rest from the tail",
    );
    await stopConfirming(h, run);
  });

  test("a failed send rewinds to the store: what was taken from the tail is resent from it, in order", async () => {
    const h = harness(0, {}, 1_000_000);
    const run = h.drain.run();
    await settle();
    h.ingest(30);
    await settle();
    assert.deepEqual(
      h.sink.sends.map((s) => s.ids),
      [range(1, 10), range(11, 20)],
    );
    h.sink.sends[0]?.resolve();
    await settle();
    h.sink.sends[1]?.reject(sinkError());
    h.sink.sends[2]?.reject(sinkError());
    await settle();
    h.clock.advance(BACKOFF_MS);
    await settle();
    const readsAfterRewind = h.store.reads;
    assert.ok(readsAfterRewind > 0, "after the failure the outbox is read again");
    const resent = (await deliverAll(h)).slice(3 * 10);
    assert.deepEqual(resent, range(11, 30), "every unacknowledged event resent, once, in order");
    assert.deepEqual(h.store.ids(), []);
    await stopConfirming(h, run);
  });

  test("past its bound the tail drops its oldest events; the drain reads those from the store", async () => {
    // 1 byte per event: the tail holds the newest 15.
    const h = harness(0, { initialInFlight: 10, maxInFlight: 10 }, 15);
    const run = h.drain.run();
    await settle();
    h.ingest(10); // 1-10: taken at once
    await settle();
    h.ingest(40); // 11-50: 11-35 pushed out of the tail
    assert.equal(h.tail?.size, 15);
    const readsBefore = h.store.reads;
    assert.deepEqual(await deliverAll(h), range(1, 50), "each once, in order");
    assert.ok(h.store.reads > readsBefore, "the events the tail dropped came from the store");
    assert.deepEqual(h.store.ids(), []);
    await stopConfirming(h, run);
  });

  test("rows stored past the tail (lose) are read from the store until the next ingest it holds", async () => {
    const h = harness(0, {}, 1_000_000);
    const run = h.drain.run();
    await settle();
    h.ingest(5);
    h.store.add(12); // 6-17: an ingest the tail could not match
    h.tail?.lose();
    h.ingest(8); // 18-25
    assert.deepEqual(await deliverAll(h), range(1, 25), "none skipped, none twice");
    await stopConfirming(h, run);
  });

  test("an event of the tail that cannot be encoded is quarantined with its body; the rest go on", async () => {
    const h = harness(0, {}, 1_000_000);
    const run = h.drain.run();
    await settle();
    h.ingest(5, (n) => (n === 3 ? { n, unencodable: true } : { n }));
    assert.deepEqual(await deliverAll(h), [1, 2, 4, 5]);
    assert.deepEqual(h.store.quarantined, [{ id: 3, reason: "unencodable" }]);
    assert.equal(h.store.quarantinedBodies.get(3), JSON.stringify({ n: 3, unencodable: true }));
    assert.deepEqual(h.store.ids(), []);
    await stopConfirming(h, run);
  });
});
