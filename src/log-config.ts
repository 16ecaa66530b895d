// The `log` section of the config, and what createLogger takes from it.
import { z } from "zod";
import type { LogOptions } from "./log.js";

export const logSchema = z
  .strictObject({
    level: z
      .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], {
        error: "must be one of fatal, error, warn, info, debug, trace, silent",
      })
      .default("info"),
    // auto: readable lines on a terminal, JSON lines otherwise (a pipe, a file, a container log driver).
    format: z
      .enum(["auto", "json", "pretty"], { error: "must be one of auto, json, pretty" })
      .default("auto"),
  })
  .prefault({});

export type LogConfig = z.infer<typeof logSchema>;

/** The logger's settings from the config; a command adds where its lines go (`output`). */
export type LoggerConfig = Pick<LogOptions, "level" | "format">;

export function buildLogConfig(log: LogConfig): LoggerConfig {
  return { level: log.level, format: log.format };
}
