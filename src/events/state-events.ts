// What happens when the state refuses: a fatal failure in a loop, a failed pruning.
import type { ForwarderError } from "../errors.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics/definitions.js";

export interface StateEvents {
  /**
   * The state cannot be written (or read) in a poll or a drain: counted (stage state) and logged at error.
   * The caller stops: a poll keeps its checkpoint, a drain stops taking rows, and the daemon exits.
   */
  stateFailed(log: Logger, during: "poll" | "drain", error: ForwarderError): void;
  /** Pruning the dedupe table failed: counted (stage state) and logged; the next pruning tries again. */
  pruneFailed(log: Logger, error: ForwarderError): void;
}

export function createStateEvents(metrics: Metrics): StateEvents {
  return {
    stateFailed(log, during, error) {
      metrics.errors.inc({ stage: "state", code: error.code });
      const fields = { code: error.code, err: error.message };
      if (during === "poll") {
        log.error(fields, "Poll failed: the state cannot be written; the checkpoint did not move.");
      } else {
        log.error(fields, "State failure; this destination stops draining.");
      }
    },
    pruneFailed(log, error) {
      metrics.errors.inc({ stage: "state", code: error.code });
      log.error({ code: error.code, err: error.message }, "Pruning the dedupe table failed.");
    },
  };
}
