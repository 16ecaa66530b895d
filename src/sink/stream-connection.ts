// The connection of a TCP or TLS sink, as an explicit state machine: the sends it carries, the one
// connection under them, and the timers that confirm or fail them. I/O goes through a StreamTransport
// (stream-socket.ts) and time through a Clock, so the unit tests drive every transition with fakes.
//
// Confirmation: a write whose callback fired only means the bytes reached the local kernel; if the peer
// dies they can still be lost (README, "Delivery guarantees"). So a send is *confirmed* only when its write
// completed and the connection then stayed healthy (no 'error', 'end' or 'close') for `confirmAfterMs`.
// When the connection breaks, every send not yet confirmed rejects and the caller sends it again on a new
// connection: duplicates are possible, loss is not.
//
// States (`state`):
//   idle        no connection. A send or a check starts a connect attempt.
//   connecting  one attempt in progress; sends queue, checks wait for it.
//   open        sends are written as they come (pipelined), confirmed in call order.
//   retiring    the TLS files changed and validate: nothing new is written on this connection; once every
//               send on it is confirmed it is ended politely (close_notify, FIN), and the sends queued
//               meanwhile open the next connection, with the new files.
//   closed      close() finished waiting: everything unsettled was rejected and the connection ended.
// `closing` is not a state of the connection but of the sink: from close() on, sends and checks are
// refused and rotations ignored, while the connection goes on through the table below until every send
// has settled or the close timeout expires; then it is torn down (closed).
//
//   state       event                               next         effect
//   idle        send, check                         connecting   connect; the send queues, the check waits
//   connecting  send, check                         connecting   queue / wait
//   connecting  connected                           open         up; checks resolve; queued sends written
//   connecting  connect failed                      idle         down if anyone waited; they reject
//   open        send                                open         written now (queued while the socket is blocked)
//   open        check                               open         resolves
//   open        write done                          open         the confirm timer runs for the oldest write
//   open        confirm timer                       open         sends written confirmAfterMs ago resolve
//   open        drain (after a blocked write)       open         queued sends written
//   open        write timeout                       idle         destroyed; every send rejects E_SINK_TIMEOUT; down
//   open        end, error, close, write error      idle         destroyed; every send rejects; down (*)
//   open        TLS files rotated                   retiring     (ended at once if nothing is in flight)
//   retiring    send                                retiring     queues for the next connection
//   retiring    check                               retiring     resolves (the connection still works)
//   retiring    confirm timer, last one confirmed   idle         ended politely; queued sends connect anew (connecting)
//   retiring    end, error, close, write timeout    idle         as from open; the queued sends reject too
//   any         close()                             (same)       closing: sends and checks refused, rotation ignored
//   closing     every send settled, or the timeout  closed       connect cancelled; the rest rejects E_SHUTDOWN;
//                                                                ended politely (destroyed if sends were cut)
// (*) Nothing in flight or queued: "Idle connection lost." at debug and `up` unchanged (a receiver's idle
// timeout is no failure), except for E_SINK_TLS, which the next connect would hit too. A connection the
// receiver drops within confirmAfterMs of a handshake in which it asked for a client certificate, before
// anything was confirmed on it, is reported as a refused certificate (refusedAfterHandshakeError).
//
// Invariants:
// - `queued` holds sends not yet written, `inFlight` sends written on the current connection, both in call
//   order; settlement happens only from the head of `inFlight`, so sends settle in call order.
// - `inFlight` is empty unless the state is open or retiring.
// - A connection failure rejects every send in both lists; reconnecting is the next send's job (one
//   connect attempt per send while disconnected; backoff is the caller's).
// - One confirm timer and one write timer serve the whole pipeline; both are cleared when the connection goes.
// - Events of a connection that is no longer the current one change nothing.
import type { CancelTimer, Clock } from "../clock.js";
import type { ForwarderError } from "../errors.js";
import type { Logger } from "../log.js";
import {
  closedError,
  refusedAfterHandshakeError,
  runtimeError,
  sendAborted,
  timeoutError,
} from "./failures.js";
import type { ConnectResult, StreamSocket, StreamTransport } from "./stream-socket.js";
import type { SendResult, SinkOptions, UpTracker } from "./types.js";

