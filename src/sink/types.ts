// The sink's vocabulary, shared by the transports and the factory (index.ts): what a send returns, the Sink
// interface, the options of one destination, the up/down tracker and the default timings. Kept apart from
// index.ts, which imports the transports, so that no transport imports the file that imports it.
//
// Delivery contract: a send resolves only when its messages are confirmed (see stream.ts for what
// "confirmed" means on TCP/TLS, relp.ts for RELP, where the receiver acknowledges each message); when
// it rejects, the caller resends them later (duplicates are possible, loss is not), except those a
// PartialSendError names as confirmed. Retry and backoff belong to the caller.
import type { ForwarderError } from "../errors.js";
import type { TransportOptions } from "./config.js";

export interface SendResult {
  /** Messages that were not sent and never will be (e.g. a UDP datagram too large): the caller counts them as dropped. */
  readonly dropped: ReadonlyArray<{ index: number; reason: "too_large" }>;
}

export interface Sink {
  /**
   * Frames and sends the messages (unframed syslog messages as text, UTF-8 on the wire; TCP and TLS
   * encode a whole send into one buffer). Resolves once every message is
   * *confirmed*; rejects with a retryable ForwarderError (E_SINK_CONNECT, E_SINK_WRITE, E_SINK_TLS,
   * E_SINK_TIMEOUT, E_SINK_PROTOCOL, E_SINK_REJECTED) if they may not have arrived, or E_SHUTDOWN after
   * close(). A rejection that is a PartialSendError lists the messages that were confirmed all the same
   * (RELP): the caller acknowledges those and resends only the rest. Several sends may be in flight at
   * once; they settle in call order; when the connection fails, every unconfirmed send rejects.
   */
  send(messages: readonly string[]): Promise<SendResult>;
  /**
   * Health check: makes sure a connection is open (tcp, tls) or the host resolves (udp), connecting once
   * if needed, and updates `up`. Rejects like a failed send. Lets `mde_destination_up` tell the truth
   * while there is nothing to send.
   */
  check(): Promise<void>;
  /** True when the last connect or send succeeded; false after a failure until a later success. */
  readonly up: boolean;
  /**
   * Stops accepting sends, lets in-flight sends settle normally for up to `timeoutMs` (default
   * 5000), then closes the connection; sends still unsettled then reject E_SHUTDOWN. Idempotent.
   */
  close(timeoutMs?: number): Promise<void>;
}

export type SinkOptions = TransportOptions & { name: string };

/** Shared by the transports: owns `up` and reports its transitions (destinationUp, destinationDown). */
export interface UpTracker {
  readonly up: boolean;
  markUp(): void;
  markDown(error: ForwarderError): void;
}

export const DEFAULT_CONFIRM_AFTER_MS = 1000;
export const DEFAULT_CLOSE_TIMEOUT_MS = 5000;
