// The durable store between the poll loop and the drain loops.
//
// Invariants (each write below keeps all of them, in one transaction):
// 1. The checkpoint of a tenant only moves forward, and only in the transaction that writes the
//    outbox rows of the batch it covers (the one exception is resetCheckpoint: an operator's rewind,
//    made under the state lock while no poll runs). A crash therefore loses either both or neither: at-least-once
//    delivery holds across crashes, and every detection at or before the checkpoint is stored, delivered
//    or a duplicate. The store cannot know what the API returned, so the caller owns the other half:
//    it passes a checkpoint no later than the LastProcessedTimeUtc it has fully read.
// 2. A seen row exists for every (tenant, key) ever ingested until pruneSeen (or an operator's
//    resetCheckpoint with forgetSeenSince) removes it, and neither ever removes the seen row of an event
//    still in the outbox: a backlog is never re-admitted as new, so never queued twice.
// 3. An event row exists iff some outbox row references it (the foreign key guards one direction, ack
//    and purge delete the event with its last outbox row). Retention never touches event rows.
// 4. Event ids are never reused (AUTOINCREMENT) and are assigned in ingest order, so "id > afterId"
//    paging in a drain loop sees every new event exactly once, oldest first.
// 5. outbox_depth.events equals the number of outbox rows of that destination: every statement that
//    adds or removes outbox rows adjusts it in the same transaction.
// 6. Checkpoints are canonical 7-digit timestamps (src/timestamp.ts): fixed width, so SQL string
//    comparison is time order.
import { ForwarderError } from "../errors.js";
import type { Logger } from "../log.js";
import type { DetectionRecord, OutboxEvent } from "../record.js";
import { type Db, toStateError } from "./db.js";

export interface IngestResult {
  readonly inserted: number;
  readonly duplicates: number;
  /** Outbox rows added per configured destination (less than `inserted` where a destination's filter said no). */
  readonly queued: ReadonlyMap<string, number>;
  /** The tenant's checkpoint after the ingest (unchanged when the given one was not greater). */
  readonly checkpoint: string | undefined;
}

export interface TenantStatus {
  tenant: string;
  checkpoint?: string;
  lastPollAt?: number;
  lastSuccessAt?: number;
  lastErrorAt?: number;
  lastError?: string;
  lastErrorCode?: string;
}

export interface DestinationStatus {
  destination: string;
  outbox: number;
  lastSuccessAt?: number;
  lastErrorAt?: number;
  lastError?: string;
  lastErrorCode?: string;
}

/** A record with the destinations it is for (all configured ones when absent). */
export type RoutedRecord = DetectionRecord & { readonly destinations?: readonly string[] };

export type Outcome = { ok: true } | { ok: false; code: string; message: string };

/** An outbox event with the time it was stored (for `state export-outbox`). */
export interface StoredEvent extends OutboxEvent {
  /** Milliseconds since the epoch. */
  readonly receivedAt: number;
}

export interface ResetResult {
  /** The checkpoint before the reset. */
  readonly previous: string | undefined;
  /** Dedupe keys forgotten (0 unless forgetSeenSince was given). */
  readonly forgotten: number;
}

export interface RemovedDestination {
  destination: string;
  /** Undelivered events that were dropped with it. */
  events: number;
}

export interface Store {
  /** Canonical timestamp or undefined when the tenant has none yet. */
  getCheckpoint(tenant: string): string | undefined;
  /**
   * ONE transaction: insert-or-ignore each record into seen(tenant, key); for each NEW one, store the
   * body and add one outbox row per destination; then raise the tenant's checkpoint to `checkpoint` if
   * given and greater (never backward). Records are inserted in the given order, so outbox ids follow
   * that order. Duplicates within the same batch count as duplicates.
   */
  ingest(tenant: string, records: readonly RoutedRecord[], checkpoint: string | undefined): IngestResult;
  /** Up to `limit` outbox events for the destination with id > afterId, oldest first. */
  next(destination: string, afterId: number, limit: number): StoredEvent[];
  /** Removes the destination's outbox rows (one transaction) and any stored body no destination still needs. */
  ack(destination: string, ids: readonly number[]): void;
  /** Undelivered events per configured destination (0 when none); cheap enough to call at every scrape. */
  outboxDepths(): Map<string, number>;
  /** Largest outbox depth over the configured destinations (for the max_outbox back-pressure check). */
  maxOutboxDepth(): number;
  /** Deletes seen rows older than the retention (except those of events still in the outbox); returns how many. */
  pruneSeen(): number;
  /**
   * Deletes the outbox rows, depth and status of destinations that are no longer configured, in one
   * transaction. Returns those that still had undelivered events; the caller logs and counts them as
   * dropped (reason `destination_removed`).
   */
  purgeRemovedDestinations(): RemovedDestination[];
  /**
   * The destinations ingest writes outbox rows for (config reload). Call purgeRemovedDestinations after it
   * to drop the backlog of the ones that left; a new one gets only detections stored from now on.
   */
  setDestinations(names: readonly string[]): void;
  /**
   * The operator's rewind (`state reset-checkpoint`), ONE transaction: sets the tenant's checkpoint to
   * `checkpoint`, backward too, or deletes it when undefined (the next poll starts from lookback). With
   * `forgetSeenSince` (ms), also forgets the tenant's dedupe keys recorded at or after that time, except
   * those of events still in the outbox (invariant 2), so that re-read detections are sent again.
   */
  resetCheckpoint(
    tenant: string,
    checkpoint: string | undefined,
    options?: { forgetSeenSince?: number },
  ): ResetResult;
  recordPoll(tenant: string, outcome: Outcome): void;
  recordDelivery(destination: string, outcome: Outcome): void;
  status(): { tenants: TenantStatus[]; destinations: DestinationStatus[] };
  /** Idempotent. */
  close(): void;
}

