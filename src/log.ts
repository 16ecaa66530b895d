// pino, one child per module. Secrets are redacted by path as a second line of defence:
// the first is that no module ever puts a secret into a log field.
import { type DestinationStream, type Level, type Logger, pino } from "pino";

export type { Logger };

export const REDACT_PATHS = [
  "client_secret",
  "*.client_secret",
  "*.*.client_secret",
  "access_token",
  "*.access_token",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "*.headers.authorization",
  "token",
  "*.token",
  "password",
  "*.password",
];

export interface LogOptions {
  level: Level | "silent";
  /** Defaults to stdout. Tests pass a stream to read the lines back. */
  destination?: DestinationStream;
}

export function createLogger(options: LogOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: "mde-forwarder" },
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

/** A logger that writes nothing, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
