// RELP transport (rsyslog's Reliable Event Logging Protocol), over TCP or TLS: every message is a `syslog`
// command that the receiver answers, so a send is confirmed by the receiver itself (`rsp 200`), never
// inferred from a healthy connection as on plain TCP (stream.ts).
//
// The protocol (transaction numbers, window, which answer settles which message) is RelpSession's; this
// file owns the connection, the timers and the sends:
// - A connection is opened lazily, then the session (`open`, answered with offers); only then do syslog
//   commands go out, at most `window_size` unanswered at once. Messages beyond the window wait here, in call
//   order, and go out as answers free the window.
// - A send settles once each of its messages is answered: it resolves when every answer was 200, and
//   rejects with E_SINK_REJECTED (a PartialSendError naming the confirmed ones) when the receiver refused
//   some. Sends settle in call order.
// - When the connection or the session fails, every send not settled rejects; a send of which some
//   messages were confirmed rejects with a PartialSendError, so the caller acknowledges those and sends
//   only the rest again (at most the window was unanswered: that bounds the duplicates). Reconnecting
//   is the next send's job; backoff is the caller's.
// - Messages waiting for an answer with none coming for write_timeout fail the connection
//   (E_SINK_TIMEOUT): a stopped or wedged receiver does not hold sends forever.
// - A session is replaced, politely (its answers awaited, then `close`), when its TLS files change or its
//   transaction numbers run out; the sends meanwhile wait for the new one.
import { readFileSync } from "node:fs";
import type net from "node:net";
import { performance } from "node:perf_hooks";
import tls from "node:tls";
import type { ForwarderError } from "../errors.js";
import type { Logger } from "../log.js";
import { DEFAULT_RELP_WINDOW, usesTls } from "./config.js";
import {
  answerTimeoutError,
  closedError,
  notOpenedError,
  openTimeoutError,
  PartialSendError,
  protocolError,
  refusedAfterHandshakeError,
  rejectedError,
  runtimeError,
  sendAborted,
} from "./failures.js";
import { RelpProtocolError } from "./relp-frame.js";
import { RelpSession, type RelpSessionEvent } from "./relp-session.js";
import { createSocketSet } from "./socket-set.js";
import { openStream } from "./stream-socket.js";
import { configuredTlsFiles, type TlsFileStamps } from "./tls-material.js";
import { createTlsWatcher, type TlsFilesChanged, type TlsWatcher } from "./tls-watcher.js";
import {
  DEFAULT_CLOSE_TIMEOUT_MS,
  type SendResult,
  type Sink,
  type SinkOptions,
  type UpTracker,
} from "./types.js";

export interface RelpSinkDeps {
  log: Logger;
  tracker: UpTracker;
  /** How often the TLS files of an open connection are checked for rotation. */
  tlsWatchIntervalMs: number;
  /** Rotated TLS files that do not validate (createSink: the tlsFilesInvalid event). */
  onError?: (error: ForwarderError, files: TlsFilesChanged) => void;
  /** The last transaction number of a session (tests lower it to see sessions replaced). */
  maxTxnr?: number;
}

const KEEPALIVE_DELAY_MS = 30_000;
/** How long a session being replaced or closed may take to answer `close` before its socket is cut. */
const CLOSE_GRACE_MS = 5_000;
const NOTHING_DROPPED: SendResult = Object.freeze({ dropped: Object.freeze([]) });

interface Entry {
  readonly messages: readonly string[];
  /** Messages handed to a session so far. */
  next: number;
  /** Messages without an answer. */
  remaining: number;
  /** Indices of the messages answered 200. */
  readonly confirmed: number[];
  refused: number;
  /** The first refusal, as the receiver worded it. */
  refusal: string | undefined;
  resolve(result: SendResult): void;
  reject(error: ForwarderError): void;
}

interface Ref {
  readonly entry: Entry;
  readonly index: number;
}

interface Connection {
  readonly socket: net.Socket;
  readonly session: RelpSession<Ref>;
  /** No longer the current connection: its failures concern no send. */
  dead: boolean;
  /** socket.write returned false: wait for 'drain' before writing more. */
  blocked: boolean;
  /** Replaced once its answers are in (TLS files changed, transaction numbers used up). */
  retiring: boolean;
  /** The receiver asked for a client certificate during the TLS handshake. */
  readonly certRequested: boolean;
  openTimer: NodeJS.Timeout | undefined;
  watcher: TlsWatcher | undefined;
  readonly stamps: TlsFileStamps | undefined;
}

let software: string | undefined;

/** The relp_software offer: our name and version (so that a receiver can work around a known bug of ours). */
function softwareOffer(): string {
  if (software !== undefined) return software;
  software = "mde-siem-forwarder";
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version?: unknown;
    };
    if (typeof pkg.version === "string" && /^[0-9A-Za-z.+-]{1,32}$/.test(pkg.version)) {
      software = `mde-siem-forwarder,${pkg.version}`;
    }
  } catch {
    // The name alone is a valid offer.
  }
  return software;
}

