// The drain's flight window (src/pipeline/flight-window.ts), one test per row of its transition table:
// a pure function of (state, event, limits, mode), so every transition is checked in microseconds.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ForwarderError } from "../../../src/errors.js";
import {
  type DrainEvent,
  type DrainMode,
  type DrainState,
  initialDrainState,
  nextDrainState,
  outcomeOf,
  type WindowLimits,
} from "../../../src/pipeline/flight-window.js";
import { PartialSendError } from "../../../src/sink/index.js";

const LIMITS: WindowLimits = { initial: 100, afterFailure: 50, max: 400, maxChars: 1_000 };
const RUNNING: DrainMode = { untilEmpty: false, maxFailures: Number.POSITIVE_INFINITY };
const UNTIL_EMPTY: DrainMode = { untilEmpty: true, maxFailures: 3 };

const sinkError = new ForwarderError("E_SINK_WRITE", "connection to 127.0.0.1:514 closed");
const stateError = new ForwarderError("E_STATE_WRITE", "disk I/O error");
const partial = new PartialSendError(new ForwarderError("E_SINK_REJECTED", "refused 1 of 3"), [0, 2], 1);

const state = (over: Partial<DrainState>): DrainState => ({ ...initialDrainState(LIMITS), ...over });

const confirmed = (events: number): DrainEvent => ({
  type: "settled",
  events,
  chars: 0,
  outcome: { kind: "confirmed" },
});
const failed = (events: number, error: ForwarderError = sinkError): DrainEvent => ({
  type: "settled",
  events,
  chars: 0,
  outcome: outcomeOf(error),
});

interface Row {
  readonly name: string;
  readonly from: DrainState;
  readonly event: DrainEvent;
  readonly mode?: DrainMode;
  /** The fields of the next state that the row is about. */
  readonly to: Partial<DrainState>;
}

