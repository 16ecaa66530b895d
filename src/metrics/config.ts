import { z } from "zod";
import { bool, int } from "../config/types.js";

export const metricsSchema = z
  .strictObject({
    enabled: bool().default(true),
    host: z.string().trim().min(1).default("0.0.0.0"),
    port: int({ min: 0, max: 65535 }).default(9464),
  })
  .prefault({});

export type MetricsConfig = z.infer<typeof metricsSchema>;
