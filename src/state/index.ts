// The state module: one SQLite file holding checkpoints, dedupe keys and the outbox, and the lock that
// lets one process at a time write it.
import path from "node:path";
import type { StoreConfig } from "./config.js";
import { checkWritable, openStateDatabase } from "./db.js";
import { acquireStateLock, type StateLock } from "./lock.js";
import { tightenStateFiles } from "./private-files.js";
import { createSqliteStore, type Store, type StoreDeps } from "./store.js";

export { buildStateConfig, type StoreConfig } from "./config.js";
export type { LockHolder, LockStatus, StateLock } from "./lock.js";
export { acquireStateLock, describeHolder, inspectStateLock, lockFileFor } from "./lock.js";
export type {
  DestinationStatus,
  IngestedEvent,
  IngestResult,
  Outcome,
  QuarantinedRecord,
  RejectedRecord,
  RemovedDestination,
  ResetResult,
  RoutedRecord,
  Store,
  StoreDeps,
  StoredEvent,
  StoredKey,
  TenantStatus,
} from "./store.js";
export { QUARANTINE_MAX_ROWS } from "./store.js";

/**
 * Opens (creating, checking and migrating) the state file and returns the store. A writable open first
 * takes the state lock (see lock.ts) and holds it until close(): one writing process per state file.
 * Throws a ForwarderError: E_STATE_LOCKED (another process holds the state, named by pid and host),
 * E_STATE_OPEN (path unusable, newer schema, foreign file, missing file when read-only), E_STATE_CORRUPT
 * (never reset).
 */
export function createStore(config: StoreConfig, deps: StoreDeps): Store {
  const log = deps.log.child({ component: "state" });
  const readonly = config.readonly === true;
  let lock: StateLock | undefined;
  if (!readonly) {
    // The directory first, so that an unusable path is reported as such rather than as a lock failure.
    checkWritable(path.resolve(config.path));
    tightenStateFiles(config.path, log);
    lock = acquireStateLock(config.path);
  }
  try {
    const db = openStateDatabase({ path: config.path, readonly }, { log });
    try {
      const store = createSqliteStore(
        db,
        { path: db.name, retention: config.retention, destinations: config.destinations, readonly },
        { ...deps, log },
      );
      log.debug({ path: db.name, readonly }, "State opened.");
      const held = lock;
      return {
        ...store,
        close() {
          store.close();
          held?.release();
        },
      };
    } catch (err) {
      db.close();
      throw err;
    }
  } catch (err) {
    lock?.release();
    throw err;
  }
}
