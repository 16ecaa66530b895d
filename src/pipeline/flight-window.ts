// The drain's flight window as a state machine, apart from the loop that runs it (drain.ts): how many
// events may be sent and not yet confirmed, where reading the outbox resumes, how many sends failed in a
// row, and what to do next. Pure: no store, no sink, no timer; nextDrainState maps a state and an event
// to the next state, and the unit tests walk every transition in microseconds.
//
// Sends are pipelined because the sink confirms a write only after it stayed on a healthy connection for
// a while. The window starts at `initial` after a start and at `afterFailure` after a failed send, and
// grows by what each confirmed flight carried, up to `max`: a crash soon after a start resends `initial`
// events, a receiver that keeps breaking the connection gets `afterFailure` resent per break, not `max`. A failed send rewinds the cursor: everything not yet acknowledged is read again from
// the outbox and resent after a backoff; the invariant that makes that safe is the drain's (a row is
// acknowledged only after its send was confirmed).
//
// Phases:
//   reading     room in the window: read the rows after the cursor and send them as one flight
//   settling    the window is full, or the outbox has nothing more: wait for the oldest flight
//   recovering  a flight failed: wait for the others (their outcomes change nothing), then back off
//   paused      the backoff before reading again from the start of the outbox
//   idle        nothing to read and nothing in flight: probe the sink, wait for a wake-up
//   done        (until-empty mode) nothing left: the run ends, delivered
//   stopped     stop(), a state failure, or too many failures: the flights in the air settle, the run ends
//
//   phase       event                              next                     effect
//   reading     rows read                          reading, settling (full) flights +1, in flight +events (+chars), cursor = last id
//   reading     nothing after the cursor           settling                 (flights in the air)
//   reading     nothing after the cursor           done / idle              (none in the air; until-empty / running)
//   reading     outbox unreadable (fatal)          stopped                  the destination stops draining
//   settling    oldest confirmed                   reading, settling        window +events (at most max); failures = 0
//   settling    oldest failed or partial           recovering               (other flights in the air)
//   settling    oldest failed or partial           paused                   (none) recovery done, see below
//   settling    oldest unacknowledged              stopped                  (none) the state failed: fatal
//   settling    woken (new rows), room in window   reading                  (not waiting a confirmation delay)
//   settling    woken, the window full             settling
//   recovering  a flight settles, others remain    recovering
//   recovering  the last flight settles            paused / stopped         recovery done, see below
//   paused      backoff over, or a wake-up         reading
//   idle        idle_check over, or a wake-up      reading
//   reading, settling, paused, idle   stop         stopped
//   recovering  stop                               recovering               the stop is taken once it is done
//   stopped     a flight settles                   stopped                  in flight -events
// Recovery done: window = afterFailure; a state error (an acknowledgement that could not be written) stops the
// drain (fatal); otherwise cursor = 0, failures +1, and until-empty mode gives up (stopped) once failures
// reach maxFailures, else pauses. A partial flight (RELP: PartialSendError) is a failure whose confirmed
// part was acknowledged when it settled; only the rest is read again.
import { ForwarderError, isStateFailure } from "../errors.js";
import { PartialSendError } from "../sink/index.js";

export type DrainPhase = "reading" | "settling" | "recovering" | "paused" | "idle" | "done" | "stopped";

export interface WindowLimits {
  /** The window after a start, in events. */
  readonly initial: number;
  /** The window after a failed send (a flapping receiver gets at most this many again per break). */
  readonly afterFailure: number;
  /** The window at most. */
  readonly max: number;
  /**
   * Characters of the messages in flight at most. Messages a slow receiver has not taken yet wait in memory,
   * so the window in events alone lets a few large detections hold gigabytes.
   */
  readonly maxChars: number;
}

/** Whether a run ends when the outbox is empty, and after how many failures in a row; finish() changes it mid-run. */
export interface DrainMode {
  readonly untilEmpty: boolean;
  readonly maxFailures: number;
}

/** How a flight (one send of a batch of rows) ended. */
export type FlightOutcome =
  /** Confirmed and acknowledged (or nothing in it was sendable). */
  | { readonly kind: "confirmed" }
  /** Failed after the receiver confirmed part of it (RELP); that part was acknowledged. */
  | { readonly kind: "partial"; readonly error: ForwarderError }
  /** Failed: none of it is acknowledged. */
  | { readonly kind: "failed"; readonly error: ForwarderError }
  /** Confirmed, but the acknowledgement could not be written to the state. */
  | { readonly kind: "unacknowledged"; readonly error: ForwarderError };

export interface DrainState {
  readonly phase: DrainPhase;
  /** Events that may be in flight before reading waits for the oldest flight. */
  readonly window: number;
  /** Events sent and not yet settled. */
  readonly inFlight: number;
  /** Characters of the messages sent and not yet settled. */
  readonly inFlightChars: number;
  /** Flights (sends) not yet settled. */
  readonly flights: number;
  /** Outbox id of the last row read; the next read starts after it. */
  readonly cursor: number;
  /** Recoveries in a row since the last confirmed flight. */
  readonly failures: number;
  /** What failed: the recovery under way (recovering), the last one (paused), or why it stopped. */
  readonly error: ForwarderError | undefined;
  readonly stopReason: "stop" | "fatal" | "gave-up" | undefined;
}

