import { z } from "zod";
import { keyDocs } from "../config/key-doc.js";
import { duration, int } from "../config/types.js";

export const stateSchema = z
  .strictObject({
    path: z
      .string()
      .trim()
      .min(1, "must not be empty")
      .default("./data/state.db")
      .register(keyDocs, {
        description: "The SQLite file (WAL mode); its directory is created (`0700`) if missing",
        details:
          "The state files are `0600` (see [Operations](operations.md#day-to-day)). One process at a time " +
          "writes a state file: a second one is refused with `E_STATE_LOCKED`.",
      }),
    retention: duration({ min: 60_000 })
      .default(7 * 86_400_000)
      .register(keyDocs, {
        description: "How long a FullId is remembered for dedupe; must exceed `poll.overlap` by far",
        details:
          "Keys recorded since the oldest undelivered event stay until it is delivered, however old they are.",
      }),
    max_outbox: int({ min: 1 }).default(1_000_000).register(keyDocs, {
      description: "Polling pauses while a destination has more undelivered events",
      details: "Nothing is dropped: the API keeps the detections until polling resumes.",
    }),
  })
  .prefault({})
  .register(keyDocs, {
    description: "The SQLite file of checkpoints, dedupe keys and the outbox",
    details:
      "Disk: each stored event holds its detection (about 2 kB) until every destination has it; the `-wal` " +
      "file beside the state grows to about 64 MB during a backlog (checkpointed every 64 MB, then trimmed " +
      "back to it).",
  });

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
