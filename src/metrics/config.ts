import { z } from "zod";
import { keyDocs } from "../config/key-doc.js";
import { bool, duration, int } from "../config/types.js";

export const metricsSchema = z
  .strictObject({
    enabled: bool()
      .default(true)
      .register(keyDocs, { description: "Serve `/metrics`, `/healthz` and `/readyz`" }),
    host: z.string().trim().min(1).default("0.0.0.0").register(keyDocs, { description: "Listen address" }),
    port: int({ min: 0, max: 65535 }).default(9464).register(keyDocs, { description: "Listen port" }),
    /** Open connections at once; past it the oldest one that has no request in progress is closed. */
    max_connections: int({ min: 2, max: 10_000 })
      .default(64)
      .register(keyDocs, {
        description: "Connections open at once (see below)",
        details:
          "Beyond it, the oldest connection without a request in progress is closed. See [Metrics and " +
          "health](monitoring.md#metrics-and-health) for how the server stays answerable.",
      }),
    /** A client must send its whole request within this from connecting (slow clients are dropped). */
    header_timeout: duration({ min: 100 })
      .default(5_000)
      .register(keyDocs, { description: "A client must send its whole request within this of connecting" }),
  })
  .prefault({})
  .register(keyDocs, { description: "The Prometheus endpoint and the health checks" });

export type MetricsConfig = z.infer<typeof metricsSchema>;

/** What startMetricsServer takes. */
export type MetricsServerConfig = Omit<MetricsConfig, "enabled">;

/** The metrics server's config, or undefined when `metrics.enabled` is false (no server at all). */
export function buildMetricsConfig(metrics: MetricsConfig): MetricsServerConfig | undefined {
  if (!metrics.enabled) return undefined;
  const { enabled: _enabled, ...server } = metrics;
  return server;
}