export type DrainEvent =
  | { readonly type: "read"; readonly events: number; readonly chars: number; readonly lastId: number }
  | { readonly type: "empty" }
  | {
      readonly type: "settled";
      readonly events: number;
      readonly chars: number;
      readonly outcome: FlightOutcome;
    }
  | { readonly type: "resumed" }
  /** New rows (or finish, or stop) while settling with room in the window: read them now. */
  | { readonly type: "woken" }
  | { readonly type: "stop" }
  | { readonly type: "fatal"; readonly error: ForwarderError };

export function initialDrainState(limits: WindowLimits): DrainState {
  return {
    phase: "reading",
    window: limits.initial,
    inFlight: 0,
    inFlightChars: 0,
    flights: 0,
    cursor: 0,
    failures: 0,
    error: undefined,
    stopReason: undefined,
  };
}

/** What a flight's settlement (drain.ts: undefined once acknowledged, else the error) means for the window. */
export function outcomeOf(error: ForwarderError | undefined): FlightOutcome {
  if (error === undefined) return { kind: "confirmed" };
  if (isStateFailure(error)) return { kind: "unacknowledged", error };
  if (error instanceof PartialSendError) return { kind: "partial", error };
  return { kind: "failed", error };
}

/** Whether the window is full: in events, or in characters of messages. */
export function full(s: DrainState, limits: WindowLimits): boolean {
  return s.inFlight >= s.window || s.inFlightChars >= limits.maxChars;
}

/** Room in the window: read; else wait for the oldest flight. */
function fill(s: DrainState, limits: WindowLimits): DrainState {
  return { ...s, phase: s.flights > 0 && full(s, limits) ? "settling" : "reading" };
}

/** The state with a flight of `events` events (`chars` characters) settled. */
function minusFlight(s: DrainState, events: number, chars: number): DrainState {
  return {
    ...s,
    flights: s.flights - 1,
    inFlight: s.inFlight - events,
    inFlightChars: s.inFlightChars - chars,
  };
}

/** Every flight of the failed connection has settled: shrink the window, rewind, and back off or stop. */
function recovered(s: DrainState, error: ForwarderError, limits: WindowLimits, mode: DrainMode): DrainState {
  const reset = { ...s, window: limits.afterFailure, error };
  if (isStateFailure(error)) return { ...reset, phase: "stopped", stopReason: "fatal" };
  const failures = s.failures + 1;
  const rewound = { ...reset, cursor: 0, failures };
  if (mode.untilEmpty && failures >= mode.maxFailures) {
    return { ...rewound, phase: "stopped", stopReason: "gave-up" };
  }
  return { ...rewound, phase: "paused" };
}

function unexpected(s: DrainState, event: DrainEvent): never {
  throw new ForwarderError("E_INTERNAL", `drain: event ${event.type} in phase ${s.phase}`);
}

export function nextDrainState(
  s: DrainState,
  event: DrainEvent,
  limits: WindowLimits,
  mode: DrainMode,
): DrainState {
  switch (s.phase) {
    case "reading":
      switch (event.type) {
        case "read":
          return fill(
            {
              ...s,
              flights: s.flights + 1,
              inFlight: s.inFlight + event.events,
              inFlightChars: s.inFlightChars + event.chars,
              cursor: event.lastId,
            },
            limits,
          );
        case "empty":
          if (s.flights > 0) return { ...s, phase: "settling" };
          return { ...s, phase: mode.untilEmpty ? "done" : "idle" };
        case "fatal":
          return { ...s, phase: "stopped", stopReason: "fatal", error: event.error };
        case "stop":
          return { ...s, phase: "stopped", stopReason: "stop" };
        default:
          return unexpected(s, event);
      }
    case "settling":
      switch (event.type) {
        case "settled": {
          const settled = minusFlight(s, event.events, event.chars);
          const { outcome } = event;
          if (outcome.kind === "confirmed") {
            return fill(
              {
                ...settled,
                window: Math.min(limits.max, s.window + event.events),
                failures: 0,
              },
              limits,
            );
          }
          if (settled.flights > 0) return { ...settled, phase: "recovering", error: outcome.error };
          return recovered(settled, outcome.error, limits, mode);
        }
        case "woken":
          return fill(s, limits);
        case "stop":
          return { ...s, phase: "stopped", stopReason: "stop" };
        default:
          return unexpected(s, event);
      }
    case "recovering":
      switch (event.type) {
        case "settled": {
          const settled = minusFlight(s, event.events, event.chars);
          if (settled.flights > 0 || s.error === undefined) return settled;
          return recovered(settled, s.error, limits, mode);
        }
        case "stop":
          return s;
        default:
          return unexpected(s, event);
      }
    case "paused":
    case "idle":
      switch (event.type) {
        case "resumed":
          return { ...s, phase: "reading" };
        case "stop":
          return { ...s, phase: "stopped", stopReason: "stop" };
        default:
          return unexpected(s, event);
      }
    case "done":
      return event.type === "stop" ? s : unexpected(s, event);
    case "stopped":
      switch (event.type) {
        case "settled":
          return minusFlight(s, event.events, event.chars);
        case "stop":
          return s;
        default:
          return unexpected(s, event);
      }
  }
}
