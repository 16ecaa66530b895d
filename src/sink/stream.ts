// TCP and TLS transport: one connection, opened lazily, pipelined writes, confirmation.
//
// A write whose callback fired only means the bytes reached the local kernel; if the peer dies
// they can still be lost (output-formats.md 3.6). So a send is *confirmed* only when its write
// completed and the connection then stayed healthy (no 'error', 'end' or 'close') for
// `confirmAfterMs`. When the connection breaks, every send not yet confirmed rejects and the
// caller sends it again on a new connection: duplicates are possible, loss is not.
//
// Invariants:
// - `queued` holds sends not yet written, `inFlight` sends written on `current`, both in call
//   order; settlement happens only from the head of `inFlight`, so sends settle in call order.
// - A connection failure rejects every send in both lists; reconnecting is the next send's job
//   (one connect attempt per send while disconnected; backoff is the caller's).
// - One confirm timer and one write timer serve the whole pipeline.
// - TLS rotation: while a connection is open, a watcher stats its TLS files. When they changed and
//   the new material validates, the connection *retires*: nothing new is written on it, and once
//   every send on it is confirmed it is ended politely (close_notify, FIN); the sends queued
//   meanwhile open the next connection, with the new files. Invalid new files leave it alone.
import net from "node:net";
import { performance } from "node:perf_hooks";
import tls from "node:tls";
import { ForwarderError } from "../errors.js";
import type { Logger } from "../log.js";
import { usesTls } from "./config.js";
import {
  closedError,
  describeTlsError,
  errnoOf,
  refusedAfterHandshakeError,
  runtimeError,
  shutdownError,
  timeoutError,
  tlsError,
} from "./failures.js";
import { frameMessages } from "./framing.js";
import { configuredTlsFiles, loadTlsMaterial, type TlsFileStamps } from "./tls-material.js";
import { createTlsWatcher, type TlsWatcher } from "./tls-watcher.js";
import {
  DEFAULT_CLOSE_TIMEOUT_MS,
  type SendResult,
  type Sink,
  type SinkOptions,
  type UpTracker,
} from "./types.js";

export interface StreamSinkDeps {
  log: Logger;
  tracker: UpTracker;
  confirmAfterMs: number;
  /** How often the TLS files of an open connection are checked for rotation. */
  tlsWatchIntervalMs: number;
  /** Errors that fail no send (rotated TLS files that do not validate), for mde_errors_total. */
  onError?: (error: ForwarderError) => void;
}

const KEEPALIVE_DELAY_MS = 30_000;
/** How long a retired connection may wait for the receiver to close its side before it is cut. */
const RETIRE_GRACE_MS = 5_000;
const NOTHING_DROPPED: SendResult = Object.freeze({ dropped: Object.freeze([]) });
const EMPTY = Buffer.alloc(0);

interface Entry {
  /** Released once written, so confirmed-but-pending sends do not hold their payload. */
  frames: Buffer;
  /** performance.now() when the write callback fired; undefined while the write is pending. */
  writtenAt: number | undefined;
  resolve(result: SendResult): void;
  reject(error: ForwarderError): void;
}

interface Connection {
  readonly socket: net.Socket;
  dead: boolean;
  /** socket.write returned false: wait for 'drain' before writing more. */
  blocked: boolean;
  /** Its TLS files changed: nothing more is written on it; it ends once its sends are confirmed. */
  retiring: boolean;
  /** performance.now() when it was established. */
  readonly openedAt: number;
  /** The receiver asked for a client certificate during the TLS handshake. */
  readonly certRequested: boolean;
  /** A send on it was confirmed. */
  confirmed: boolean;
  watcher: TlsWatcher | undefined;
}

