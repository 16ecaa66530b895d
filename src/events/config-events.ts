// What happens to a new config at a reload.
import { ConfigError, type ForwarderError } from "../errors.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics/definitions.js";

export interface ConfigEvents {
  /** A reload refused (a broken file, or a change that needs a restart): the old config runs on. */
  configRejected(log: Logger, error: ForwarderError): void;
}

export function createConfigEvents(metrics: Metrics): ConfigEvents {
  return {
    configRejected(log, error) {
      metrics.errors.inc({ stage: "config", code: error.code });
      const issues = error instanceof ConfigError ? error.issues : undefined;
      log.error(
        { code: error.code, err: issues ? undefined : error.message, issues },
        "New config rejected; the old one keeps running.",
      );
    },
  };
}