const ROWS: Row[] = [
  {
    name: "reading + rows read, room left",
    from: state({}),
    event: { type: "read", events: 40, chars: 0, lastId: 40 },
    to: { phase: "reading", flights: 1, inFlight: 40, cursor: 40 },
  },
  {
    name: "reading + rows read, the window is full",
    from: state({ flights: 1, inFlight: 60, cursor: 60 }),
    event: { type: "read", events: 40, chars: 0, lastId: 107 },
    to: { phase: "settling", flights: 2, inFlight: 100, cursor: 107 },
  },
  {
    name: "reading + rows read, the window is full in characters (large messages), not in events",
    from: state({ flights: 1, inFlight: 10, inFlightChars: 600, cursor: 10 }),
    event: { type: "read", events: 10, chars: 500, lastId: 20 },
    to: { phase: "settling", flights: 2, inFlight: 20, inFlightChars: 1_100, cursor: 20 },
  },
  {
    name: "reading + outbox empty, flights in the air",
    from: state({ flights: 2, inFlight: 50, cursor: 50 }),
    event: { type: "empty" },
    to: { phase: "settling", flights: 2, inFlight: 50 },
  },
  {
    name: "reading + outbox empty, nothing in the air, running",
    from: state({ cursor: 50 }),
    event: { type: "empty" },
    to: { phase: "idle", cursor: 50 },
  },
  {
    name: "reading + outbox empty, nothing in the air, until-empty",
    from: state({}),
    event: { type: "empty" },
    mode: UNTIL_EMPTY,
    to: { phase: "done" },
  },
  {
    name: "reading + outbox unreadable",
    from: state({ flights: 1, inFlight: 10 }),
    event: { type: "fatal", error: new ForwarderError("E_STATE_CORRUPT", "malformed") },
    to: { phase: "stopped", stopReason: "fatal", flights: 1 },
  },
  {
    name: "reading + stop",
    from: state({ flights: 1, inFlight: 10 }),
    event: { type: "stop" },
    to: { phase: "stopped", stopReason: "stop", flights: 1 },
  },
  {
    name: "settling + oldest confirmed: the window grows by its events, failures reset",
    from: state({ phase: "settling", flights: 2, inFlight: 100, failures: 2 }),
    event: confirmed(60),
    to: { phase: "reading", flights: 1, inFlight: 40, window: 160, failures: 0 },
  },
  {
    name: "settling + oldest confirmed: its characters leave the window",
    from: state({ phase: "settling", flights: 2, inFlight: 20, inFlightChars: 1_100 }),
    event: { type: "settled", events: 10, chars: 600, outcome: { kind: "confirmed" } },
    to: { phase: "reading", flights: 1, inFlight: 10, inFlightChars: 500, window: 110 },
  },
  {
    name: "settling + oldest confirmed: the window grows no further than max",
    from: state({ phase: "settling", window: 390, flights: 3, inFlight: 500 }),
    event: confirmed(50),
    to: { phase: "settling", window: 400, flights: 2, inFlight: 450 },
  },
  {
    name: "settling + oldest failed, others in the air",
    from: state({ phase: "settling", flights: 3, inFlight: 100, cursor: 300 }),
    event: failed(30),
    to: { phase: "recovering", flights: 2, inFlight: 70, cursor: 300, error: sinkError },
  },
  {
    name: "settling + oldest failed, none left: recovered, paused",
    from: state({ phase: "settling", window: 300, flights: 1, inFlight: 30, cursor: 300, failures: 1 }),
    event: failed(30),
    to: { phase: "paused", window: 50, flights: 0, inFlight: 0, cursor: 0, failures: 2, error: sinkError },
  },
  {
    name: "settling + oldest partial (RELP), none left: a failure, the rest read again",
    from: state({ phase: "settling", window: 300, flights: 1, inFlight: 3, cursor: 3 }),
    event: failed(3, partial),
    to: { phase: "paused", window: 50, cursor: 0, failures: 1, error: partial },
  },
  {
    name: "settling + oldest unacknowledged (the ack failed), none left: fatal",
    from: state({ phase: "settling", flights: 1, inFlight: 30, cursor: 30 }),
    event: failed(30, stateError),
    to: { phase: "stopped", stopReason: "fatal", error: stateError, cursor: 30, failures: 0 },
  },
  {
    name: "settling + oldest failed, until-empty reaches maxFailures: gave up",
    from: state({ phase: "settling", flights: 1, inFlight: 30, failures: 2 }),
    event: failed(30),
    mode: UNTIL_EMPTY,
    to: { phase: "stopped", stopReason: "gave-up", failures: 3 },
  },
  {
    name: "settling + woken (new rows) with room in the window: read them without waiting for a confirmation",
    from: state({ phase: "settling", flights: 2, inFlight: 50, cursor: 50 }),
    event: { type: "woken" },
    to: { phase: "reading", flights: 2, inFlight: 50, cursor: 50, window: 100 },
  },
  {
    name: "settling + woken with the window full: still settling",
    from: state({ phase: "settling", flights: 2, inFlight: 100, cursor: 100 }),
    event: { type: "woken" },
    to: { phase: "settling", flights: 2, inFlight: 100 },
  },
  {
    name: "settling + stop",
    from: state({ phase: "settling", flights: 2, inFlight: 100 }),
    event: { type: "stop" },
    to: { phase: "stopped", stopReason: "stop", flights: 2 },
  },
  {
    name: "recovering + a flight settles, others remain (confirmed or not, it changes nothing else)",
    from: state({ phase: "recovering", flights: 3, inFlight: 90, error: sinkError, failures: 1 }),
    event: confirmed(30),
    to: { phase: "recovering", flights: 2, inFlight: 60, window: 100, failures: 1 },
  },
  {
    name: "recovering + the last flight settles: recovered, paused",
    from: state({
      phase: "recovering",
      window: 250,
      flights: 1,
      inFlight: 30,
      cursor: 500,
      error: sinkError,
    }),
    event: failed(30, new ForwarderError("E_SINK_CONNECT", "refused")),
    to: { phase: "paused", window: 50, cursor: 0, failures: 1, error: sinkError },
  },
  {
    name: "recovering + the last flight settles after a state error: fatal",
    from: state({ phase: "recovering", flights: 1, inFlight: 30, error: stateError }),
    event: confirmed(30),
    to: { phase: "stopped", stopReason: "fatal", error: stateError },
  },
  {
    name: "recovering + the last flight settles, until-empty at maxFailures: gave up",
    from: state({ phase: "recovering", flights: 1, inFlight: 30, failures: 2, error: sinkError }),
    event: confirmed(30),
    mode: UNTIL_EMPTY,
    to: { phase: "stopped", stopReason: "gave-up", failures: 3 },
  },
  {
    name: "recovering + stop: taken once the recovery is done",
    from: state({ phase: "recovering", flights: 2, inFlight: 60, error: sinkError }),
    event: { type: "stop" },
    to: { phase: "recovering", flights: 2 },
  },
  {
    name: "paused + resumed (backoff over or a wake-up): read from the start",
    from: state({ phase: "paused", failures: 2, error: sinkError }),
    event: { type: "resumed" },
    to: { phase: "reading", cursor: 0, failures: 2 },
  },
  {
    name: "paused + stop",
    from: state({ phase: "paused", failures: 2, error: sinkError }),
    event: { type: "stop" },
    to: { phase: "stopped", stopReason: "stop" },
  },
  {
    name: "idle + resumed (idle check or a wake-up)",
    from: state({ phase: "idle", cursor: 70 }),
    event: { type: "resumed" },
    to: { phase: "reading", cursor: 70 },
  },
  {
    name: "idle + stop",
    from: state({ phase: "idle" }),
    event: { type: "stop" },
    to: { phase: "stopped", stopReason: "stop" },
  },
  {
    name: "stopped + a flight settles: accounted, still stopped",
    from: state({ phase: "stopped", stopReason: "stop", flights: 2, inFlight: 60 }),
    event: failed(30),
    to: { phase: "stopped", stopReason: "stop", flights: 1, inFlight: 30 },
  },
];

