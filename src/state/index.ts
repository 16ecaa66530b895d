// The state module: one SQLite file holding checkpoints, dedupe keys and the outbox.
import type { StateConfig } from "./config.js";
import { openStateDatabase } from "./db.js";
import { createSqliteStore, type Store, type StoreDeps } from "./store.js";

export type {
  DestinationStatus,
  IngestResult,
  Outcome,
  RemovedDestination,
  RoutedRecord,
  Store,
  StoreDeps,
  TenantStatus,
} from "./store.js";

export type StoreConfig = StateConfig & {
  /** Names of the configured destinations: each ingested detection gets one outbox row per name. */
  destinations: readonly string[];
  /** Opens an existing file without migrating or writing (the `status` command). */
  readonly?: boolean;
};

/**
 * Opens (creating, checking and migrating) the state file and returns the store. Throws a ForwarderError:
 * E_STATE_OPEN (path unusable, newer schema, foreign file, missing file when read-only), E_STATE_CORRUPT
 * (never reset), E_STATE_LOCKED.
 */
export function createStore(config: StoreConfig, deps: StoreDeps): Store {
  const log = deps.log.child({ module: "state" });
  const db = openStateDatabase({ path: config.path, readonly: config.readonly === true }, { log });
  try {
    const store = createSqliteStore(
      db,
      {
        path: db.name,
        retention: config.retention,
        destinations: config.destinations,
        readonly: config.readonly === true,
      },
      { ...deps, log },
    );
    log.debug({ path: db.name, readonly: config.readonly === true }, "State opened.");
    return store;
  } catch (err) {
    db.close();
    throw err;
  }
}
