// UDP transport (RFC 5426): one message per datagram, no framing, best effort. UDP has no
// acknowledgement, so a send resolves once the kernel took every datagram; loss on the way is
// silent by nature (the docs say so). A datagram too large is reported in `dropped`, never lost
// silently.
import dgram from "node:dgram";
import { lookup } from "node:dns/promises";
import { ForwarderError } from "../errors.js";
import type { Logger } from "../log.js";
import {
  DEFAULT_CLOSE_TIMEOUT_MS,
  type SendResult,
  type Sink,
  type SinkOptions,
  type UpTracker,
} from "./types.js";

export interface UdpSinkDeps {
  log: Logger;
  tracker: UpTracker;
}

/** 65,535 minus the IPv4 (20) and UDP (8) headers. */
export const MAX_DATAGRAM_BYTES = 65_507;

type Dropped = { index: number; reason: "too_large" };

interface Endpoint {
  readonly socket: dgram.Socket;
  readonly address: string;
  readonly closed: Promise<void>;
}

export function createUdpSink(options: SinkOptions, deps: UdpSinkDeps): Sink {
  const { log, tracker } = deps;
  const where = `${options.host}:${options.port}`;
  const details = { destination: options.name, host: options.host, port: options.port };
  /** Sends waiting for kernel callbacks, by socket: a socket dropped or closed aborts its sends. */
  const pending = new Map<(error: ForwarderError) => void, Endpoint>();
  const closing = new Set<Promise<void>>();
  let endpoint: Endpoint | undefined;
  let resolving: Promise<Endpoint> | undefined;
  let tail: Promise<unknown> = Promise.resolve();
  let inFlight = 0;
  let onIdle: (() => void) | undefined;
  let closed: Promise<void> | undefined;

  /** Resolves the host once per socket; after an error the socket is dropped and the next send resolves again. */
  function getEndpoint(): Promise<Endpoint> {
    if (endpoint !== undefined) return Promise.resolve(endpoint);
    resolving ??= (async () => {
      let resolved: { address: string; family: number };
      try {
        resolved = await lookup(options.host);
      } catch (err) {
        throw new ForwarderError("E_SINK_CONNECT", `cannot resolve ${options.host}: ${errnoOf(err)}`, {
          cause: err,
          details: { ...details, errno: errnoOf(err) },
        });
      }
      const socket = dgram.createSocket(resolved.family === 6 ? "udp6" : "udp4");
      const closedPromise = new Promise<void>((resolve) => socket.once("close", resolve));
      const created: Endpoint = { socket, address: resolved.address, closed: closedPromise };
      socket.on("error", (err) => {
        log.debug({ errno: errnoOf(err) }, "UDP socket error.");
        discard(created);
      });
      endpoint = created;
      return created;
    })().finally(() => {
      resolving = undefined;
    });
    return resolving;
  }

  function discard(target: Endpoint, error?: ForwarderError): void {
    if (endpoint === target) endpoint = undefined;
    // Callbacks of datagrams still queued in a closed socket may never come: settle those sends.
    const abortError =
      error ??
      new ForwarderError("E_SINK_WRITE", `UDP socket to ${where} was closed after an error`, { details });
    for (const [abort, owner] of [...pending]) if (owner === target) abort(abortError);
    if (closing.has(target.closed)) return;
    closing.add(target.closed);
    void target.closed.then(() => closing.delete(target.closed));
    try {
      target.socket.close();
    } catch {
      // Already closed.
    }
  }

  async function transmit(messages: readonly Buffer[]): Promise<SendResult> {
    const dropped: Dropped[] = [];
    const batch: { index: number; message: Buffer }[] = [];
    messages.forEach((message, index) => {
      if (message.length > MAX_DATAGRAM_BYTES) dropped.push({ index, reason: "too_large" });
      else batch.push({ index, message });
    });
    if (batch.length > 0) {
      const target = await getEndpoint();
      const errors = await sendAll(target, batch);
      let failure: Error | undefined;
      let sent = 0;
      errors.forEach((err, i) => {
        if (err === undefined) sent++;
        else if (errnoOf(err) === "EMSGSIZE")
          dropped.push({ index: batch[i]?.index ?? -1, reason: "too_large" });
        else failure ??= err;
      });
      if (failure !== undefined) {
        discard(target);
        throw new ForwarderError("E_SINK_WRITE", `UDP send to ${where} failed: ${errnoOf(failure)}`, {
          cause: failure,
          details: { ...details, errno: errnoOf(failure) },
        });
      }
      if (sent > 0) tracker.markUp();
    }
    if (dropped.length > 0) {
      dropped.sort((a, b) => a.index - b.index);
      log.warn(
        { count: dropped.length, max_bytes: MAX_DATAGRAM_BYTES },
        "Messages too large for a UDP datagram were dropped.",
      );
    }
    return { dropped };
  }

  /** Sends every datagram; resolves with one error slot per datagram once the kernel answered for all. */
  function sendAll(target: Endpoint, batch: readonly { message: Buffer }[]): Promise<(Error | undefined)[]> {
    return new Promise((resolve, reject) => {
      const errors: (Error | undefined)[] = new Array(batch.length);
      let remaining = batch.length;
      const abort = (error: ForwarderError) => {
        pending.delete(abort);
        reject(error);
      };
      pending.set(abort, target);
      batch.forEach(({ message }, i) => {
        const callback = (err: Error | null) => {
          errors[i] = err ?? undefined;
          if (--remaining === 0 && pending.delete(abort)) resolve(errors);
        };
        try {
          target.socket.send(message, options.port, target.address, callback);
        } catch (err) {
          // A socket closed after an error throws synchronously.
          callback(err instanceof Error ? err : new Error(String(err)));
        }
      });
    });
  }

  function send(messages: readonly Buffer[]): Promise<SendResult> {
    if (closed !== undefined) {
      return Promise.reject(
        new ForwarderError("E_SHUTDOWN", `send to ${where} aborted: the sink is closed`, { details }),
      );
    }
    inFlight++;
    const work = transmit(messages).catch((err: unknown) => {
      const error =
        err instanceof ForwarderError
          ? err
          : new ForwarderError("E_SINK_WRITE", `UDP send to ${where} failed: ${errnoOf(err)}`, {
              cause: err,
              details,
            });
      if (error.code !== "E_SHUTDOWN") tracker.markDown(error);
      throw error;
    });
    // Settle in call order even when a later send finishes first (all dropped, say). `work` is
    // observed here so that failing before its turn is not an unhandled rejection.
    work.catch(() => {});
    const previous = tail;
    const result = previous.then(
      () => work,
      () => work,
    );
    tail = result.catch(() => {});
    void tail.then(() => {
      inFlight--;
      if (inFlight === 0) onIdle?.();
    });
    return result;
  }

  /** UDP has no connection: healthy means the host resolves and a socket is open. */
  async function check(): Promise<void> {
    if (closed !== undefined) {
      throw new ForwarderError("E_SHUTDOWN", `check of ${where} aborted: the sink is closed`, { details });
    }
    try {
      await getEndpoint();
    } catch (err) {
      const error =
        err instanceof ForwarderError
          ? err
          : new ForwarderError("E_SINK_CONNECT", `cannot reach ${where}: ${errnoOf(err)}`, {
              cause: err,
              details,
            });
      if (error.code !== "E_SHUTDOWN") tracker.markDown(error);
      throw error;
    }
    tracker.markUp();
  }

  async function shutdown(timeoutMs: number): Promise<void> {
    if (inFlight > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        onIdle = resolve;
        timer = setTimeout(resolve, timeoutMs);
      });
      clearTimeout(timer);
      onIdle = undefined;
    }
    const error = new ForwarderError(
      "E_SHUTDOWN",
      `send to ${where} aborted: not sent within the close timeout (${timeoutMs} ms)`,
      { details },
    );
    for (const abort of [...pending.keys()]) abort(error);
    // A lookup still running would create a socket after we close: wait for it, then close it.
    await resolving?.catch(() => undefined);
    if (endpoint !== undefined) discard(endpoint, error);
    await Promise.all(closing);
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

function errnoOf(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code === "string") return code;
  return err instanceof Error ? err.message : String(err);
}
