// The `log` section of the config, and what createLogger takes from it.
import { z } from "zod";
import type { LogOptions } from "../log.js";
import { keyDocs } from "./key-doc.js";

export const logSchema = z
  .strictObject({
    level: z
      .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], {
        error: "must be one of fatal, error, warn, info, debug, trace, silent",
      })
      .default("info")
      .register(keyDocs, { description: "The least severe level written (pino levels)" }),
    format: z
      .enum(["auto", "json", "pretty"], { error: "must be one of auto, json, pretty" })
      .default("auto")
      .register(keyDocs, {
        description: "`auto`: readable lines on a terminal, JSON lines otherwise",
        details:
          "`auto` writes readable lines when the output is a terminal and JSON lines otherwise (a pipe, a " +
          "file, a container log driver); `json` and `pretty` force one of them.",
      }),
  })
  .prefault({})
  .register(keyDocs, { description: "Log lines on stdout (pino)" });

export type LogConfig = z.infer<typeof logSchema>;

/** The logger's settings from the config; a command adds where its lines go (`output`). */
export type LoggerConfig = Pick<LogOptions, "level" | "format">;

export function buildLogConfig(log: LogConfig): LoggerConfig {
  return { level: log.level, format: log.format };
}
