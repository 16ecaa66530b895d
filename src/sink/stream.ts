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
import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import net from "node:net";
import { performance } from "node:perf_hooks";
import tls from "node:tls";
import { ForwarderError } from "../errors.js";
import type { Logger } from "../log.js";
import { frameMessages } from "./framing.js";
import {
  DEFAULT_CLOSE_TIMEOUT_MS,
  type SendResult,
  type Sink,
  type SinkOptions,
  type UpTracker,
} from "./index.js";

export interface StreamSinkDeps {
  log: Logger;
  tracker: UpTracker;
  confirmAfterMs: number;
}

const KEEPALIVE_DELAY_MS = 30_000;
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
}

export function createStreamSink(options: SinkOptions, deps: StreamSinkDeps): Sink {
  const { log, tracker, confirmAfterMs } = deps;
  const where = `${options.host}:${options.port}`;
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
        fail(conn, runtimeError(options, err));
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
      fail(
        conn,
        new ForwarderError(
          "E_SINK_TIMEOUT",
          `write to ${where} timed out after ${options.write_timeout} ms (receiver not reading)`,
          { details: { destination: options.name, host: options.host, port: options.port } },
        ),
      );
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
      head.resolve(NOTHING_DROPPED);
    }
    armConfirmTimer();
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
      const conn: Connection = { socket: result.socket, dead: false, blocked: false };
      adopt(conn);
      tracker.markUp();
      for (const c of waiting) c.resolve();
      pump();
    });
  }

  /** Attaches the runtime handlers; called synchronously on connect so no event is missed. */
  function adopt(conn: Connection): void {
    const { socket } = conn;
    current = conn;
    socket.setKeepAlive(true, KEEPALIVE_DELAY_MS);
    // Syslog receivers do not talk back; read and discard so that a FIN or RST is seen at once.
    socket.on("data", () => {});
    socket.on("end", () =>
      fail(
        conn,
        new ForwarderError("E_SINK_WRITE", `connection to ${where} closed by the receiver`, {
          details: { destination: options.name, host: options.host, port: options.port },
        }),
      ),
    );
    socket.on("error", (err) => fail(conn, runtimeError(options, err)));
    socket.on("close", () =>
      fail(
        conn,
        new ForwarderError("E_SINK_WRITE", `connection to ${where} closed`, {
          details: { destination: options.name, host: options.host, port: options.port },
        }),
      ),
    );
    socket.on("drain", () => {
      conn.blocked = false;
      pump();
    });
  }

  function fail(conn: Connection, error: ForwarderError): void {
    if (conn.dead) return;
    conn.dead = true;
    if (current === conn) current = undefined;
    conn.socket.destroy();
    clearWriteTimer();
    clearConfirmTimer();
    pendingWrites = 0;
    const victims = [...inFlight.splice(0), ...queued.splice(0)];
    if (victims.length === 0) {
      // An idle connection closed by the receiver (idle timeout, restart) is not a failed send:
      // the next send reconnects.
      log.debug({ code: error.code, reason: error.message }, "Idle connection lost.");
    } else {
      tracker.markDown(error);
      for (const entry of victims) entry.reject(error);
    }
    checkIdle();
  }

  function checkIdle(): void {
    if (onIdle !== undefined && queued.length === 0 && inFlight.length === 0) onIdle();
  }

  async function shutdown(timeoutMs: number): Promise<void> {
    closing = true;
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
      conn.dead = true;
      if (victims.length > 0) {
        conn.socket.destroy();
      } else {
        // Everything is confirmed: end politely (FIN, or close_notify then FIN on TLS) and give
        // the receiver the rest of the budget to close its side.
        conn.socket.end();
        const timer = setTimeout(() => conn.socket.destroy(), Math.max(0, deadline - performance.now()));
        await sockets.get(conn.socket);
        clearTimeout(timer);
      }
    }
    await Promise.all(sockets.values());
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

type OpenResult = { socket: net.Socket } | { error: ForwarderError };

/**
 * One connect attempt (TCP, then the TLS handshake), bounded by connect_timeout. Calls `done`
 * exactly once, synchronously from the socket event, so the caller attaches its handlers before
 * any other event can fire. Returns a cancel function.
 */
