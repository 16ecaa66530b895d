// The thin socket adapter of the TCP and TLS transports: one connect attempt (openStream), and an open
// connection seen as a few calls and events (StreamSocket), so that the connection's state machine
// (stream-connection.ts) holds no node:net or node:tls and runs on a fake adapter in the unit tests.
// What stays here is I/O only: keepalive, discarding what the receiver sends, the polite end with its
// grace timer, the TLS-file watcher of a connection, and knowing when every socket has closed.
import net from "node:net";
import tls from "node:tls";
import type { Clock } from "../clock.js";
import { ForwarderError } from "../errors.js";
import type { Logger } from "../log.js";
import { usesTls } from "./config.js";
import { describeTlsError, errnoOf, tlsError } from "./failures.js";
import { createSocketSet } from "./socket-set.js";
import { configuredTlsFiles, loadTlsMaterial, type TlsFileStamps } from "./tls-material.js";
import { createTlsWatcher, type TlsFilesChanged, type TlsWatcher } from "./tls-watcher.js";
import type { SinkOptions } from "./types.js";

/** What happens to an open connection, reported to its state machine. */
export interface StreamSocketEvents {
  /** The receiver ended its side (FIN). */
  onEnd(): void;
  onError(error: Error): void;
  onClose(): void;
  /** A write that returned false has been flushed: writing may go on. */
  onDrain(): void;
  /** The connection's TLS files changed on disk and the new ones validate (watched while it is open). */
  onRotate(): void;
}

/** One established connection. */
export interface StreamSocket {
  /** The receiver asked for a client certificate during the TLS handshake. */
  readonly certRequested: boolean;
  /** Attaches the handlers; the machine calls it synchronously on connect, so that no event is missed. */
  listen(events: StreamSocketEvents): void;
  /** Like socket.write: false means wait for onDrain; `done` fires once the bytes left for the kernel. */
  write(bytes: Buffer, done: (error?: Error | null) => void): boolean;
  /** FIN (close_notify first on TLS), then up to `graceMs` for the receiver to close its side before a cut. */
  end(graceMs: number): void;
  destroy(): void;
  /** Stops watching the TLS files (idempotent). */
  unwatch(): void;
}

export type ConnectResult = { socket: StreamSocket } | { error: ForwarderError };

export interface StreamTransport {
  /**
   * One connect attempt, bounded by connect_timeout. Calls `done` exactly once, synchronously from the
   * socket's event (or from the cancel). Returns the cancel, which fails the attempt with its error.
   */
  connect(done: (result: ConnectResult) => void): (error: ForwarderError) => void;
  /** Resolves once every socket this transport opened has closed. */
  allClosed(): Promise<void>;
  /** Destroys every socket still open. */
  destroyAll(): void;
}

export interface SocketTransportDeps {
  log: Logger;
  clock: Clock;
  /** How often the TLS files of an open connection are checked for rotation. */
  tlsWatchIntervalMs: number;
  /** Rotated TLS files that do not validate (createSink: the tlsFilesInvalid event). */
  onError?: (error: ForwarderError, files: TlsFilesChanged) => void;
}

const KEEPALIVE_DELAY_MS = 30_000;

/** The real adapter, on node:net and node:tls. */
export function createSocketTransport(options: SinkOptions, deps: SocketTransportDeps): StreamTransport {
  const watchTls = options.protocol === "tls" && configuredTlsFiles(options).length > 0;
  const sockets = createSocketSet();

  function wrap(socket: net.Socket, stamps: TlsFileStamps | undefined): StreamSocket {
    let watcher: TlsWatcher | undefined;
    return {
      // OpenSSL knows the signature algorithms a server accepts for a client certificate only when it
      // asked for one: the one trace of a CertificateRequest that Node exposes.
      certRequested: socket instanceof tls.TLSSocket && socket.getSharedSigalgs().length > 0,
      listen(events) {
        socket.setKeepAlive(true, KEEPALIVE_DELAY_MS);
        // Syslog receivers do not talk back; read and discard so that a FIN or RST is seen at once.
        socket.on("data", () => {});
        socket.on("end", events.onEnd);
        socket.on("error", events.onError);
        socket.on("close", events.onClose);
        socket.on("drain", events.onDrain);
        if (watchTls && stamps !== undefined) {
          watcher = createTlsWatcher(
            { sink: options, stamps, intervalMs: deps.tlsWatchIntervalMs },
            { log: deps.log, onRotate: events.onRotate, onInvalid: deps.onError },
          );
        }
      },
      write: (bytes, done) => socket.write(bytes, done),
      end(graceMs) {
        socket.end();
        const cancel = deps.clock.setTimer(() => socket.destroy(), graceMs);
        void sockets.closed(socket)?.then(cancel);
      },
      destroy: () => socket.destroy(),
      unwatch() {
        watcher?.stop();
        watcher = undefined;
      },
    };
  }

  return {
    connect(done) {
      return openStream(options, sockets.track, (result) =>
        done("error" in result ? result : { socket: wrap(result.socket, result.stamps) }),
      );
    },
    allClosed: sockets.allClosed,
    destroyAll: sockets.destroyAll,
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