describe("flight window: the transition table", () => {
  for (const row of ROWS) {
    test(row.name, () => {
      const next = nextDrainState(row.from, row.event, LIMITS, row.mode ?? RUNNING);
      const picked = Object.fromEntries(Object.keys(row.to).map((k) => [k, next[k as keyof DrainState]]));
      assert.deepEqual(picked, row.to);
    });
  }
});

describe("flight window: the rest", () => {
  test("a run starts reading at the start of the outbox with the initial window", () => {
    assert.deepEqual(initialDrainState(LIMITS), {
      phase: "reading",
      window: 100,
      inFlight: 0,
      inFlightChars: 0,
      flights: 0,
      cursor: 0,
      failures: 0,
      error: undefined,
      stopReason: undefined,
    });
  });

  test("an event a phase does not expect is a bug, said so (E_INTERNAL), never a silent state", () => {
    const impossible: Array<[DrainState, DrainEvent]> = [
      [state({ phase: "reading" }), confirmed(1)],
      [state({ phase: "reading" }), { type: "resumed" }],
      [state({ phase: "settling", flights: 1 }), { type: "read", events: 1, chars: 0, lastId: 1 }],
      [state({ phase: "settling", flights: 1 }), { type: "empty" }],
      [state({ phase: "recovering", flights: 1, error: sinkError }), { type: "resumed" }],
      [state({ phase: "paused" }), confirmed(1)],
      [state({ phase: "idle" }), { type: "read", events: 1, chars: 0, lastId: 1 }],
      [state({ phase: "done" }), { type: "empty" }],
      [state({ phase: "stopped" }), { type: "read", events: 1, chars: 0, lastId: 1 }],
    ];
    for (const [from, event] of impossible) {
      assert.throws(
        () => nextDrainState(from, event, LIMITS, RUNNING),
        (err: unknown) => err instanceof ForwarderError && err.code === "E_INTERNAL",
        `${event.type} in ${from.phase}`,
      );
    }
  });

  test("outcomes: acknowledged, a state error, a partial send, any other failure", () => {
    assert.deepEqual(outcomeOf(undefined), { kind: "confirmed" });
    assert.equal(outcomeOf(stateError).kind, "unacknowledged");
    assert.equal(outcomeOf(partial).kind, "partial");
    assert.equal(outcomeOf(sinkError).kind, "failed");
    // A partial send whose acknowledgement failed is a state error first: nothing more can be acknowledged.
    assert.equal(outcomeOf(new ForwarderError("E_STATE_WRITE", "disk full")).kind, "unacknowledged");
  });

  test("a long run: the window grows from initial to max, falls back to afterFailure on a failure, and grows again", () => {
    let s = initialDrainState(LIMITS);
    const windows: number[] = [];
    const run = (event: DrainEvent) => {
      s = nextDrainState(s, event, LIMITS, RUNNING);
    };
    let id = 0;
    for (let i = 0; i < 12; i++) {
      while (s.phase === "reading") {
        id += 50;
        run({ type: "read", events: 50, chars: 0, lastId: id });
      }
      run(i === 6 ? failed(50) : confirmed(50));
      while (s.phase === "recovering") run(confirmed(50));
      if (s.phase === "paused") run({ type: "resumed" });
      windows.push(s.window);
    }
    assert.deepEqual(windows, [150, 200, 250, 300, 350, 400, 50, 100, 150, 200, 250, 300]);
    assert.equal(s.failures, 0);
  });
});
