// How the stream transports name their failures: one ForwarderError per kind, with a short human
// reason and the destination in `details`. Messages name files and addresses, never file contents.
import { ForwarderError, shutdownError } from "../errors.js";
import type { SinkOptions } from "./types.js";

function where(options: SinkOptions): string {
  return `${options.host}:${options.port}`;
}

function detailsOf(options: SinkOptions): Record<string, string | number> {
  return { destination: options.name, host: options.host, port: options.port };
}

export function tlsError(options: SinkOptions, message: string, cause?: unknown): ForwarderError {
  return new ForwarderError("E_SINK_TLS", message, { cause, details: detailsOf(options) });
}

/** Maps an error on an established connection. */
export function runtimeError(options: SinkOptions, err: Error): ForwarderError {
  if (isTlsLibraryError(err)) {
    return tlsError(options, `TLS connection to ${where(options)} failed: ${describeTlsError(err)}`, err);
  }
  return new ForwarderError("E_SINK_WRITE", `connection to ${where(options)} failed: ${errnoOf(err)}`, {
    cause: err,
    details: { ...detailsOf(options), errno: errnoOf(err) },
  });
}

export function closedError(options: SinkOptions, byReceiver: boolean): ForwarderError {
  const text = byReceiver ? "closed by the receiver" : "closed";
  return new ForwarderError("E_SINK_WRITE", `connection to ${where(options)} ${text}`, {
    details: detailsOf(options),
  });
}

/**
 * A connection the receiver dropped right after a handshake in which it asked for a client
 * certificate. Receivers that check the certificate only after the handshake and then just drop the
 * connection (rsyslog's gtls driver does) refuse a client this way, without a TLS alert; a bare
 * ECONNRESET would send the operator looking at the network instead of at the certificate.
 */
export function refusedAfterHandshakeError(options: SinkOptions, original: ForwarderError): ForwarderError {
  const { cert_file } = options.tls;
  const why =
    cert_file === undefined
      ? "it asked for a client certificate and none is configured (tls.cert_file, tls.key_file): it probably requires one"
      : `it asked for a client certificate and may have refused ours (tls.cert_file ${cert_file}): not issued by a CA it trusts, or a name it does not permit`;
  return tlsError(
    options,
    `TLS connection to ${where(options)} was dropped by the receiver right after the handshake; ${why}`,
    original,
  );
}

export function timeoutError(options: SinkOptions): ForwarderError {
  return new ForwarderError(
    "E_SINK_TIMEOUT",
    `write to ${where(options)} timed out after ${options.write_timeout} ms (receiver not reading)`,
    { details: detailsOf(options) },
  );
}

/** A send given up because the sink is closing (E_SHUTDOWN): the outbox row stays for the next run. */
export function sendAborted(options: SinkOptions, why: string): ForwarderError {
  return shutdownError(`send to ${where(options)} aborted: ${why}`, { destination: options.name });
}

interface NodeError extends Error {
  code?: unknown;
  reason?: unknown;
}

export function errnoOf(err: unknown): string {
  const e = err as NodeError | undefined;
  if (e !== undefined && typeof e.code === "string") return e.code;
  return err instanceof Error ? err.message : String(err);
}

/** An OpenSSL error (a TLS alert from the peer, a protocol error), as opposed to a socket error. */
export function isTlsLibraryError(err: Error): boolean {
  const { code } = err as NodeError;
  return typeof code === "string" && (code.startsWith("ERR_SSL") || code.startsWith("ERR_TLS"));
}

/**
 * A short human reason: Node's certificate errors already read well ("certificate has expired",
 * "self-signed certificate in certificate chain", the hostname mismatch text); OpenSSL errors
 * carry a `reason` ("wrong version number") next to a message full of internal paths.
 */
export function describeTlsError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const { code, reason } = err as NodeError;
  const openssl = typeof code === "string" && /^ERR_(SSL|OSSL)/.test(code) && typeof reason === "string";
  const text = openssl ? String(reason) : err.message;
  return typeof code === "string" && code !== text ? `${text} (${code})` : text;
}

/**
 * A send that failed after the receiver had answered part of it (RELP answers every message): the caller
 * acknowledges the `confirmed` messages (indices into the send) and sends the others again. `refused` of
 * those others were refused by the receiver (RELP `rsp` other than 200) rather than lost with the
 * connection. Code, class and message are those of the failure.
 */
export class PartialSendError extends ForwarderError {
  readonly confirmed: readonly number[];
  readonly refused: number;

  constructor(failure: ForwarderError, confirmed: readonly number[], refused: number) {
    super(failure.code, failure.message, {
      cause: failure,
      details: failure.details,
      errorClass: failure.errorClass,
      retryAfterMs: failure.retryAfterMs,
    });
    this.name = "PartialSendError";
    this.confirmed = confirmed;
    this.refused = refused;
  }
}

/** The receiver broke the RELP protocol (a framing error, an answer to nothing, a refused session). */
export function protocolError(options: SinkOptions, reason: string, cause?: unknown): ForwarderError {
  return new ForwarderError("E_SINK_PROTOCOL", `${where(options)}: ${reason}`, {
    cause,
    details: detailsOf(options),
  });
}

/** RELP: the receiver answered some messages of a send with an error status. */
export function rejectedError(
  options: SinkOptions,
  refused: number,
  of: number,
  answer: string,
): ForwarderError {
  return new ForwarderError(
    "E_SINK_REJECTED",
    `${where(options)} refused ${refused} of ${of} messages: ${answer}`,
    { details: { ...detailsOf(options), refused } },
  );
}

/** RELP: messages are waiting for an answer and none came for write_timeout. */
export function answerTimeoutError(options: SinkOptions, unanswered: number): ForwarderError {
  return new ForwarderError(
    "E_SINK_TIMEOUT",
    `no RELP answer from ${where(options)} for ${options.write_timeout} ms with ${unanswered} messages waiting (receiver not answering)`,
    { details: detailsOf(options) },
  );
}

/** RELP: the receiver dropped the connection before it answered `open`. */
export function notOpenedError(options: SinkOptions, original: ForwarderError): ForwarderError {
  return new ForwarderError(
    "E_SINK_CONNECT",
    `connection to ${where(options)} was dropped before the RELP session opened (a receiver going down, or not a RELP listener)`,
    { cause: original, details: detailsOf(options) },
  );
}

/** RELP: the connection opened but the session did not (no answer to `open`). */
export function openTimeoutError(options: SinkOptions): ForwarderError {
  return new ForwarderError(
    "E_SINK_TIMEOUT",
    `no answer to the RELP open from ${where(options)} within ${options.connect_timeout} ms (not a RELP listener, or not responding)`,
    { details: detailsOf(options) },
  );
}
