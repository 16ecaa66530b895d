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
