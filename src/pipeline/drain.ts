// The drain loop of one destination: read outbox rows, encode, send, and acknowledge each row only after
// the sink confirmed its send (of a failed RELP send, the rows the receiver acknowledged before it failed).
// Sends are pipelined (several batches in flight) because the sink confirms a write only after it stayed
// on a healthy connection for a while; when a send fails, everything not yet acknowledged is read again
// from the outbox and resent after a backoff. How many are in flight, where reading resumes and what comes
// next is the flight window's state machine (flight-window.ts); pump() below only carries out its steps.
// Rows come from the destination's hot tail (hot-tail.ts: what this process stored, still parsed) when it
// holds everything after the cursor, else from the store; acknowledging is the same either way.
import { type Clock, systemClock } from "../clock.js";
import { ForwarderError, toForwarderError } from "../errors.js";
import { createEvents, type Events } from "../events/index.js";
import type { Formatter } from "../format/index.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics/definitions.js";
import type { Detection, OutboxEvent } from "../record.js";
import { DEFAULT_POLICY, type RetryPolicy, retryDelay } from "../retry.js";
import { PartialSendError, type Sink } from "../sink/index.js";
import type { Store } from "../state/index.js";
import {
  type DrainEvent,
  full,
  initialDrainState,
  nextDrainState,
  outcomeOf,
  type WindowLimits,
} from "./flight-window.js";
import type { HotTail } from "./hot-tail.js";

export interface DrainTarget {
  name: string;
  formatter: Formatter;
  sink: Sink;
  /** For the log line of a too-large drop. */
  maxMessageBytes?: number;
}

export interface DrainOptions {
  /** Rows read and sent together. */
  batchSize?: number;
  /** Events sent but not yet confirmed, at most. */
  maxInFlight?: number;
  /**
   * The in-flight window after a start; it grows by what each confirmed batch carried
   * (doubling per confirmation delay) up to maxInFlight. A crash or a broken connection soon after a
   * start then resends this many events, not maxInFlight.
   */
  initialInFlight?: number;
  /** The in-flight window after a failed send (default 500, at most initialInFlight). */
  inFlightAfterFailure?: number;
  /** Characters of messages sent but not yet confirmed, at most (whatever the window in events says). */
  maxInFlightChars?: number;
  /** How often an idle drain looks at the outbox even without a wake-up. */
  idleCheckMs?: number;
  retryPolicy?: RetryPolicy;
}

export interface Drain {
  readonly name: string;
  /** New rows may be in the outbox. */
  wake(): void;
  /** Runs until stop(). */
  run(): Promise<void>;
  /** Sends until the outbox is empty (true) or `maxFailures` sends in a row failed (false). */
  runUntilEmpty(maxFailures: number): Promise<boolean>;
  /**
   * Turns a running drain (`run()`) into one that ends when the outbox is empty or `maxFailures` sends in a
   * row failed; resolves like runUntilEmpty. `once` drains while it polls, then finishes.
   */
  finish(maxFailures: number): Promise<boolean>;
  /** Stops taking rows, lets the sends in flight finish and acknowledges them, then returns. */
  stop(): Promise<void>;
}

/** What the drain needs of the store. */
export type DrainStore = Pick<Store, "next" | "ack" | "quarantine" | "recordDelivery" | "outboxDepths">;

export interface DrainDeps {
  log: Logger;
  metrics: Metrics;
  /** Failures, drops and quarantines are counted and logged through these; over `metrics` when absent. */
  events?: Events;
  store: DrainStore;
  /** Backoff and idle waits, and the pace of delivery-status writes; systemClock by default. */
  clock?: Clock;
  /** A state failure: nothing can be acknowledged any more, so the daemon must stop (and say why). */
  onFatal?: (error: ForwarderError) => void;
  /** This destination's hot tail; without one every row is read from the store. */
  tail?: Pick<HotTail, "take">;
}

/** An outbox row to send: read from the store (its body) or taken from the hot tail (its detection). */
type DrainRow = Omit<OutboxEvent, "body"> & { readonly body?: string; readonly detection?: Detection };

interface Flight {
  readonly events: number;
  /** Characters of its messages (what a slow receiver leaves in memory). */
  readonly chars: number;
  /** Resolves (never rejects) once the batch is acknowledged, or with the error that failed it. */
  readonly done: Promise<ForwarderError | undefined>;
}