export type StreamState = "idle" | "connecting" | "open" | "retiring" | "closed";

export interface StreamConnectionOptions {
  /** The destination (errors name it; write_timeout bounds a pending write). */
  sink: SinkOptions;
  /** How long a written send must stay on a healthy connection before it counts as confirmed. */
  confirmAfterMs: number;
}

export interface StreamConnectionDeps {
  log: Logger;
  tracker: UpTracker;
  transport: StreamTransport;
  clock: Clock;
}

export interface StreamConnection {
  readonly state: StreamState;
  /** close() was called. */
  readonly closing: boolean;
  /** Sends already framed bytes; settles as Sink.send does. */
  send(frames: Buffer): Promise<SendResult>;
  /** Resolves when a connection is open (connecting once if needed); rejects like a failed connect. */
  check(): Promise<void>;
  /** See Sink.close; call it once (the sink keeps the promise). */
  close(timeoutMs: number): Promise<void>;
}

/** How long a retired connection may wait for the receiver to close its side before it is cut. */
export const RETIRE_GRACE_MS = 5_000;
const NOTHING_DROPPED: SendResult = Object.freeze({ dropped: Object.freeze([]) });
const EMPTY = Buffer.alloc(0);

interface Entry {
  /** Released once written, so confirmed-but-pending sends do not hold their payload. */
  frames: Buffer;
  /** clock.now() when the write callback fired; undefined while the write is pending. */
  writtenAt: number | undefined;
  resolve(result: SendResult): void;
  reject(error: ForwarderError): void;
}

interface Connection {
  readonly socket: StreamSocket;
  /** socket.write returned false: wait for 'drain' before writing more. */
  blocked: boolean;
  /** clock.now() when it was established. */
  readonly openedAt: number;
  /** A send on it was confirmed. */
  confirmed: boolean;
}

type State =
  | { readonly name: "idle" }
  | { readonly name: "connecting"; cancel: ((error: ForwarderError) => void) | undefined }
  | { readonly name: "open"; readonly conn: Connection }
  | { readonly name: "retiring"; readonly conn: Connection }
  | { readonly name: "closed" };