export interface SqliteStoreOptions {
  /** For error messages. */
  path: string;
  /** Milliseconds a seen key is remembered. */
  retention: number;
  destinations: readonly string[];
  readonly?: boolean;
}

export interface StoreDeps {
  log: Logger;
  /** Milliseconds since the epoch; defaults to Date.now. */
  clock?: () => number;
}

/** Every statement the store runs; exported so a test can check each query plan uses an index. */
export const STORE_SQL = {
  getCheckpoint: "SELECT last_processed FROM checkpoint WHERE tenant = ?",
  insertSeen: "INSERT INTO seen (tenant, key, seen_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
  insertEvent:
    "INSERT INTO event (tenant, key, body, last_processed, received_at, kind) VALUES (?, ?, ?, ?, ?, ?)",
  insertOutbox: "INSERT INTO outbox (destination, event_id) VALUES (?, ?)",
  addDepth:
    "INSERT INTO outbox_depth (destination, events) VALUES (?, ?) " +
    "ON CONFLICT (destination) DO UPDATE SET events = events + excluded.events",
  raiseCheckpoint:
    "INSERT INTO checkpoint (tenant, last_processed, updated_at) VALUES (?, ?, ?) " +
    "ON CONFLICT (tenant) DO UPDATE SET last_processed = excluded.last_processed, updated_at = excluded.updated_at " +
    "WHERE excluded.last_processed > checkpoint.last_processed",
  next:
    "SELECT o.event_id AS id, e.tenant AS tenant, e.body AS body, e.kind AS kind, e.received_at AS receivedAt FROM outbox o " +
    "JOIN event e ON e.id = o.event_id " +
    "WHERE o.destination = ? AND o.event_id > ? ORDER BY o.event_id LIMIT ?",
  deleteOutbox: "DELETE FROM outbox WHERE destination = ? AND event_id = ?",
  deleteDestinationOutbox: "DELETE FROM outbox WHERE destination = ? RETURNING event_id",
  deleteEventIfUnused:
    "DELETE FROM event WHERE id = @id AND NOT EXISTS (SELECT 1 FROM outbox WHERE event_id = @id)",
  depths: "SELECT destination, events FROM outbox_depth",
  deleteDepth: "DELETE FROM outbox_depth WHERE destination = ?",
  // A pending event's seen row has seen_at = its received_at: nothing at or after the oldest pending event goes.
  pruneSeen:
    "DELETE FROM seen WHERE seen_at < ? AND seen_at < (SELECT coalesce(min(received_at), 9223372036854775807) FROM event)",
  setCheckpoint:
    "INSERT INTO checkpoint (tenant, last_processed, updated_at) VALUES (?, ?, ?) " +
    "ON CONFLICT (tenant) DO UPDATE SET last_processed = excluded.last_processed, updated_at = excluded.updated_at",
  deleteCheckpoint: "DELETE FROM checkpoint WHERE tenant = ?",
  // The keys of pending events recorded since then are read once (event_by_age), not looked up per seen row.
  forgetSeen:
    "DELETE FROM seen WHERE tenant = ? AND seen_at >= ? AND key NOT IN " +
    "(SELECT key FROM event WHERE tenant = ? AND received_at >= ?)",
  pollOk:
    "INSERT INTO tenant_status (tenant, last_poll_at, last_success_at) VALUES (?, ?, ?) " +
    "ON CONFLICT (tenant) DO UPDATE SET last_poll_at = excluded.last_poll_at, last_success_at = excluded.last_success_at",
  pollFailed:
    "INSERT INTO tenant_status (tenant, last_poll_at, last_error_at, last_error_code, last_error) VALUES (?, ?, ?, ?, ?) " +
    "ON CONFLICT (tenant) DO UPDATE SET last_poll_at = excluded.last_poll_at, last_error_at = excluded.last_error_at, " +
    "last_error_code = excluded.last_error_code, last_error = excluded.last_error",
  deliveryOk:
    "INSERT INTO destination_status (destination, last_success_at) VALUES (?, ?) " +
    "ON CONFLICT (destination) DO UPDATE SET last_success_at = excluded.last_success_at",
  deliveryFailed:
    "INSERT INTO destination_status (destination, last_error_at, last_error_code, last_error) VALUES (?, ?, ?, ?) " +
    "ON CONFLICT (destination) DO UPDATE SET last_error_at = excluded.last_error_at, " +
    "last_error_code = excluded.last_error_code, last_error = excluded.last_error",
  deleteDestinationStatus: "DELETE FROM destination_status WHERE destination = ?",
  checkpoints: "SELECT tenant, last_processed FROM checkpoint",
  tenantStatus:
    "SELECT tenant, last_poll_at, last_success_at, last_error_at, last_error, last_error_code FROM tenant_status",
  destinationStatus:
    "SELECT destination, last_success_at, last_error_at, last_error, last_error_code FROM destination_status",
} as const;

const CANONICAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$/;
/** Error texts come from remote peers; a bounded copy is enough for `status`. */
const MAX_ERROR_LENGTH = 1000;

interface TenantStatusRow {
  tenant: string;
  last_poll_at: number | null;
  last_success_at: number | null;
  last_error_at: number | null;
  last_error: string | null;
  last_error_code: string | null;
}

interface DestinationStatusRow {
  destination: string;
  last_success_at: number | null;
  last_error_at: number | null;
  last_error: string | null;
  last_error_code: string | null;
}

/** Builds the store on an open, migrated database (see openStateDatabase). Takes ownership of `db`. */
export function createSqliteStore(db: Db, options: SqliteStoreOptions, deps: StoreDeps): Store {
  const log = deps.log;
  const clock = deps.clock ?? Date.now;
  const file = options.path;
  // Replaced as a whole by setDestinations (config reload); never mutated in place.
  let destinations = [...new Set(options.destinations)];
  let configured = new Set(destinations);
  const readonly = options.readonly === true;

  // Prepared once; a read-only connection prepares writes fine, they are refused by `writable`.
  const s = {
    getCheckpoint: db.prepare<[string], string>(STORE_SQL.getCheckpoint).pluck(),
    insertSeen: db.prepare<[string, string, number]>(STORE_SQL.insertSeen),
    insertEvent: db.prepare<[string, string, string, string | null, number, string]>(STORE_SQL.insertEvent),
    insertOutbox: db.prepare<[string, number]>(STORE_SQL.insertOutbox),
    addDepth: db.prepare<[string, number]>(STORE_SQL.addDepth),
    raiseCheckpoint: db.prepare<[string, string, number]>(STORE_SQL.raiseCheckpoint),
    next: db.prepare<[string, number, number], StoredEvent>(STORE_SQL.next),
    deleteOutbox: db.prepare<[string, number]>(STORE_SQL.deleteOutbox),
    deleteDestinationOutbox: db.prepare<[string], number>(STORE_SQL.deleteDestinationOutbox).pluck(),
    deleteEventIfUnused: db.prepare<{ id: number }>(STORE_SQL.deleteEventIfUnused),
    depths: db.prepare<[], { destination: string; events: number }>(STORE_SQL.depths),
    deleteDepth: db.prepare<[string]>(STORE_SQL.deleteDepth),
    pruneSeen: db.prepare<[number]>(STORE_SQL.pruneSeen),
    setCheckpoint: db.prepare<[string, string, number]>(STORE_SQL.setCheckpoint),
    deleteCheckpoint: db.prepare<[string]>(STORE_SQL.deleteCheckpoint),
    forgetSeen: db.prepare<[string, number, string, number]>(STORE_SQL.forgetSeen),
    pollOk: db.prepare<[string, number, number]>(STORE_SQL.pollOk),
    pollFailed: db.prepare<[string, number, number, string, string]>(STORE_SQL.pollFailed),
    deliveryOk: db.prepare<[string, number]>(STORE_SQL.deliveryOk),
    deliveryFailed: db.prepare<[string, number, string, string]>(STORE_SQL.deliveryFailed),
    deleteDestinationStatus: db.prepare<[string]>(STORE_SQL.deleteDestinationStatus),
    checkpoints: db.prepare<[], { tenant: string; last_processed: string }>(STORE_SQL.checkpoints),
    tenantStatus: db.prepare<[], TenantStatusRow>(STORE_SQL.tenantStatus),
    destinationStatus: db.prepare<[], DestinationStatusRow>(STORE_SQL.destinationStatus),
  };

  const ingestTx = db.transaction(
    (tenant: string, records: readonly RoutedRecord[], checkpoint: string | undefined): IngestResult => {
      const now = clock();
      let inserted = 0;
      const queued = new Map(destinations.map((d) => [d, 0]));
      for (const record of records) {
        if (s.insertSeen.run(tenant, record.key, now).changes === 0) continue;
        inserted++;
        const targets =
          record.destinations === undefined
            ? destinations
            : record.destinations.filter((d) => configured.has(d));
        // No one to deliver to (no destination, or every filter said no): remember the key, keep no body.
        if (targets.length === 0) continue;
        const id = Number(
          s.insertEvent.run(
            tenant,
            record.key,
            record.body,
            record.lastProcessed ?? null,
            now,
            record.kind ?? "siem",
          ).lastInsertRowid,
        );
        for (const destination of targets) {
          s.insertOutbox.run(destination, id);
          queued.set(destination, (queued.get(destination) ?? 0) + 1);
        }
      }
      for (const [destination, n] of queued) if (n > 0) s.addDepth.run(destination, n);
      if (checkpoint !== undefined) s.raiseCheckpoint.run(tenant, checkpoint, now);
      return {
        inserted,
        duplicates: records.length - inserted,
        queued,
        checkpoint: s.getCheckpoint.get(tenant),
      };
    },
  );

  const ackTx = db.transaction((destination: string, ids: readonly number[]) => {
    let removed = 0;
    for (const id of ids) {
      if (s.deleteOutbox.run(destination, id).changes === 0) continue; // already acked
      removed++;
      s.deleteEventIfUnused.run({ id });
    }
    if (removed > 0) s.addDepth.run(destination, -removed);
  });

  const purgeTx = db.transaction((): RemovedDestination[] => {
    const known = new Set<string>([
      ...s.depths.all().map((r) => r.destination),
      ...s.destinationStatus.all().map((r) => r.destination),
    ]);
    const removed: RemovedDestination[] = [];
    for (const destination of known) {
      if (configured.has(destination)) continue;
      const ids = s.deleteDestinationOutbox.all(destination);
      for (const id of ids) s.deleteEventIfUnused.run({ id });
      s.deleteDepth.run(destination);
      s.deleteDestinationStatus.run(destination);
      if (ids.length > 0) removed.push({ destination, events: ids.length });
    }
    return removed;
  });

  const resetTx = db.transaction(
    (tenant: string, checkpoint: string | undefined, forgetSeenSince: number | undefined): ResetResult => {
      const previous = s.getCheckpoint.get(tenant);
      if (checkpoint === undefined) s.deleteCheckpoint.run(tenant);
      else s.setCheckpoint.run(tenant, checkpoint, clock());
      const forgotten =
        forgetSeenSince === undefined
          ? 0
          : s.forgetSeen.run(tenant, Math.floor(forgetSeenSince), tenant, Math.floor(forgetSeenSince))
              .changes;
      return { previous, forgotten };
    },
  );

  let closed = false;

  function run<T>(action: "read" | "write", fn: () => T): T {
    if (closed) throw new ForwarderError("E_INTERNAL", `state ${file} is closed`);
    if (action === "write" && readonly) {
      throw new ForwarderError("E_INTERNAL", `state ${file} was opened read-only`);
    }
    try {
      return fn();
    } catch (err) {
      throw toStateError(err, file, action);
    }
  }

  function depthsFromDb(): Map<string, number> {
    const depths = new Map<string, number>();
    for (const row of s.depths.all()) depths.set(row.destination, row.events);
    return depths;
  }

  return {
    getCheckpoint(tenant) {
      return run("read", () => s.getCheckpoint.get(tenant));
    },

    ingest(tenant, records, checkpoint) {
      checkCanonical(tenant, checkpoint);
      return run("write", () => ingestTx.immediate(tenant, records, checkpoint));
    },

    resetCheckpoint(tenant, checkpoint, options = {}) {
      checkCanonical(tenant, checkpoint);
      const result = run("write", () => resetTx.immediate(tenant, checkpoint, options.forgetSeenSince));
      log.info(
        {
          tenant,
          previous: result.previous ?? null,
          checkpoint: checkpoint ?? null,
          forgotten: result.forgotten,
        },
        "Checkpoint reset.",
      );
      return result;
    },

    next(destination, afterId, limit) {
      if (limit <= 0) return [];
      return run("read", () => s.next.all(destination, afterId, Math.floor(limit)));
    },

    ack(destination, ids) {
      if (ids.length === 0) return;
      run("write", () => ackTx.immediate(destination, ids));
    },

    outboxDepths() {
      return run("read", () => {
        const all = depthsFromDb();
        return new Map(destinations.map((d) => [d, all.get(d) ?? 0]));
      });
    },

    maxOutboxDepth() {
      return run("read", () => {
        const all = depthsFromDb();
        return destinations.reduce((max, d) => Math.max(max, all.get(d) ?? 0), 0);
      });
    },

    pruneSeen() {
      return run("write", () => {
        const removed = s.pruneSeen.run(clock() - options.retention).changes;
        if (removed > 0) log.debug({ removed }, "Pruned old dedupe keys.");
        return removed;
      });
    },

    purgeRemovedDestinations() {
      return run("write", () => purgeTx.immediate());
    },

    setDestinations(names) {
      destinations = [...new Set(names)];
      configured = new Set(destinations);
    },

    recordPoll(tenant, outcome) {
      run("write", () => {
        const now = clock();
        if (outcome.ok) s.pollOk.run(tenant, now, now);
        else s.pollFailed.run(tenant, now, now, outcome.code, truncate(outcome.message));
      });
    },

    recordDelivery(destination, outcome) {
      run("write", () => {
        const now = clock();
        if (outcome.ok) s.deliveryOk.run(destination, now);
        else s.deliveryFailed.run(destination, now, outcome.code, truncate(outcome.message));
      });
    },

    status() {
      return run("read", () => readStatus());
    },

    close() {
      if (closed) return;
      closed = true;
      try {
        db.close();
      } catch (err) {
        log.warn({ err, path: file }, "Closing the state database failed.");
      }
    },
  };

  function readStatus(): { tenants: TenantStatus[]; destinations: DestinationStatus[] } {
    const tenants = new Map<string, TenantStatus>();
    for (const row of s.checkpoints.all()) {
      tenants.set(row.tenant, { tenant: row.tenant, checkpoint: row.last_processed });
    }
    for (const row of s.tenantStatus.all()) {
      const t: TenantStatus = tenants.get(row.tenant) ?? { tenant: row.tenant };
      if (row.last_poll_at !== null) t.lastPollAt = row.last_poll_at;
      if (row.last_success_at !== null) t.lastSuccessAt = row.last_success_at;
      if (row.last_error_at !== null) t.lastErrorAt = row.last_error_at;
      if (row.last_error !== null) t.lastError = row.last_error;
      if (row.last_error_code !== null) t.lastErrorCode = row.last_error_code;
      tenants.set(row.tenant, t);
    }

    const depths = depthsFromDb();
    const dests = new Map<string, DestinationStatus>();
    for (const destination of [...destinations, ...depths.keys()]) {
      dests.set(destination, { destination, outbox: depths.get(destination) ?? 0 });
    }
    for (const row of s.destinationStatus.all()) {
      const d: DestinationStatus = dests.get(row.destination) ?? { destination: row.destination, outbox: 0 };
      if (row.last_success_at !== null) d.lastSuccessAt = row.last_success_at;
      if (row.last_error_at !== null) d.lastErrorAt = row.last_error_at;
      if (row.last_error !== null) d.lastError = row.last_error;
      if (row.last_error_code !== null) d.lastErrorCode = row.last_error_code;
      dests.set(row.destination, d);
    }
    return {
      tenants: [...tenants.values()].sort((a, b) => compare(a.tenant, b.tenant)),
      destinations: [...dests.values()].sort((a, b) => compare(a.destination, b.destination)),
    };
  }
}

function checkCanonical(tenant: string, checkpoint: string | undefined): void {
  if (checkpoint !== undefined && !CANONICAL.test(checkpoint)) {
    // A non-canonical string would compare wrongly against stored ones (invariant 6).
    throw new ForwarderError("E_INTERNAL", `checkpoint "${checkpoint}" is not a canonical timestamp`, {
      details: { tenant },
    });
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function truncate(message: string): string {
  return message.length > MAX_ERROR_LENGTH ? `${message.slice(0, MAX_ERROR_LENGTH)}…` : message;
}