/**
 * The window's defaults. A TCP or TLS send is confirmed a second after its write (sink confirmAfterMs), and
 * later still while the thread is busy storing a backfill's parts (about 1.4 s measured), so the drain
 * delivers at most `window` events per such delay. With 20,000 at most and 5,000 to start with, a 100k
 * backfill spent its first four seconds growing the window and its last three sending what the poll had
 * stored meanwhile (issue 16, the outbox depth sampled every 250 ms); 40,000 and 10,000 keep the drain at
 * the poll's heels (100k: 63-65% of the floor -> 69-72%, three runs each). A crash or a broken connection
 * right after a start resends at most the initial window; later, at most the window. A message is
 * released once written, but one that a slow receiver has not taken yet waits in memory, so the window
 * also bounds that: about 80 MB of 2 kB messages.
 */
const DEFAULT_BATCH_SIZE = 1_000;
const DEFAULT_INITIAL_IN_FLIGHT = 10_000;
/** After a failed send the window starts small again: a flapping receiver gets ~500 duplicates per break. */
const DEFAULT_IN_FLIGHT_AFTER_FAILURE = 500;
/** Events sent and not yet confirmed, at most (the benchmarks use it as "the drain's window"). */
export const DEFAULT_MAX_IN_FLIGHT = 40_000;
/**
 * And at most 128 Mi characters of messages in flight: 40,000 typical messages (~2 kB) stay under it, but
 * without it 40,000 of the largest detections the parser accepts (megabytes each) could wait in memory
 * behind a slow receiver.
 */
const DEFAULT_MAX_IN_FLIGHT_CHARS = 128 * 1_048_576;

const DRAIN_POLICY: RetryPolicy = { ...DEFAULT_POLICY, maxAttempts: Number.POSITIVE_INFINITY, maxMs: 60_000 };