export function createStreamConnection(
  options: StreamConnectionOptions,
  deps: StreamConnectionDeps,
): StreamConnection {
  const { sink, confirmAfterMs } = options;
  const { log, tracker, transport, clock } = deps;
  const queued: Entry[] = [];
  const inFlight: Entry[] = [];
  /** Health checks waiting for the connect attempt in progress. */
  const checks: Array<{ resolve: () => void; reject: (error: ForwarderError) => void }> = [];
  let state: State = { name: "idle" };
  let closing = false;
  let onIdle: (() => void) | undefined;
  let pendingWrites = 0;
  let lastWriteProgress = 0;
  let writeTimer: CancelTimer | undefined;
  let confirmTimer: CancelTimer | undefined;

  const connectionOf = (s: State): Connection | undefined =>
    s.name === "open" || s.name === "retiring" ? s.conn : undefined;
  const isCurrent = (conn: Connection): boolean => connectionOf(state) === conn;

  function send(frames: Buffer): Promise<SendResult> {
    if (closing) return Promise.reject(sendAborted(sink, "the sink is closed"));
    const promise = new Promise<SendResult>((resolve, reject) => {
      queued.push({ frames, writtenAt: undefined, resolve, reject });
    });
    pump();
    return promise;
  }

  function check(): Promise<void> {
    if (closing) return Promise.reject(sendAborted(sink, "the sink is closed"));
    if (connectionOf(state) !== undefined) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      checks.push({ resolve, reject });
      if (state.name === "idle") connect();
    });
  }

  /** Moves queued sends on: a connect from idle, writes on an open connection; retiring ones wait. */
  function pump(): void {
    if (queued.length === 0) return;
    if (state.name === "idle") {
      connect();
      return;
    }
    if (state.name !== "open") return;
    const { conn } = state;
    while (!conn.blocked && isCurrent(conn)) {
      const entry = queued.shift();
      if (entry === undefined) break;
      write(conn, entry);
    }
  }

  function write(conn: Connection, entry: Entry): void {
    inFlight.push(entry);
    if (pendingWrites === 0) lastWriteProgress = clock.now();
    pendingWrites++;
    armWriteTimer();
    const flushed = conn.socket.write(entry.frames, (err) => {
      if (!isCurrent(conn)) return;
      if (err) {
        lost(conn, runtimeError(sink, err));
        return;
      }
      const now = clock.now();
      pendingWrites--;
      lastWriteProgress = now;
      entry.writtenAt = now;
      entry.frames = EMPTY;
      if (pendingWrites === 0) clearWriteTimer();
      armConfirmTimer();
    });
    if (!flushed) conn.blocked = true;
  }

  function armWriteTimer(): void {
    if (writeTimer !== undefined || pendingWrites === 0) return;
    const delay = Math.max(0, lastWriteProgress + sink.write_timeout - clock.now());
    writeTimer = clock.setTimer(onWriteTimer, delay);
  }

  function onWriteTimer(): void {
    writeTimer = undefined;
    const conn = connectionOf(state);
    if (conn === undefined || pendingWrites === 0) return;
    // Timers may fire a fraction of a millisecond early: allow 1 ms.
    if (clock.now() - lastWriteProgress + 1 >= sink.write_timeout) {
      fail(conn, timeoutError(sink));
      return;
    }
    armWriteTimer();
  }

  function clearWriteTimer(): void {
    writeTimer?.();
    writeTimer = undefined;
  }

  function armConfirmTimer(): void {
    if (confirmTimer !== undefined) return;
    const writtenAt = inFlight[0]?.writtenAt;
    if (writtenAt === undefined) return;
    confirmTimer = clock.setTimer(onConfirmTimer, Math.max(0, writtenAt + confirmAfterMs - clock.now()));
  }

  function onConfirmTimer(): void {
    confirmTimer = undefined;
    const now = clock.now();
    for (;;) {
      const head = inFlight[0];
      if (head?.writtenAt === undefined || head.writtenAt + confirmAfterMs > now + 1) break;
      inFlight.shift();
      const conn = connectionOf(state);
      if (conn !== undefined) conn.confirmed = true;
      head.resolve(NOTHING_DROPPED);
    }
    armConfirmTimer();
    endIfRetired();
    checkIdle();
  }

  function clearConfirmTimer(): void {
    confirmTimer?.();
    confirmTimer = undefined;
  }

  function connect(): void {
    log.debug({ host: sink.host, port: sink.port, protocol: sink.protocol }, "Connecting.");
    const attempt: State & { name: "connecting" } = { name: "connecting", cancel: undefined };
    state = attempt;
    const cancel = transport.connect((result) => connected(attempt, result));
    // A transport may answer at once (the fakes of the unit tests do): then there is nothing to cancel.
    if (state === attempt) attempt.cancel = cancel;
  }

  function connected(attempt: State, result: ConnectResult): void {
    if (state !== attempt) {
      // Not ours any more (cannot happen with openStream, which answers once, before any cancel).
      if ("socket" in result) result.socket.destroy();
      return;
    }
    const waiting = checks.splice(0);
    if ("error" in result) {
      state = { name: "idle" };
      const victims = queued.splice(0);
      if ((victims.length > 0 || waiting.length > 0) && result.error.code !== "E_SHUTDOWN") {
        tracker.markDown(result.error);
      }
      for (const entry of victims) entry.reject(result.error);
      for (const c of waiting) c.reject(result.error);
      checkIdle();
      return;
    }
    adopt(result.socket);
    tracker.markUp();
    for (const c of waiting) c.resolve();
    pump();
  }

  /** Attaches the handlers; called synchronously on connect so no event is missed. */
  function adopt(socket: StreamSocket): void {
    const conn: Connection = { socket, blocked: false, openedAt: clock.now(), confirmed: false };
    state = { name: "open", conn };
    socket.listen({
      onEnd: () => lost(conn, closedError(sink, true)),
      onError: (err) => lost(conn, runtimeError(sink, err)),
      onClose: () => lost(conn, closedError(sink, false)),
      onDrain: () => {
        conn.blocked = false;
        if (isCurrent(conn)) pump();
      },
      onRotate: () => retire(conn),
    });
  }

  /** The connection broke under us (not a timeout of ours). */
  function lost(conn: Connection, error: ForwarderError): void {
    const refused =
      conn.socket.certRequested &&
      !conn.confirmed &&
      error.code === "E_SINK_WRITE" &&
      clock.now() - conn.openedAt <= confirmAfterMs;
    fail(conn, refused ? refusedAfterHandshakeError(sink, error) : error);
  }

  function fail(conn: Connection, error: ForwarderError): void {
    if (!isCurrent(conn)) return;
    leave(conn);
    conn.socket.destroy();
    clearWriteTimer();
    clearConfirmTimer();
    pendingWrites = 0;
    const victims = [...inFlight.splice(0), ...queued.splice(0)];
    if (victims.length === 0 && error.code !== "E_SINK_TLS") {
      // An idle connection closed by the receiver (idle timeout, restart) is not a failed send:
      // the next send reconnects. A TLS refusal is, even without a send: the next connect fails too.
      log.debug({ code: error.code, reason: error.message }, "Idle connection lost.");
    } else {
      tracker.markDown(error);
      for (const entry of victims) entry.reject(error);
    }
    checkIdle();
  }

  /** The current connection stops being current: back to idle. */
  function leave(conn: Connection): void {
    conn.socket.unwatch();
    if (isCurrent(conn)) state = { name: "idle" };
  }

  /** New TLS files validated: stop writing on `conn`, and end it once its sends are confirmed. */
  function retire(conn: Connection): void {
    if (state.name !== "open" || state.conn !== conn || closing) return;
    state = { name: "retiring", conn };
    endIfRetired();
  }

  function endIfRetired(): void {
    if (state.name !== "retiring" || inFlight.length > 0) return;
    const { conn } = state;
    leave(conn);
    log.debug("Connection ended to pick up the new TLS files.");
    conn.socket.end(RETIRE_GRACE_MS);
    pump();
  }

  function checkIdle(): void {
    if (onIdle !== undefined && queued.length === 0 && inFlight.length === 0) onIdle();
  }

  async function close(timeoutMs: number): Promise<void> {
    closing = true;
    connectionOf(state)?.socket.unwatch();
    const deadline = clock.now() + timeoutMs;
    if (queued.length > 0 || inFlight.length > 0) {
      let cancelTimer: CancelTimer | undefined;
      await new Promise<void>((resolve) => {
        onIdle = resolve;
        cancelTimer = clock.setTimer(resolve, timeoutMs);
      });
      cancelTimer?.();
      onIdle = undefined;
    }
    const error = sendAborted(sink, `not confirmed within the close timeout (${timeoutMs} ms)`);
    if (state.name === "connecting") state.cancel?.(error);
    const conn = connectionOf(state);
    state = { name: "closed" };
    clearWriteTimer();
    clearConfirmTimer();
    const victims = [...inFlight.splice(0), ...queued.splice(0)];
    for (const entry of victims) entry.reject(error);
    if (conn !== undefined) {
      conn.socket.unwatch();
      if (victims.length > 0) {
        conn.socket.destroy();
      } else {
        // Everything is confirmed: end politely and give the receiver the rest of the budget to
        // close its side.
        conn.socket.end(Math.max(0, deadline - clock.now()));
      }
    }
    // A retired connection still closing gets no more than the budget either.
    const cut = clock.setTimer(() => transport.destroyAll(), Math.max(0, deadline - clock.now()));
    await transport.allClosed();
    cut();
  }

  return {
    get state() {
      return state.name;
    },
    get closing() {
      return closing;
    },
    send,
    check,
    close,
  };
}