export function createStreamSink(options: SinkOptions, deps: StreamSinkDeps): Sink {
  const { log, tracker, confirmAfterMs, tlsWatchIntervalMs } = deps;
  const watchTls = options.protocol === "tls" && configuredTlsFiles(options).length > 0;
  const queued: Entry[] = [];
  const inFlight: Entry[] = [];
  /** Every socket we created whose 'close' has not fired yet: close() waits for them. */
  const sockets = new Map<net.Socket, Promise<void>>();
  let current: Connection | undefined;
  let cancelConnect: ((error: ForwarderError) => void) | undefined;
  let pendingWrites = 0;
  let lastWriteProgress = 0;
  let writeTimer: NodeJS.Timeout | undefined;
  let confirmTimer: NodeJS.Timeout | undefined;
  let tail: Promise<SendResult> | undefined;
  let closing = false;
  let closed: Promise<void> | undefined;
  let onIdle: (() => void) | undefined;
  /** Health checks waiting for the connection attempt in progress. */
  const checks: Array<{ resolve: () => void; reject: (error: ForwarderError) => void }> = [];

  const track = (socket: net.Socket): void => {
    sockets.set(
      socket,
      new Promise((resolve) =>
        socket.once("close", () => {
          sockets.delete(socket);
          resolve();
        }),
      ),
    );
  };

  function send(messages: readonly Buffer[]): Promise<SendResult> {
    if (closing) return Promise.reject(shutdownError(options, "the sink is closed"));
    if (messages.length === 0) {
      // Nothing to write, but keep the promise that sends settle in call order.
      const done = () => NOTHING_DROPPED;
      return tail === undefined ? Promise.resolve(NOTHING_DROPPED) : tail.then(done, done);
    }
    const frames = frameMessages(messages, options.framing);
    const promise = new Promise<SendResult>((resolve, reject) => {
      queued.push({ frames, writtenAt: undefined, resolve, reject });
    });
    tail = promise;
    pump();
    return promise;
  }

  function check(): Promise<void> {
    if (closing) return Promise.reject(shutdownError(options, "the sink is closed"));
    if (current !== undefined && !current.dead) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      checks.push({ resolve, reject });
      if (cancelConnect === undefined) connect();
    });
  }

  function pump(): void {
    if (queued.length === 0) return;
    const conn = current;
    if (conn === undefined) {
      if (cancelConnect === undefined) connect();
      return;
    }
    // The sends wait for the connection that replaces a retiring one.
    if (conn.retiring) return;
    while (!conn.blocked && !conn.dead) {
      const entry = queued.shift();
      if (entry === undefined) break;
      write(conn, entry);
    }
  }

  function write(conn: Connection, entry: Entry): void {
    inFlight.push(entry);
    if (pendingWrites === 0) lastWriteProgress = performance.now();
    pendingWrites++;
    armWriteTimer();
    const flushed = conn.socket.write(entry.frames, (err) => {
      if (conn.dead) return;
      if (err) {
        lost(conn, runtimeError(options, err));
        return;
      }
      const now = performance.now();
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
    const delay = Math.max(0, lastWriteProgress + options.write_timeout - performance.now());
    writeTimer = setTimeout(onWriteTimer, delay);
  }

  function onWriteTimer(): void {
    writeTimer = undefined;
    const conn = current;
    if (conn === undefined || pendingWrites === 0) return;
    // Timers may fire a fraction of a millisecond early: allow 1 ms.
    if (performance.now() - lastWriteProgress + 1 >= options.write_timeout) {
      fail(conn, timeoutError(options));
      return;
    }
    armWriteTimer();
  }

  function clearWriteTimer(): void {
    if (writeTimer !== undefined) clearTimeout(writeTimer);
    writeTimer = undefined;
  }

  function armConfirmTimer(): void {
    if (confirmTimer !== undefined) return;
    const writtenAt = inFlight[0]?.writtenAt;
    if (writtenAt === undefined) return;
    confirmTimer = setTimeout(onConfirmTimer, Math.max(0, writtenAt + confirmAfterMs - performance.now()));
  }

  function onConfirmTimer(): void {
    confirmTimer = undefined;
    const now = performance.now();
    for (;;) {
      const head = inFlight[0];
      if (head?.writtenAt === undefined || head.writtenAt + confirmAfterMs > now + 1) break;
      inFlight.shift();
      if (current !== undefined) current.confirmed = true;
      head.resolve(NOTHING_DROPPED);
    }
    armConfirmTimer();
    endIfRetired();
    checkIdle();
  }

  function clearConfirmTimer(): void {
    if (confirmTimer !== undefined) clearTimeout(confirmTimer);
    confirmTimer = undefined;
  }

  function connect(): void {
    log.debug({ host: options.host, port: options.port, protocol: options.protocol }, "Connecting.");
    cancelConnect = openStream(options, track, (result) => {
      cancelConnect = undefined;
      const waiting = checks.splice(0);
      if ("error" in result) {
        const victims = queued.splice(0);
        if ((victims.length > 0 || waiting.length > 0) && result.error.code !== "E_SHUTDOWN") {
          tracker.markDown(result.error);
        }
        for (const entry of victims) entry.reject(result.error);
        for (const c of waiting) c.reject(result.error);
        checkIdle();
        return;
      }
      adopt(result.socket, result.stamps);
      tracker.markUp();
      for (const c of waiting) c.resolve();
      pump();
    });
  }

  /** Attaches the runtime handlers; called synchronously on connect so no event is missed. */
  function adopt(socket: net.Socket, stamps: TlsFileStamps | undefined): void {
    const conn: Connection = {
      socket,
      dead: false,
      blocked: false,
      retiring: false,
      openedAt: performance.now(),
      // OpenSSL knows the signature algorithms a server accepts for a client certificate only when
      // it asked for one: the one trace of a CertificateRequest that Node exposes.
      certRequested: socket instanceof tls.TLSSocket && socket.getSharedSigalgs().length > 0,
      confirmed: false,
      watcher: undefined,
    };
    current = conn;
    socket.setKeepAlive(true, KEEPALIVE_DELAY_MS);
    // Syslog receivers do not talk back; read and discard so that a FIN or RST is seen at once.
    socket.on("data", () => {});
    socket.on("end", () => lost(conn, closedError(options, true)));
    socket.on("error", (err) => lost(conn, runtimeError(options, err)));
    socket.on("close", () => lost(conn, closedError(options, false)));
    socket.on("drain", () => {
      conn.blocked = false;
      pump();
    });
    if (watchTls && stamps !== undefined) {
      conn.watcher = createTlsWatcher(
        { sink: options, stamps, intervalMs: tlsWatchIntervalMs },
        { log, onRotate: () => retire(conn), onInvalid: deps.onError },
      );
    }
  }

  /** The connection broke under us (not a timeout of ours). */
  function lost(conn: Connection, error: ForwarderError): void {
    const refused =
      conn.certRequested &&
      !conn.confirmed &&
      error.code === "E_SINK_WRITE" &&
      performance.now() - conn.openedAt <= confirmAfterMs;
    fail(conn, refused ? refusedAfterHandshakeError(options, error) : error);
  }

  function fail(conn: Connection, error: ForwarderError): void {
    if (conn.dead) return;
    bury(conn);
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

  function bury(conn: Connection): void {
    conn.dead = true;
    conn.watcher?.stop();
    conn.watcher = undefined;
    if (current === conn) current = undefined;
  }

  /** New TLS files validated: stop writing on `conn`, and end it once its sends are confirmed. */
  function retire(conn: Connection): void {
    if (conn.dead || conn.retiring || closing) return;
    conn.retiring = true;
    endIfRetired();
  }

  function endIfRetired(): void {
    const conn = current;
    if (conn === undefined || !conn.retiring || inFlight.length > 0) return;
    bury(conn);
    log.debug("Connection ended to pick up the new TLS files.");
    endPolitely(conn.socket, RETIRE_GRACE_MS);
    pump();
  }

  /** FIN (close_notify first on TLS), then up to `graceMs` for the receiver to close its side. */
  function endPolitely(socket: net.Socket, graceMs: number): void {
    socket.end();
    const timer = setTimeout(() => socket.destroy(), graceMs);
    void sockets.get(socket)?.then(() => clearTimeout(timer));
  }

  function checkIdle(): void {
    if (onIdle !== undefined && queued.length === 0 && inFlight.length === 0) onIdle();
  }

  async function shutdown(timeoutMs: number): Promise<void> {
    closing = true;
    current?.watcher?.stop();
    const deadline = performance.now() + timeoutMs;
    if (queued.length > 0 || inFlight.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        onIdle = resolve;
        timer = setTimeout(resolve, timeoutMs);
      });
      clearTimeout(timer);
      onIdle = undefined;
    }
    const error = shutdownError(options, `not confirmed within the close timeout (${timeoutMs} ms)`);
    cancelConnect?.(error);
    const conn = current;
    current = undefined;
    clearWriteTimer();
    clearConfirmTimer();
    const victims = [...inFlight.splice(0), ...queued.splice(0)];
    for (const entry of victims) entry.reject(error);
    if (conn !== undefined && !conn.dead) {
      bury(conn);
      if (victims.length > 0) {
        conn.socket.destroy();
      } else {
        // Everything is confirmed: end politely and give the receiver the rest of the budget to
        // close its side.
        endPolitely(conn.socket, Math.max(0, deadline - performance.now()));
      }
    }
    // A retired connection still closing gets no more than the budget either.
    const cut = setTimeout(
      () => {
        for (const socket of sockets.keys()) socket.destroy();
      },
      Math.max(0, deadline - performance.now()),
    );
    await Promise.all(sockets.values());
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

type OpenResult = { socket: net.Socket; stamps: TlsFileStamps | undefined } | { error: ForwarderError };

/**
 * One connect attempt (TCP, then the TLS handshake), bounded by connect_timeout. Calls `done`
 * exactly once, synchronously from the socket event, so the caller attaches its handlers before
 * any other event can fire. Returns a cancel function. The RELP transport (relp.ts) connects with it too.
 */
export function openStream(
  options: SinkOptions,
  track: (socket: net.Socket) => void,
  done: (result: OpenResult) => void,
): (error: ForwarderError) => void {
  const where = `${options.host}:${options.port}`;
  const details = { destination: options.name, host: options.host, port: options.port };
  const secure = usesTls(options);
  let socket: net.Socket | undefined;
  let stamps: TlsFileStamps | undefined;
  let settled = false;
  let tcpConnected = false;

  const finish = (error?: ForwarderError): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    if (socket !== undefined) {
      socket.removeListener("error", onError);
      socket.removeListener("close", onClose);
    }
    if (error !== undefined || socket === undefined) {
      socket?.on("error", () => {});
      socket?.destroy();
      done({ error: error ?? internalError() });
    } else {
      done({ socket, stamps });
    }
  };
  const internalError = () => new ForwarderError("E_SINK_CONNECT", `connect to ${where} failed`, { details });
  const onError = (err: Error): void => {
    if (!tcpConnected) {
      finish(
        new ForwarderError("E_SINK_CONNECT", `connect to ${where} failed: ${errnoOf(err)}`, {
          cause: err,
          details: { ...details, errno: errnoOf(err) },
        }),
      );
    } else {
      finish(tlsError(options, `TLS handshake with ${where} failed: ${describeTlsError(err)}`, err));
    }
  };
  const onClose = (): void => {
    const phase = tcpConnected ? "during the TLS handshake" : "before it was established";
    finish(new ForwarderError("E_SINK_CONNECT", `connection to ${where} closed ${phase}`, { details }));
  };

  const timer = setTimeout(() => {
    const what = tcpConnected ? `TLS handshake with ${where}` : `connect to ${where}`;
    finish(
      new ForwarderError("E_SINK_CONNECT", `${what} timed out after ${options.connect_timeout} ms`, {
        details,
      }),
    );
  }, options.connect_timeout);

  const start = async (): Promise<void> => {
    const material = secure ? await loadTlsMaterial(options) : undefined;
    if (settled) return;
    stamps = material?.stamps;
    const context = material?.context;
    if (context === undefined) {
      socket = net.connect({ host: options.host, port: options.port });
    } else {
      const servername = options.tls.server_name ?? (net.isIP(options.host) === 0 ? options.host : undefined);
      socket = tls.connect({
        host: options.host,
        port: options.port,
        secureContext: context,
        rejectUnauthorized: options.tls.reject_unauthorized,
        ...(servername === undefined ? {} : { servername }),
      });
    }
    track(socket);
    socket.on("error", onError);
    socket.on("close", onClose);
    socket.once("connect", () => {
      tcpConnected = true;
      if (!secure) finish();
    });
    if (secure) socket.once("secureConnect", () => finish());
  };
  start().catch((err: unknown) =>
    finish(err instanceof ForwarderError ? err : tlsError(options, `TLS setup failed: ${String(err)}`, err)),
  );

  return (error) => finish(error);
}
