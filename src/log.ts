// pino, one child per module. Secrets are redacted by path as a second line of defence:
// the first is that no module ever puts a secret into a log field.
import { type DestinationStream, type Level, type Logger, pino } from "pino";
import { createPrettyDestination } from "./log-pretty.js";
import { maskUrlCredentials } from "./url-credentials.js";

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

/** `auto`: readable lines when the output is a terminal, JSON lines otherwise. */
export type LogFormat = "auto" | "json" | "pretty";

export interface LogOptions {
  level: Level | "silent";
  /** Default `auto`. */
  format?: LogFormat;
  /** Where entries go when no `destination` is given; default stdout. */
  output?: "stdout" | "stderr";
  /** Replaces the output (tests pass a stream to read the lines back); JSON unless format is `pretty`. */
  destination?: DestinationStream;
  /** Whether the output is a terminal (decides `auto` and colours); default: asked of the output. */
  tty?: boolean;
  /** ANSI colours in pretty lines; default: on a terminal unless NO_COLOR is set. */
  color?: boolean;
  /** Wraps the output, e.g. to keep log lines off a progress line on the same terminal. */
  wrap?: (out: DestinationStream) => DestinationStream;
}

export function createLogger(options: LogOptions): Logger {
  const fd = options.output === "stderr" ? 2 : 1;
  const tty =
    options.tty ??
    (options.destination === undefined && (fd === 2 ? process.stderr.isTTY : process.stdout.isTTY) === true);
  const format = options.format ?? "auto";
  const pretty = format === "pretty" || (format === "auto" && tty);
  const output = options.destination ?? pino.destination({ dest: fd, sync: true });
  const raw = options.wrap ? options.wrap(output) : output;
  const color = options.color ?? (tty && !process.env.NO_COLOR);
  return pino(
    {
      level: options.level,
      base: { service: "mde-forwarder" },
      // Applied while pino serialises, so the pretty printer only ever sees the redacted line.
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // The last step before a line is written: a URL with credentials in any field or message is masked.
      hooks: { streamWrite: maskUrlCredentials },
    },
    pretty ? createPrettyDestination(raw, { color }) : raw,
  );
}

/** A logger that writes nothing, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