export function createRelpSink(options: SinkOptions, deps: RelpSinkDeps): Sink {
  const { log, tracker } = deps;
  const windowSize = options.window_size ?? DEFAULT_RELP_WINDOW;
  const watchTls = usesTls(options) && configuredTlsFiles(options).length > 0;
  /** Sends not settled, in call order. */
  const sends: Entry[] = [];
  /** Sends with messages not yet handed to a session, in call order (a suffix of `sends`). */
  const waiting: Entry[] = [];
  /** Every socket we created whose 'close' has not fired yet: close() waits for them. */
  const sockets = createSocketSet();
  /** Health checks waiting for a session to open. */
  const checks: Array<{ resolve: () => void; reject: (error: ForwarderError) => void }> = [];
  let current: Connection | undefined;
  let cancelConnect: ((error: ForwarderError) => void) | undefined;
  let answerTimer: NodeJS.Timeout | undefined;
  /** performance.now() of the last answer, or of the write that made the session wait for one. */
  let lastAnswer = 0;
  let tail: Promise<SendResult> | undefined;
  let closing = false;
  let closed: Promise<void> | undefined;
  let onIdle: (() => void) | undefined;

  function send(messages: readonly string[]): Promise<SendResult> {
    if (closing) return Promise.reject(sendAborted(options, "the sink is closed"));
    if (messages.length === 0) {
      // Nothing to send, but keep the promise that sends settle in call order.
      const done = () => NOTHING_DROPPED;
      return tail === undefined ? Promise.resolve(NOTHING_DROPPED) : tail.then(done, done);
    }
    const promise = new Promise<SendResult>((resolve, reject) => {
      const entry: Entry = {
        messages,
        next: 0,
        remaining: messages.length,
        confirmed: [],
        refused: 0,
        refusal: undefined,
        resolve,
        reject,
      };
      sends.push(entry);
      waiting.push(entry);
    });
    tail = promise;
    pump();
    return promise;
  }

  function check(): Promise<void> {
    if (closing) return Promise.reject(sendAborted(options, "the sink is closed"));
    if (current !== undefined && current.session.state === "ready") return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      checks.push({ resolve, reject });
      if (current === undefined && cancelConnect === undefined) connect();
    });
  }

  /** Hands waiting messages to the session, as far as its window allows, in one socket write. */
  function pump(): void {
    if (waiting.length === 0) return;
    const conn = current;
    if (conn === undefined) {
      if (cancelConnect === undefined) connect();
      return;
    }
    const { session } = conn;
    if (conn.dead || conn.blocked || conn.retiring || session.state !== "ready") return;
    // The answer timeout counts from the first message a session waits on, not from its last answer.
    if (session.inFlight === 0) lastAnswer = performance.now();
    const frames: Buffer[] = [];
    while (session.canSend) {
      const entry = waiting[0];
      if (entry === undefined) break;
      const index = entry.next++;
      frames.push(session.syslog(Buffer.from(entry.messages[index] as string, "utf8"), { entry, index }));
      if (entry.next === entry.messages.length) waiting.shift();
    }
    if (frames.length > 0) write(conn, frames.length === 1 ? (frames[0] as Buffer) : Buffer.concat(frames));
    if (session.exhausted) retire(conn);
  }

  function write(conn: Connection, bytes: Buffer): void {
    const flushed = conn.socket.write(bytes, (err) => {
      if (err && !conn.dead) fail(conn, runtimeError(options, err));
    });
    if (!flushed) conn.blocked = true;
    armAnswerTimer(conn);
  }

  /** Fails the connection when messages wait for an answer and none came for write_timeout. */
  function armAnswerTimer(conn: Connection): void {
    if (answerTimer !== undefined || conn.session.inFlight === 0) return;
    const delay = Math.max(0, lastAnswer + options.write_timeout - performance.now());
    answerTimer = setTimeout(() => {
      answerTimer = undefined;
      if (conn.dead || conn.session.inFlight === 0) return;
      // Timers may fire a fraction of a millisecond early: allow 1 ms.
      if (performance.now() - lastAnswer + 1 >= options.write_timeout) {
        fail(conn, answerTimeoutError(options, conn.session.inFlight));
        return;
      }
      armAnswerTimer(conn);
    }, delay);
  }

  function clearAnswerTimer(): void {
    if (answerTimer !== undefined) clearTimeout(answerTimer);
    answerTimer = undefined;
  }

  function connect(): void {
    log.debug({ host: options.host, port: options.port, protocol: options.protocol }, "Connecting.");
    cancelConnect = openStream(options, sockets.track, (result) => {
      cancelConnect = undefined;
      if ("error" in result) {
        failWaiting(result.error);
        return;
      }
      adopt(result.socket, result.stamps);
    });
  }

  /** A connection attempt failed: everything waiting for it fails with it. */
  function failWaiting(error: ForwarderError): void {
    const victims = sends.splice(0);
    waiting.length = 0;
    const waitingChecks = checks.splice(0);
    if ((victims.length > 0 || waitingChecks.length > 0) && error.code !== "E_SHUTDOWN") {
      tracker.markDown(error);
    }
    for (const entry of victims) entry.reject(failureOf(entry, error));
    for (const c of waitingChecks) c.reject(error);
    checkIdle();
  }

  /** Attaches the handlers (synchronously, so no event is missed) and opens the session. */
  function adopt(socket: net.Socket, stamps: TlsFileStamps | undefined): void {
    const conn: Connection = {
      socket,
      session: new RelpSession<Ref>({ windowSize, software: softwareOffer(), maxTxnr: deps.maxTxnr }),
      dead: false,
      blocked: false,
      retiring: false,
      // OpenSSL knows the signature algorithms a server accepts for a client certificate only when
      // it asked for one: the one trace of a CertificateRequest that Node exposes.
      certRequested: socket instanceof tls.TLSSocket && socket.getSharedSigalgs().length > 0,
      openTimer: undefined,
      watcher: undefined,
      stamps,
    };
    current = conn;
    socket.setKeepAlive(true, KEEPALIVE_DELAY_MS);
    socket.on("data", (chunk: Buffer) => onData(conn, chunk));
    socket.on("end", () => lost(conn, closedError(options, true)));
    socket.on("error", (err) => lost(conn, runtimeError(options, err)));
    socket.on("close", () => lost(conn, closedError(options, false)));
    socket.on("drain", () => {
      conn.blocked = false;
      pump();
    });
    conn.openTimer = setTimeout(() => fail(conn, openTimeoutError(options)), options.connect_timeout);
    socket.write(conn.session.open());
  }

  function onData(conn: Connection, chunk: Buffer): void {
    let events: Array<RelpSessionEvent<Ref>>;
    try {
      events = conn.session.receive(chunk);
    } catch (err) {
      const reason = err instanceof RelpProtocolError ? err.message : String(err);
      if (conn.dead) conn.socket.destroy();
      else fail(conn, protocolError(options, reason, err));
      return;
    }
    if (conn.dead) {
      // A session being closed: its answer to `close` (or a serverclose) ends it.
      if (events.some((e) => e.type === "closed" || e.type === "serverclose")) conn.socket.end();
      return;
    }
    if (events.length > 0) lastAnswer = performance.now();
    let serverClosed = false;
    for (const event of events) {
      switch (event.type) {
        case "opened":
          opened(conn, event.offers);
          break;
        case "acked":
          event.ref.entry.confirmed.push(event.ref.index);
          event.ref.entry.remaining--;
          break;
        case "refused": {
          const { entry } = event.ref;
          entry.refused++;
          entry.refusal ??= `${event.code}${event.text ? ` ${event.text}` : ""}`;
          entry.remaining--;
          break;
        }
        case "serverclose":
          serverClosed = true;
          break;
        case "closed":
          // We only close a session that is no longer current (handled above).
          break;
      }
    }
    settle();
    if (serverClosed) {
      lost(conn, closedError(options, true));
      return;
    }
    armAnswerTimer(conn);
    endIfRetired();
    pump();
  }

  function opened(conn: Connection, offers: ReadonlyMap<string, readonly string[]>): void {
    clearTimeout(conn.openTimer);
    conn.openTimer = undefined;
    log.debug(
      { host: options.host, port: options.port, server: offers.get("relp_software")?.join(",") },
      "RELP session open.",
    );
    tracker.markUp();
    for (const c of checks.splice(0)) c.resolve();
    if (watchTls && conn.stamps !== undefined) {
      conn.watcher = createTlsWatcher(
        { sink: options, stamps: conn.stamps, intervalMs: deps.tlsWatchIntervalMs },
        { log, onRotate: () => retire(conn), onInvalid: deps.onError },
      );
    }
  }

  /** Settles the sends at the head whose messages are all answered, in call order. */
  function settle(): void {
    for (;;) {
      const entry = sends[0];
      if (entry === undefined || entry.remaining > 0) break;
      sends.shift();
      if (entry.refused === 0) {
        entry.resolve(NOTHING_DROPPED);
        continue;
      }
      // A refusal is an answer: the receiver is up, it declined these messages. They are not confirmed,
      // so the caller keeps them and sends them again.
      const error = rejectedError(options, entry.refused, entry.messages.length, entry.refusal ?? "");
      log.warn(
        { refused: entry.refused, of: entry.messages.length, answer: entry.refusal },
        "Receiver refused messages; they stay in the outbox and are sent again.",
      );
      entry.reject(new PartialSendError(error, entry.confirmed, entry.refused));
    }
    checkIdle();
  }

  /** The connection broke under us (not a decision of ours). */
  function lost(conn: Connection, error: ForwarderError): void {
    if (conn.dead) return;
    if (conn.session.state !== "opening" || error.code !== "E_SINK_WRITE") {
      fail(conn, error);
      return;
    }
    // Dropped before the session opened. A TLS receiver that checks the client certificate after the
    // handshake (rsyslog's GnuTLS driver) refuses that way; otherwise it is a refused connection (a
    // receiver shutting down, or not a RELP listener), not a failed write.
    fail(
      conn,
      conn.certRequested ? refusedAfterHandshakeError(options, error) : notOpenedError(options, error),
    );
  }

  function fail(conn: Connection, error: ForwarderError): void {
    if (conn.dead) return;
    bury(conn);
    conn.socket.destroy();
    clearAnswerTimer();
    const victims = sends.splice(0);
    waiting.length = 0;
    const waitingChecks = checks.splice(0);
    if (victims.length === 0 && waitingChecks.length === 0 && error.code !== "E_SINK_TLS") {
      // An idle session closed by the receiver (restart, idle timeout) is not a failed send: the next
      // send opens a new one. A TLS refusal is, even without a send: the next connect fails too.
      log.debug({ code: error.code, reason: error.message }, "Idle connection lost.");
    } else {
      tracker.markDown(error);
      for (const entry of victims) entry.reject(failureOf(entry, error));
      for (const c of waitingChecks) c.reject(error);
    }
    checkIdle();
  }

  /** What a send that was not settled rejects with: the failure, with what was confirmed before it. */
  function failureOf(entry: Entry, error: ForwarderError): ForwarderError {
    if (entry.confirmed.length === 0 && entry.refused === 0) return error;
    return new PartialSendError(error, entry.confirmed, entry.refused);
  }

  function bury(conn: Connection): void {
    conn.dead = true;
    clearTimeout(conn.openTimer);
    conn.openTimer = undefined;
    conn.watcher?.stop();
    conn.watcher = undefined;
    if (current === conn) current = undefined;
  }

  /** Stops giving the session new messages; it is closed once its answers are in. */
  function retire(conn: Connection): void {
    if (conn.dead || conn.retiring || closing) return;
    conn.retiring = true;
    log.debug(
      { reason: conn.session.exhausted ? "transaction numbers used up" : "TLS files changed" },
      "Replacing the RELP session.",
    );
    endIfRetired();
  }

  function endIfRetired(): void {
    const conn = current;
    if (conn === undefined || !conn.retiring || conn.session.inFlight > 0) return;
    bury(conn);
    clearAnswerTimer();
    closeSession(conn, CLOSE_GRACE_MS);
    pump();
  }

  /** `close`, then up to `graceMs` for its answer; the socket is ended then (cut at the deadline). */
  function closeSession(conn: Connection, graceMs: number): void {
    const { socket, session } = conn;
    if (session.state === "ready") socket.write(session.close());
    else socket.end();
    const timer = setTimeout(() => socket.destroy(), graceMs);
    void sockets.closed(socket)?.then(() => clearTimeout(timer));
  }

  function checkIdle(): void {
    if (onIdle !== undefined && sends.length === 0) onIdle();
  }

  async function shutdown(timeoutMs: number): Promise<void> {
    closing = true;
    current?.watcher?.stop();
    const deadline = performance.now() + timeoutMs;
    if (sends.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        onIdle = resolve;
        timer = setTimeout(resolve, timeoutMs);
      });
      clearTimeout(timer);
      onIdle = undefined;
    }
    const error = sendAborted(options, `not acknowledged within the close timeout (${timeoutMs} ms)`);
    cancelConnect?.(error);
    const conn = current;
    clearAnswerTimer();
    const victims = sends.splice(0);
    waiting.length = 0;
    for (const entry of victims) entry.reject(failureOf(entry, error));
    for (const c of checks.splice(0)) c.reject(error);
    if (conn !== undefined && !conn.dead) {
      bury(conn);
      if (victims.length > 0 || conn.session.state !== "ready") conn.socket.destroy();
      // Every answer is in: close the session politely within what is left of the budget.
      else closeSession(conn, Math.max(0, deadline - performance.now()));
    }
    // A session still closing gets no more than the budget either.
    const cut = setTimeout(() => sockets.destroyAll(), Math.max(0, deadline - performance.now()));
    await sockets.allClosed();
    clearTimeout(cut);
  }

  return {
    send,
    check,
    get up() {
      return tracker.up;
    },
    close(timeoutMs = DEFAULT_CLOSE_TIMEOUT_MS) {
      closed ??= shutdown(timeoutMs);
      return closed;
    },
  };
}