export function createDrain(target: DrainTarget, options: DrainOptions, deps: DrainDeps): Drain {
  const { metrics, store } = deps;
  const events = deps.events ?? createEvents({ metrics });
  const clock = deps.clock ?? systemClock;
  const name = target.name;
  const labels = { destination: name };
  const log = deps.log.child({ component: "drain", destination: name });
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  const initialInFlight = Math.min(maxInFlight, options.initialInFlight ?? DEFAULT_INITIAL_IN_FLIGHT);
  const idleCheckMs = options.idleCheckMs ?? 5_000;
  const policy = options.retryPolicy ?? DRAIN_POLICY;
  const stopper = new AbortController();
  let wakeUp: (() => void) | undefined;
  let running: Promise<boolean> | undefined;
  let lastRecordedOk = Number.NEGATIVE_INFINITY;

  /** The state cannot be written: stop this loop; what was sent and not acknowledged is resent later. */
  function fatal(error: ForwarderError): void {
    events.stateFailed(log, "drain", error);
    deps.onFatal?.(error);
    stopper.abort();
  }

  function wake(): void {
    const w = wakeUp;
    wakeUp = undefined;
    w?.();
  }

  /** Waits for a wake-up, `ms` or stop, whichever comes first; leaves no timer behind. */
  function idle(ms: number): Promise<void> {
    // Stopped already (during a probe or a recovery): no wait, the loop stops next.
    if (stopper.signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        cancelTimer();
        stopper.signal.removeEventListener("abort", done);
        wakeUp = undefined;
        resolve();
      };
      const cancelTimer = clock.setTimer(done, ms);
      stopper.signal.addEventListener("abort", done, { once: true });
      wakeUp = done;
    });
  }

  function send(rows: readonly DrainRow[]): Flight {
    const messages: string[] = [];
    const ids: number[] = [];
    const unusable: Array<{ event: DrainRow; error: ForwarderError }> = [];
    const tooLarge: number[] = [];
    let truncated = 0;
    for (const row of rows) {
      try {
        const detection = row.detection ?? (JSON.parse(row.body ?? "") as Record<string, unknown>);
        const formatted = target.formatter.format(detection, row.kind);
        truncated += formatted.truncated;
        if (formatted.tooLarge) {
          // Even with every value cut to the floor it exceeds max_message_bytes: never sendable.
          tooLarge.push(row.id);
          continue;
        }
        messages.push(formatted.text);
        ids.push(row.id);
      } catch (err) {
        unusable.push({ event: row, error: toForwarderError(err, "E_FORMAT") });
      }
    }
    quarantine(unusable);
    dropUnsendable(tooLarge);
    if (truncated > 0) metrics.fieldsTruncated.inc(labels, truncated);
    if (ids.length === 0) return { events: rows.length, chars: 0, done: Promise.resolve(undefined) };
    let chars = 0;
    for (const m of messages) chars += m.length;
    const done = target.sink.send(messages).then(
      (result) => {
        try {
          store.ack(name, ids);
        } catch (err) {
          // Not acknowledged means sent again later: a duplicate, never a loss.
          return toForwarderError(err, "E_STATE_WRITE");
        }
        const dropped = result.dropped.length;
        if (dropped > 0) {
          const reason = result.dropped[0]?.reason ?? "too_large";
          events.eventsDropped(log, { destination: name, reason, count: dropped });
        }
        metrics.eventsSent.inc(labels, ids.length - dropped);
        try {
          recordOk();
        } catch {
          // Delivery status is best effort; the next ack will tell whether the state still works.
        }
        return undefined;
      },
      (err: unknown) => {
        if (err instanceof PartialSendError) {
          // RELP: the receiver acknowledged these before the send failed; only the others are sent again.
          try {
            acknowledgePart(ids, err);
          } catch (stateErr) {
            return toForwarderError(stateErr, "E_STATE_WRITE");
          }
        }
        return toForwarderError(err, "E_SINK_WRITE");
      },
    );
    return { events: rows.length, chars, done };
  }

  /** Moves events this destination cannot encode to the quarantine (and out of its outbox), counting them. */
  function quarantine(unusable: ReadonlyArray<{ event: DrainRow; error: ForwarderError }>): void {
    for (const { event, error } of unusable) {
      try {
        const body = event.body ?? JSON.stringify(event.detection);
        store.quarantine(name, { id: event.id, tenant: event.tenant, kind: event.kind, body }, "unencodable");
      } catch (err) {
        fatal(toForwarderError(err, "E_STATE_WRITE"));
        return;
      }
      events.eventUnencodable(log, event, error);
    }
  }

  /** The confirmed part of a failed send: acknowledged and counted as sent; each refusal counted as an error. */
  function acknowledgePart(ids: readonly number[], failure: PartialSendError): void {
    if (failure.refused > 0) events.messagesRefused(log, name, failure.refused);
    const confirmed = failure.confirmed.flatMap((i) => (ids[i] === undefined ? [] : [ids[i]]));
    if (confirmed.length === 0) return;
    store.ack(name, confirmed);
    metrics.eventsSent.inc(labels, confirmed.length);
  }

  /**
   * Acknowledges events that even cut down exceed max_message_bytes, counting them: dropped, never
   * silently.
   */
  function dropUnsendable(ids: readonly number[]): void {
    if (ids.length === 0) return;
    try {
      store.ack(name, ids);
    } catch (err) {
      fatal(toForwarderError(err, "E_STATE_WRITE"));
      return;
    }
    events.eventsDropped(log, {
      destination: name,
      reason: "too_large",
      count: ids.length,
      unfit: { maxMessageBytes: target.maxMessageBytes },
    });
  }

  function recordOk(): void {
    const now = clock.now();
    // One status write per 10 s is plenty for `status`; the hot path stays free of extra writes.
    if (now - lastRecordedOk < 10_000) return;
    lastRecordedOk = now;
    store.recordDelivery(name, { ok: true });
  }

  /** While idle, keeps `mde_destination_up` truthful: a no-op on an open connection, else one connect. */
  async function probe(): Promise<void> {
    try {
      await target.sink.check();
    } catch (err) {
      const error = toForwarderError(err, "E_SINK_CONNECT");
      if (error.code === "E_SHUTDOWN") return;
      events.probeFailed(log, name, error);
      try {
        store.recordDelivery(name, { ok: false, code: error.code, message: error.message });
      } catch {
        // Delivery status is best effort.
      }
    }
  }

  /** Whether the pump ends on an empty outbox, and after how many failures; finish() changes it mid-run. */
  const mode = { untilEmpty: false, maxFailures: Number.POSITIVE_INFINITY };
  const limits: WindowLimits = {
    initial: initialInFlight,
    afterFailure: Math.min(initialInFlight, options.inFlightAfterFailure ?? DEFAULT_IN_FLIGHT_AFTER_FAILURE),
    max: maxInFlight,
    maxChars: options.maxInFlightChars ?? DEFAULT_MAX_IN_FLIGHT_CHARS,
  };

  /** A recovery is done (the failed connection's flights all settled): count it, log it and record it. */
  function reportFailure(error: ForwarderError, failures: number, delayMs: number | undefined): void {
    lastRecordedOk = Number.NEGATIVE_INFINITY;
    events.sendFailed(log, name, error, { failures, delayMs });
    try {
      store.recordDelivery(name, { ok: false, code: error.code, message: error.message });
    } catch {
      // The state error shows in its own logs; delivery status is best effort.
    }
  }

  /** Runs the flight window (flight-window.ts): reads, sends, settles and backs off as it says. */
  async function pump(): Promise<boolean> {
    const flights: Flight[] = [];
    let state = initialDrainState(limits);
    /** The backoff of the current pause, chosen when the failure is reported. */
    let pauseMs = 0;

    const step = (event: DrainEvent): void => {
      const before = state;
      state = nextDrainState(state, event, limits, mode);
      if (state.phase === before.phase || state.error === undefined) return;
      if (state.phase === "paused") {
        pauseMs = retryDelay(state.failures, state.error, policy);
        reportFailure(state.error, state.failures, pauseMs);
      } else if (state.stopReason === "gave-up") reportFailure(state.error, state.failures, undefined);
      else if (state.stopReason === "fatal") fatal(state.error);
    };

    /** The oldest flight; settling and recovering always have one. */
    const oldest = (): Flight => {
      const flight = flights[0];
      if (flight === undefined)
        throw new ForwarderError("E_INTERNAL", `drain: no flight in phase ${state.phase}`);
      return flight;
    };

    const settleOldest = async (): Promise<void> => {
      const flight = oldest();
      flights.shift();
      step({
        type: "settled",
        events: flight.events,
        chars: flight.chars,
        outcome: outcomeOf(await flight.done),
      });
    };

    /** Waits for the oldest flight or a wake-up (new rows, finish, stop), whichever comes first. */
    const settleOldestOrWake = async (): Promise<void> => {
      const flight = oldest();
      const woken = new Promise<true>((resolve) => {
        wakeUp = () => resolve(true);
      });
      const first = await Promise.race([flight.done.then(() => false as const), woken]);
      wakeUp = undefined;
      if (first) step({ type: "woken" });
      else await settleOldest();
    };

    for (;;) {
      if (stopper.signal.aborted) step({ type: "stop" });
      switch (state.phase) {
        case "reading": {
          let rows: readonly DrainRow[];
          try {
            rows = deps.tail?.take(state.cursor, batchSize) ?? store.next(name, state.cursor, batchSize);
          } catch (err) {
            step({ type: "fatal", error: toForwarderError(err, "E_STATE_CORRUPT") });
            break;
          }
          if (rows.length === 0) {
            step({ type: "empty" });
            break;
          }
          const lastId = rows[rows.length - 1]?.id ?? state.cursor;
          const flight = send(rows);
          flights.push(flight);
          step({ type: "read", events: flight.events, chars: flight.chars, lastId });
          break;
        }
        case "settling":
          // With room in the window (the outbox was empty when last read), rows stored meanwhile need not wait
          // for the oldest flight's confirmation, a second away on TCP: a wake-up sends them at once.
          if (!full(state, limits)) await settleOldestOrWake();
          else await settleOldest();
          break;
        case "recovering":
          await settleOldest();
          break;
        case "paused": {
          // New events (a wake-up) end the pause early: after a long outage the backoff may be long, and
          // a recovered destination should not wait for it while fresh detections arrive.
          await idle(pauseMs);
          step({ type: "resumed" });
          break;
        }
        case "idle":
          await probe();
          await idle(idleCheckMs);
          step({ type: "resumed" });
          break;
        case "done":
          return true;
        case "stopped":
          // Stopping (or giving up): sends already on the wire are confirmed or failed, and acked accordingly.
          while (flights.length > 0) await settleOldest();
          return (store.outboxDepths().get(name) ?? 0) === 0;
      }
    }
  }

  return {
    name,
    wake,
    async run() {
      running = pump();
      await running;
    },
    async runUntilEmpty(maxFailures) {
      mode.untilEmpty = true;
      mode.maxFailures = maxFailures;
      running = pump();
      return running;
    },
    async finish(maxFailures) {
      mode.untilEmpty = true;
      mode.maxFailures = maxFailures;
      wake();
      return running ?? false;
    },
    async stop() {
      stopper.abort();
      wake();
      await running;
    },
  };
}
