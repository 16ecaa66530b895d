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

/** What createStore takes. */
export type StoreConfig = StateConfig & {
  /** Names of the configured destinations: each ingested detection gets one outbox row per name. */
  destinations: readonly string[];
  /** Opens an existing file without migrating or writing, and without the lock (the `status` command). */
  readonly?: boolean;
};

/** The state section, with the destinations the outbox keeps rows for. */
export function buildStateConfig(config: {
  state: StateConfig;
  destinations: ReadonlyArray<{ name: string }>;
}): StoreConfig {
  return { ...config.state, destinations: config.destinations.map((d) => d.name) };
}
