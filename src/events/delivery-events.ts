// What happens on the way to a destination: it goes up or down, a send or a probe fails, the receiver
// refuses messages, an event cannot be encoded or is dropped, rotated TLS files do not validate.
import type { ForwarderError } from "../errors.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics/definitions.js";
import type { DropReason } from "./labels.js";

/** Where a destination is, for its up/down lines. */
export interface Endpoint {
  readonly destination: string;
  readonly protocol: string;
  readonly host: string;
  readonly port: number;
}

export interface DeliveryEvents {
  /** The first connect (or, for UDP, resolve) succeeded, or the destination is back: `mde_destination_up` 1. */
  destinationUp(log: Logger, endpoint: Endpoint, recovered: boolean): void;
  /**
   * A connect or send failed: `mde_destination_up` 0 and a warning on the transition; while it stays down,
   * each further failure is a debug line (the drain counts and reports its sends).
   */
  destinationDown(log: Logger, endpoint: Endpoint, error: ForwarderError, alreadyDown: boolean): void;
  /**
   * A send failed and its recovery is done: counted (stage send; refusals were counted as they came),
   * logged at warn on the first failure in a row and at debug after, with the pause before the resend.
   */
  sendFailed(
    log: Logger,
    destination: string,
    error: ForwarderError,
    retry: { failures: number; delayMs?: number },
  ): void;
  /** The idle check of a destination failed: counted (stage send), logged at debug (destinationDown warns). */
  probeFailed(log: Logger, destination: string, error: ForwarderError): void;
  /** A RELP receiver refused messages: counted one per message (E_SINK_REJECTED); they are sent again. */
  messagesRefused(log: Logger, destination: string, refused: number): void;
  /** A stored event cannot be encoded for this destination: quarantined, counted (stage format). */
  eventUnencodable(log: Logger, event: { id: number; tenant: string }, error: ForwarderError): void;
  /** Events that will never be sent: counted by reason, logged. */
  eventsDropped(
    log: Logger,
    drop: {
      destination: string;
      reason: DropReason;
      count: number;
      /** Set when the events were too large before any send: not even cut down to max_message_bytes. */
      unfit?: { maxMessageBytes: number | undefined };
    },
  ): void;
  /** Rotated TLS files that do not validate: counted (stage send); the connection stays on the old files. */
  tlsFilesInvalid(
    log: Logger,
    destination: string,
    error: ForwarderError,
    files: { changed: readonly string[]; files: ReadonlyArray<string | undefined> },
  ): void;
}

/** What a sink emits itself (createSink's deps.events). */
export type SinkEvents = Pick<DeliveryEvents, "destinationUp" | "destinationDown" | "tlsFilesInvalid">;

export function createDeliveryEvents(metrics: Metrics): DeliveryEvents {
  return {
    destinationUp(log, { destination, ...where }, recovered) {
      metrics.destinationUp.set({ destination }, 1);
      // UDP cannot tell reachable: the datagrams left, and nothing refused them.
      const text =
        where.protocol === "udp"
          ? recovered
            ? "Destination takes datagrams again (UDP cannot confirm delivery)."
            : "Destination resolved; sending datagrams (UDP cannot confirm delivery)."
          : recovered
            ? "Destination is reachable again."
            : "Destination is reachable.";
      log.info(where, text);
    },
    destinationDown(log, { destination, ...where }, error, alreadyDown) {
      const fields = { ...where, code: error.code, reason: error.message };
      if (alreadyDown) {
        // Retries while down are the drain's business: keep them out of the warn level.
        log.debug(fields, "Send failed, destination still down.");
        return;
      }
      metrics.destinationUp.set({ destination }, 0);
      log.warn(fields, "Destination is down.");
    },
    sendFailed(log, _destination, error, { failures, delayMs }) {
      if (error.code !== "E_SINK_REJECTED") metrics.errors.inc({ stage: "send", code: error.code });
      const fields = {
        code: error.code,
        err: error.message,
        failures,
        ...(delayMs === undefined ? {} : { delayMs: Math.round(delayMs) }),
      };
      const text =
        delayMs === undefined
          ? "Send failed; the events stay in the outbox."
          : "Send failed; resending after a pause.";
      if (failures <= 1) log.warn(fields, text);
      else log.debug(fields, text);
    },
    probeFailed(log, _destination, error) {
      metrics.errors.inc({ stage: "send", code: error.code });
      log.debug({ code: error.code, err: error.message }, "Destination check failed.");
    },
    messagesRefused(log, _destination, refused) {
      metrics.errors.inc({ stage: "send", code: "E_SINK_REJECTED" }, refused);
      log.debug({ refused }, "Refused messages stay in the outbox and are sent again.");
    },
    eventUnencodable(log, event, error) {
      metrics.errors.inc({ stage: "format", code: "E_FORMAT" });
      metrics.detectionsQuarantined.inc({ tenant: event.tenant, reason: "unencodable" });
      log.error(
        { eventId: event.id, tenant: event.tenant, err: error.message },
        "Stored event cannot be encoded; quarantined, the destination goes on.",
      );
    },
    eventsDropped(log, { destination, reason, count, unfit }) {
      metrics.eventsDropped.inc({ destination, reason }, count);
      if (reason === "destination_removed") {
        log.warn(
          { destination, events: count },
          "Outbox rows of a destination no longer configured were dropped.",
        );
      } else if (unfit !== undefined) {
        log.error(
          { events: count, maxMessageBytes: unfit.maxMessageBytes },
          "Events that cannot fit max_message_bytes even cut down were dropped.",
        );
      } else {
        log.error({ dropped: count }, "Events too large for the destination were dropped.");
      }
    },
    tlsFilesInvalid(log, _destination, error, files) {
      metrics.errors.inc({ stage: "send", code: error.code });
      log.error(
        { ...files, code: error.code, reason: error.message },
        "TLS files changed on disk but are not usable; the current connection stays on the old ones.",
      );
    },
  };
}
