import { z } from "zod";
import { duration, int } from "../config/types.js";

export const stateSchema = z
  .strictObject({
    path: z.string().trim().min(1, "must not be empty").default("./data/state.db"),
    retention: duration({ min: 60_000 }).default(7 * 86_400_000),
    max_outbox: int({ min: 1 }).default(1_000_000),
  })
  .prefault({});

export type StateConfig = z.infer<typeof stateSchema>;
