// Per-destination selection: which detections a destination gets. Applied when a detection is stored,
// so a destination's outbox (and max_outbox) holds only what it will send.
import { z } from "zod";
import { keyDocs } from "../config/key-doc.js";
import { nonEmpty } from "../config/types.js";

export const SEVERITY_ORDER = ["informational", "low", "medium", "high"] as const;
export type SeverityName = (typeof SEVERITY_ORDER)[number];

/** Category and machine group lists; `include` and `exclude` each get their own (their docs differ). */
function matchList(docs: { categories: string; machineGroups: string }) {
  return z
    .strictObject({
      categories: z
        .array(nonEmpty())
        .default([])
        .register(keyDocs, { description: docs.categories, example: ["Malware", "Ransomware"] }),
      machine_groups: z
        .array(nonEmpty())
        .default([])
        .register(keyDocs, { description: docs.machineGroups, example: ["UKMachines"] }),
    })
    .prefault({});
}

export const selectionShape = {
  /** Detections below this severity are not sent here; a severity outside the four levels always is. */
  min_severity: z
    .enum(SEVERITY_ORDER, { error: `must be one of ${SEVERITY_ORDER.join(", ")}` })
    .optional()
    .register(keyDocs, {
      description: "Less severe detections are not sent here",
      details: "A severity outside the four levels is always sent.",
      default: "unset (all)",
      example: "medium",
    }),
  /** When a list is set, only detections whose Category / MachineGroup is in it (case-insensitive). */
  include: matchList({
    categories: "When set, only detections whose `Category` is listed (case-insensitive)",
    machineGroups: "When set, only detections whose `MachineGroup` is listed (case-insensitive)",
  }).register(keyDocs, {
    description: "When a list is set, only the detections that match it are sent here",
    details:
      "An incident has neither a `Category` nor a `MachineGroup`, so a destination with an `include` list " +
      "gets no incidents.",
  }),
  /** Detections whose Category or MachineGroup is listed here are not sent (case-insensitive). */
  exclude: matchList({
    categories: "Detections whose `Category` is listed are not sent here (case-insensitive)",
    machineGroups: "Detections whose `MachineGroup` is listed are not sent here (case-insensitive)",
  }).register(keyDocs, { description: "Detections that match a list are not sent here" }),
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
