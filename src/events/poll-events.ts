// What a tenant's poll ends with, and what it finds in the detections it stores.
import type { ForwarderError } from "../errors.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics/definitions.js";
import type { SourceStage } from "./stages.js";

export interface PollEvents {
  /**
   * A poll failed in its source (stage auth or poll, as the source says): error when the error is
   * permanent (the tenant rests until `nextAttempt`), warn when the next poll reads the window again.
   */
  pollFailed(log: Logger, stage: SourceStage, error: ForwarderError, nextAttempt?: string): void;
  /** Detections without FullId or a parseable LastProcessedTimeUtc: forwarded anyway. */
  detectionsMalformed(log: Logger, tenant: string, count: number): void;
  /** Detections that cannot be stored, kept in the quarantine: counted by reason, the poll goes on. */
  detectionsQuarantined(log: Logger, tenant: string, byReason: ReadonlyMap<string, number>): void;
}

export function createPollEvents(metrics: Metrics): PollEvents {
  return {
    pollFailed(log, stage, error, nextAttempt) {
      metrics.errors.inc({ stage, code: error.code });
      const fields = {
        code: error.code,
        err: error.message,
        ...(nextAttempt === undefined ? {} : { nextAttempt }),
      };
      if (error.permanent) log.error(fields, "Poll failed; this tenant rests until the next attempt.");
      else log.warn(fields, "Poll failed; the checkpoint stays and the next poll reads the window again.");
    },
    detectionsMalformed(log, tenant, count) {
      metrics.detectionsMalformed.inc({ tenant }, count);
      log.warn(
        { malformed: count },
        "Detections without FullId or a parseable LastProcessedTimeUtc; forwarded anyway.",
      );
    },
    detectionsQuarantined(log, tenant, byReason) {
      for (const [reason, n] of byReason) metrics.detectionsQuarantined.inc({ tenant, reason }, n);
      log.warn(
        { quarantined: Object.fromEntries(byReason) },
        "Detections that cannot be stored were quarantined (`mde-forwarder state export-quarantine` lists them); the poll goes on.",
      );
    },
  };
}
