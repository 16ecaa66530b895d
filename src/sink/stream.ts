// TCP and TLS transport: one connection, opened lazily, pipelined writes, confirmation. The Sink face:
// framing, and the promise that sends settle in call order even when empty. The connection's state
// machine (what "confirmed" means, reconnects, TLS rotation, closing) is stream-connection.ts; its I/O,
// stream-socket.ts.
import { type Clock, systemClock } from "../clock.js";
import type { ForwarderError } from "../errors.js";
import type { Logger } from "../log.js";
import { sendAborted } from "./failures.js";
import { frameMessages } from "./framing.js";
import { createStreamConnection } from "./stream-connection.js";
import { createSocketTransport } from "./stream-socket.js";
import type { TlsFilesChanged } from "./tls-watcher.js";
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
  /** Rotated TLS files that do not validate (createSink: the tlsFilesInvalid event). */
  onError?: (error: ForwarderError, files: TlsFilesChanged) => void;
  clock?: Clock;
}

const NOTHING_DROPPED: SendResult = Object.freeze({ dropped: Object.freeze([]) });

export function createStreamSink(options: SinkOptions, deps: StreamSinkDeps): Sink {
  const { log, tracker } = deps;
  const clock = deps.clock ?? systemClock;
  const transport = createSocketTransport(options, {
    log,
    clock,
    tlsWatchIntervalMs: deps.tlsWatchIntervalMs,
    onError: deps.onError,
  });
  const connection = createStreamConnection(
    { sink: options, confirmAfterMs: deps.confirmAfterMs },
    { log, tracker, transport, clock },
  );
  let tail: Promise<SendResult> | undefined;
  let closed: Promise<void> | undefined;

  return {
    send(messages) {
      if (connection.closing) return Promise.reject(sendAborted(options, "the sink is closed"));
      if (messages.length === 0) {
        // Nothing to write, but keep the promise that sends settle in call order.
        const done = () => NOTHING_DROPPED;
        return tail === undefined ? Promise.resolve(NOTHING_DROPPED) : tail.then(done, done);
      }
      const promise = connection.send(frameMessages(messages, options.framing));
      tail = promise;
      return promise;
    },
    check: () => connection.check(),
    get up() {
      return tracker.up;
    },
    close(timeoutMs = DEFAULT_CLOSE_TIMEOUT_MS) {
      closed ??= connection.close(timeoutMs);
      return closed;
    },
  };
}
