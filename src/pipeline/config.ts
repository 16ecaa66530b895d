// Per-destination selection: which detections a destination gets. Applied when a detection is stored,
// so a destination's outbox (and max_outbox) holds only what it will send.
import { z } from "zod";
import { nonEmpty } from "../config/types.js";

export const SEVERITY_ORDER = ["informational", "low", "medium", "high"] as const;
export type SeverityName = (typeof SEVERITY_ORDER)[number];

const matchList = z
  .strictObject({
    categories: z.array(nonEmpty()).default([]),
    machine_groups: z.array(nonEmpty()).default([]),
  })
  .prefault({});

export const selectionShape = {
  /** Detections below this severity are not sent here; a severity outside the four levels always is. */
  min_severity: z.enum(SEVERITY_ORDER, { error: `must be one of ${SEVERITY_ORDER.join(", ")}` }).optional(),
  /** When a list is set, only detections whose Category / MachineGroup is in it (case-insensitive). */
  include: matchList,
  /** Detections whose Category or MachineGroup is listed here are not sent (case-insensitive). */
  exclude: matchList,
};

const selectionSchema = z.object(selectionShape);
export type Selection = z.infer<typeof selectionSchema>;

/** What createPipeline takes from the config: the schedule, the back-pressure limit and the routing. */
export interface PipelineConfig {
  /** poll.schedule (node-cron). */
  schedule: string;
  /** state.max_outbox: polling pauses while a destination has more undelivered events. */
  maxOutbox: number;
  /** poll.permanent_error_retry: how long a tenant rests after a permanent error. */
  parkMs?: number;
  /** Each destination's selection; createPipeline compiles them into one router. */
  selections: ReadonlyArray<{ name: string } & Selection>;
}

/** The pipeline's settings, from the sections they are written in. */
export function buildPipelineConfig(config: {
  poll: { schedule: string; permanent_error_retry: number };
  state: { max_outbox: number };
  destinations: ReadonlyArray<{ name: string } & Selection>;
}): PipelineConfig {
  return {
    schedule: config.poll.schedule,
    maxOutbox: config.state.max_outbox,
    parkMs: config.poll.permanent_error_retry,
    selections: config.destinations.map(({ name, min_severity, include, exclude }) => ({
      name,
      min_severity,
      include,
      exclude,
    })),
  };
}
