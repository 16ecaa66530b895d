import { z } from "zod";
import { bool, duration, int } from "../config/types.js";

export const metricsSchema = z
  .strictObject({
    enabled: bool().default(true),
    host: z.string().trim().min(1).default("0.0.0.0"),
    port: int({ min: 0, max: 65535 }).default(9464),
    /** Open connections at once; past it the oldest one that has no request in progress is closed. */
    max_connections: int({ min: 2, max: 10_000 }).default(64),
    /** A client must send its whole request within this from connecting (slow clients are dropped). */
    header_timeout: duration({ min: 100 }).default(5_000),
  })
  .prefault({});

export type MetricsConfig = z.infer<typeof metricsSchema>;

/** What startMetricsServer takes. */
export type MetricsServerConfig = Omit<MetricsConfig, "enabled">;

/** The metrics server's config, or undefined when `metrics.enabled` is false (no server at all). */
export function buildMetricsConfig(metrics: MetricsConfig): MetricsServerConfig | undefined {
  if (!metrics.enabled) return undefined;
  const { enabled: _enabled, ...server } = metrics;
  return server;
}