function openStream(
  options: SinkOptions,
  track: (socket: net.Socket) => void,
  done: (result: OpenResult) => void,
): (error: ForwarderError) => void {
  const where = `${options.host}:${options.port}`;
  const details = { destination: options.name, host: options.host, port: options.port };
  const secure = options.protocol === "tls";
  let socket: net.Socket | undefined;
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
      done({ socket });
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
    const context = secure ? await secureContext(options) : undefined;
    if (settled) return;
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

/** Reads the TLS files at every connect so that rotated certificates are picked up. */
async function secureContext(options: SinkOptions): Promise<tls.SecureContext> {
  const { ca_file, cert_file, key_file } = options.tls;
  const [ca, cert, key] = await Promise.all([
    readTlsFile(options, "ca_file", ca_file),
    readTlsFile(options, "cert_file", cert_file),
    readTlsFile(options, "key_file", key_file),
  ]);
  if (ca !== undefined) {
    // createSecureContext silently ignores a file without any certificate in it.
    try {
      new X509Certificate(ca);
    } catch (err) {
      throw tlsError(
        options,
        `invalid TLS material in tls.ca_file ${ca_file ?? ""}: no PEM certificate`,
        err,
      );
    }
  }
  try {
    return tls.createSecureContext({ minVersion: "TLSv1.2", ca, cert, key });
  } catch (err) {
    // Name the culprit: try the CA bundle alone.
    let culprit = `tls.cert_file ${cert_file ?? "(unset)"} / tls.key_file ${key_file ?? "(unset)"} (invalid, or the key does not match the certificate)`;
    try {
      tls.createSecureContext({ ca });
    } catch {
      culprit = `tls.ca_file ${ca_file ?? ""}`;
    }
    throw tlsError(options, `invalid TLS material in ${culprit}: ${describeTlsError(err)}`, err);
  }
}

async function readTlsFile(
  options: SinkOptions,
  key: "ca_file" | "cert_file" | "key_file",
  file: string | undefined,
): Promise<Buffer | undefined> {
  if (file === undefined) return undefined;
  try {
    return await readFile(file);
  } catch (err) {
    throw tlsError(options, `cannot read tls.${key} ${file}: ${errnoOf(err)}`, err);
  }
}

function tlsError(options: SinkOptions, message: string, cause: unknown): ForwarderError {
  return new ForwarderError("E_SINK_TLS", message, {
    cause,
    details: { destination: options.name, host: options.host, port: options.port },
  });
}

/** Maps an error on an established connection. */
function runtimeError(options: SinkOptions, err: Error): ForwarderError {
  const where = `${options.host}:${options.port}`;
  if (isTlsLibraryError(err)) {
    return tlsError(options, `TLS connection to ${where} failed: ${describeTlsError(err)}`, err);
  }
  return new ForwarderError("E_SINK_WRITE", `connection to ${where} failed: ${errnoOf(err)}`, {
    cause: err,
    details: { destination: options.name, host: options.host, port: options.port, errno: errnoOf(err) },
  });
}

function shutdownError(options: SinkOptions, why: string): ForwarderError {
  return new ForwarderError("E_SHUTDOWN", `send to ${options.host}:${options.port} aborted: ${why}`, {
    details: { destination: options.name },
  });
}

interface NodeError extends Error {
  code?: unknown;
  reason?: unknown;
}

function errnoOf(err: unknown): string {
  const e = err as NodeError | undefined;
  if (e !== undefined && typeof e.code === "string") return e.code;
  return err instanceof Error ? err.message : String(err);
}

/** An OpenSSL error (a TLS alert from the peer, a protocol error), as opposed to a socket error. */
function isTlsLibraryError(err: Error): boolean {
  const { code } = err as NodeError;
  return typeof code === "string" && (code.startsWith("ERR_SSL") || code.startsWith("ERR_TLS"));
}

/**
 * A short human reason: Node's certificate errors already read well ("certificate has expired",
 * "self-signed certificate in certificate chain", the hostname mismatch text); OpenSSL errors
 * carry a `reason` ("wrong version number") next to a message full of internal paths.
 */
function describeTlsError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const { code, reason } = err as NodeError;
  const openssl = typeof code === "string" && /^ERR_(SSL|OSSL)/.test(code) && typeof reason === "string";
  const text = openssl ? String(reason) : err.message;
  return typeof code === "string" && code !== text ? `${text} (${code})` : text;
}
