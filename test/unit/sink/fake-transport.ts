// A StreamTransport (src/sink/stream-socket.ts) that the test drives by hand: connect attempts succeed or
// fail when told to, writes complete when told to, and the peer's events (FIN, reset, close, drain, a TLS
// rotation) are fired at will. Everything is recorded for the assertions. No socket, no timer.
import { ForwarderError } from "../../../src/errors.js";
import type {
  ConnectResult,
  StreamSocket,
  StreamSocketEvents,
  StreamTransport,
} from "../../../src/sink/stream-socket.js";

export interface FakeWrite {
  readonly text: string;
  /** Completes the write (its callback), with an error if given. */
  complete(error?: Error): void;
  readonly completed: boolean;
}

export interface FakeSocket extends StreamSocket {
  readonly writes: FakeWrite[];
  /** The handlers the machine attached (undefined before listen). */
  readonly events: StreamSocketEvents;
  /** Set to make every following write return false (the kernel buffer is full). */
  blocked: boolean;
  /** The grace given to end(), if it was ended politely. */
  readonly endedWithGrace: number | undefined;
  readonly destroyed: boolean;
  /** listen() started the TLS-file watcher and unwatch() has not stopped it. */
  readonly watching: boolean;
  /** The socket is gone (destroyed, or ended and then closed by the peer). */
  readonly closed: boolean;
  /** The peer closes its side after an end(): the socket is closed. */
  peerCloses(): void;
  /** Completes every pending write. */
  completeWrites(): void;
}

export interface FakeAttempt {
  /** The attempt connects: the machine gets this socket. */
  succeed(options?: { certRequested?: boolean }): FakeSocket;
  fail(error: ForwarderError): void;
  readonly settled: boolean;
  /** The error the machine cancelled the attempt with, if it did. */
  readonly cancelledWith: ForwarderError | undefined;
}

export interface FakeTransport extends StreamTransport {
  readonly attempts: FakeAttempt[];
  readonly sockets: FakeSocket[];
  /** destroyAll() was called. */
  readonly cutAll: boolean;
  /** The last attempt (fails the test if none). */
  lastAttempt(): FakeAttempt;
  /** The last socket (fails the test if none). */
  lastSocket(): FakeSocket;
}

export function connectError(text = "ECONNREFUSED"): ForwarderError {
  return new ForwarderError("E_SINK_CONNECT", `connect to 127.0.0.1:514 failed: ${text}`);
}

export function createFakeTransport(): FakeTransport {
  const attempts: FakeAttempt[] = [];
  const sockets: FakeSocket[] = [];
  const closeWaiters = new Set<() => void>();
  let cutAll = false;

  const notifyClosed = (): void => {
    for (const waiter of closeWaiters) waiter();
  };

  function createSocket(certRequested: boolean): FakeSocket {
    let events: StreamSocketEvents | undefined;
    let endedWithGrace: number | undefined;
    let destroyed = false;
    let watching = false;
    let peerClosed = false;
    const writes: FakeWrite[] = [];
    const socket: FakeSocket = {
      certRequested,
      writes,
      get events() {
        if (events === undefined) throw new Error("the machine did not listen to the socket");
        return events;
      },
      blocked: false,
      get endedWithGrace() {
        return endedWithGrace;
      },
      get destroyed() {
        return destroyed;
      },
      get watching() {
        return watching;
      },
      get closed() {
        return destroyed || peerClosed;
      },
      listen(handlers) {
        events = handlers;
        watching = true;
      },
      write(bytes, done) {
        let completed = false;
        writes.push({
          text: bytes.toString(),
          complete(error) {
            if (completed) return;
            completed = true;
            done(error ?? null);
          },
          get completed() {
            return completed;
          },
        });
        return !socket.blocked;
      },
      end(graceMs) {
        endedWithGrace = graceMs;
      },
      destroy() {
        destroyed = true;
        notifyClosed();
      },
      unwatch() {
        watching = false;
      },
      peerCloses() {
        peerClosed = true;
        notifyClosed();
      },
      completeWrites() {
        for (const w of writes) w.complete();
      },
    };
    sockets.push(socket);
    return socket;
  }

  return {
    attempts,
    sockets,
    get cutAll() {
      return cutAll;
    },
    lastAttempt() {
      const attempt = attempts.at(-1);
      if (attempt === undefined) throw new Error("no connect attempt");
      return attempt;
    },
    lastSocket() {
      const socket = sockets.at(-1);
      if (socket === undefined) throw new Error("no socket");
      return socket;
    },
    connect(done: (result: ConnectResult) => void) {
      let settled = false;
      let cancelledWith: ForwarderError | undefined;
      const settle = (result: ConnectResult): void => {
        if (settled) throw new Error("attempt settled twice");
        settled = true;
        done(result);
      };
      attempts.push({
        succeed(options = {}) {
          const socket = createSocket(options.certRequested ?? false);
          settle({ socket });
          return socket;
        },
        fail(error) {
          settle({ error });
        },
        get settled() {
          return settled;
        },
        get cancelledWith() {
          return cancelledWith;
        },
      });
      return (error) => {
        if (settled) return;
        cancelledWith = error;
        settle({ error });
      };
    },
    allClosed() {
      return new Promise<void>((resolve) => {
        const check = (): void => {
          if (sockets.every((s) => s.closed)) {
            closeWaiters.delete(check);
            resolve();
          }
        };
        closeWaiters.add(check);
        check();
      });
    },
    destroyAll() {
      cutAll = true;
      for (const socket of sockets) if (!socket.closed) socket.destroy();
    },
  };
}
