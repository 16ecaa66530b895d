// What happens while a tenant is read: API requests answered, token requests, failed calls retried.
import type { ForwarderError } from "../errors.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics/definitions.js";
import type { TokenFailure } from "./labels.js";
import type { SourceStage } from "./stages.js";

export interface SourceEvents {
  /** One API request answered (any status) or failed without an answer (`error`): counted and timed. */
  apiRequestFinished(tenant: string, status: number | "error", seconds: number): void;
  tokenObtained(log: Logger, tenant: string, refreshInSeconds: number): void;
  /**
   * A token request failed: counted by outcome and logged at debug. The failure reaches the operator as
   * the retry's warning or the poll's error, which say what happens next.
   */
  tokenFailed(log: Logger, tenant: string, outcome: TokenFailure, error: ForwarderError): void;
  /** A failed API call (or token request, stage auth) that will be tried again after `delayMs`. */
  apiCallRetrying(
    log: Logger,
    retry: {
      stage: SourceStage;
      api: string;
      error: ForwarderError;
      attempt: number;
      delayMs: number;
      where: Readonly<Record<string, string>>;
    },
  ): void;
}

export function createSourceEvents(metrics: Metrics): SourceEvents {
  return {
    apiRequestFinished(tenant, status, seconds) {
      metrics.apiRequests.inc({ tenant, status: String(status) });
      metrics.apiRequestDuration.observe({ tenant }, seconds);
    },
    tokenObtained(log, tenant, refreshInSeconds) {
      metrics.tokenRequests.inc({ tenant, outcome: "success" });
      log.debug({ refreshInSeconds }, "Access token obtained.");
    },
    tokenFailed(log, tenant, outcome, error) {
      metrics.tokenRequests.inc({ tenant, outcome });
      log.debug({ outcome, code: error.code, err: error.message }, "Token request failed.");
    },
    apiCallRetrying(log, { stage, api, error, attempt, delayMs, where }) {
      metrics.errors.inc({ stage, code: error.code });
      log.warn(
        { code: error.code, attempt, delayMs: Math.round(delayMs), ...where },
        `${api} call failed; retrying.`,
      );
    },
  };
}
