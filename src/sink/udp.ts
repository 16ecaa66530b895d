// UDP transport (RFC 5426): one message per datagram, no framing, best effort. UDP has no
// acknowledgement; what it can tell is refusal: the socket is connected to the destination, so the
// kernel reports a receiver host's ICMP "port unreachable" as ECONNREFUSED on the socket. A send
// resolves once the kernel took every datagram and no refusal came for `confirmAfterMs` after; a
// refusal in that time rejects every send still waiting (E_SINK_CONNECT: the caller resends them and
// the destination is down). Loss without a refusal (a firewall, a full receive buffer, a receiver
// host that is down) stays silent: that is UDP, and the docs and start-up warning say so. A datagram
// too large is reported in `dropped`, never lost silently.
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
  /** How long after the kernel took a send's datagrams a refusal still fails it. */
  confirmAfterMs: number;
}

/** 65,535 minus the IPv4 (20) and UDP (8) headers. */
export const MAX_DATAGRAM_BYTES = 65_507;

type Dropped = { index: number; reason: "too_large" };

interface Endpoint {
  readonly socket: dgram.Socket;
  readonly closed: Promise<void>;
}

export function createUdpSink(options: SinkOptions, deps: UdpSinkDeps): Sink {
  const { log, tracker, confirmAfterMs } = deps;
  const where = `${options.host}:${options.port}`;
  const details = { destination: options.name, host: options.host, port: options.port };
  /** Sends waiting for kernel callbacks or in their confirmation time, by socket: an error there aborts them. */
  const pending = new Map<(error: ForwarderError) => void, Endpoint>();
  const closing = new Set<Promise<void>>();
  let endpoint: Endpoint | undefined;
  let resolving: Promise<Endpoint> | undefined;
  let tail: Promise<unknown> = Promise.resolve();
  let inFlight = 0;
  let onIdle: (() => void) | undefined;
  let closed: Promise<void> | undefined;
  /** The last refusal, until a send gets through: a health check must not call the destination up. */
  let refused: ForwarderError | undefined;

  /** Resolves and connects once per socket; after an error the socket is dropped and the next send starts over. */
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
      const created: Endpoint = { socket, closed: closedPromise };
      socket.on("error", (err) => onSocketError(created, err));
      try {
        // Connected: the kernel then reports what the destination host answers (port unreachable).
        await new Promise<void>((resolve, reject) => {
          socket.connect(options.port, resolved.address, (err?: Error) => {
            if (err) reject(err);
            else resolve();
          });
        });
      } catch (err) {
        discard(created);
        throw new ForwarderError("E_SINK_CONNECT", `cannot reach ${where}: ${errnoOf(err)}`, {
          cause: err,
          details: { ...details, errno: errnoOf(err) },
        });
      }
      endpoint = created;
      return created;
    })().finally(() => {
      resolving = undefined;
    });
    return resolving;
  }

  /** The kernel's report of an ICMP port unreachable (on a later send, or on the socket). */
  function refusal(err: unknown): ForwarderError {
    refused = new ForwarderError(
      "E_SINK_CONNECT",
      `nothing listens at udp://${where}: its host answered "port unreachable" (ECONNREFUSED)`,
      { cause: err, details: { ...details, errno: "ECONNREFUSED" } },
    );
    return refused;
  }

  function onSocketError(target: Endpoint, err: Error): void {
    const errno = errnoOf(err);
    const error =
      errno === "ECONNREFUSED"
        ? refusal(err)
        : new ForwarderError("E_SINK_WRITE", `UDP socket to ${where} failed: ${errno}`, {
            cause: err,
            details: { ...details, errno },
          });
    const waiting = [...pending.values()].some((owner) => owner === target);
    discard(target, error);
    // No send to fail (the refusal came after their confirmation time): the outage is still not silent.
    if (!waiting && closed === undefined) tracker.markDown(error);
    else log.debug({ errno }, "UDP socket error.");
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

  async function transmit(messages: readonly string[]): Promise<SendResult> {
    const dropped: Dropped[] = [];
    const batch: { index: number; message: Buffer }[] = [];
    messages.forEach((text, index) => {
      // One datagram per message: each needs its own buffer anyway.
      const message = Buffer.from(text, "utf8");
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
        const error =
          errnoOf(failure) === "ECONNREFUSED"
            ? refusal(failure)
            : new ForwarderError("E_SINK_WRITE", `UDP send to ${where} failed: ${errnoOf(failure)}`, {
                cause: failure,
                details: { ...details, errno: errnoOf(failure) },
              });
        discard(target, error);
        throw error;
      }
      if (sent > 0) {
        refused = undefined;
        tracker.markUp();
      }
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

  /**
   * Sends every datagram; resolves with one error slot per datagram once the kernel answered for all and
   * `confirmAfterMs` passed without a refusal on the socket (which rejects instead).
   */
  function sendAll(target: Endpoint, batch: readonly { message: Buffer }[]): Promise<(Error | undefined)[]> {
    return new Promise((resolve, reject) => {
      const errors: (Error | undefined)[] = new Array(batch.length);
      let remaining = batch.length;
      let timer: NodeJS.Timeout | undefined;
      const abort = (error: ForwarderError) => {
        clearTimeout(timer);
        pending.delete(abort);
        reject(error);
      };
      pending.set(abort, target);
      batch.forEach(({ message }, i) => {
        const callback = (err: Error | null) => {
          errors[i] = err ?? undefined;
          if (--remaining > 0 || !pending.has(abort)) return;
          if (errors.every((e) => e !== undefined)) {
            pending.delete(abort);
            resolve(errors);
            return;
          }
          timer = setTimeout(() => {
            if (pending.delete(abort)) resolve(errors);
          }, confirmAfterMs);
        };
        try {
          target.socket.send(message, callback);
        } catch (err) {
          // A socket closed after an error throws synchronously.
          callback(err instanceof Error ? err : new Error(String(err)));
        }
      });
    });
  }

  function send(messages: readonly string[]): Promise<SendResult> {
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

  /**
   * UDP has no handshake: healthy means the host resolves and the socket connects, and no refusal came
   * since the last send that got through (only a send can tell that a receiver is back).
   */
  async function check(): Promise<void> {
    if (closed !== undefined) {
      throw new ForwarderError("E_SHUTDOWN", `check of ${where} aborted: the sink is closed`, { details });
    }
    try {
      await getEndpoint();
      if (refused !== undefined) throw refused;
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
