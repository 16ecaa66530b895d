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
// 7. A detection that cannot be stored (a rejected item of a response, a body that cannot be serialised) is
//    written to quarantine in the ingest transaction of its part, under a seen row like any other, so the
//    checkpoint never passes it unrecorded and an overlap re-read does not quarantine it twice. One a
//    destination cannot encode leaves that destination's outbox in the same transaction that quarantines
//    it. Quarantine keeps the newest QUARANTINE_MAX_ROWS rows.
import Database from "better-sqlite3";
import { ForwarderError, redactCredentials, toForwarderError } from "../errors.js";
import type { Logger } from "../log.js";
import {
  type DetectionRecord,
  MAX_QUARANTINE_RAW_BYTES,
  type OutboxEvent,
  type QuarantineReason,
  type RejectedItem,
  type SourceKind,
} from "../record.js";
import { type Db, toStateError } from "./db.js";
import { SEEN_KEY_PREFIX_CHARS, seenKey } from "./seen-key.js";

export interface IngestResult {
  readonly inserted: number;
  readonly duplicates: number;
  /** Outbox rows added per configured destination (less than `inserted` where a destination's filter said no). */
  readonly queued: ReadonlyMap<string, number>;
  /** The tenant's checkpoint after the ingest (unchanged when the given one was not greater). */
  readonly checkpoint: string | undefined;
  /** Detections newly quarantined, by reason (rejected items and bodies that cannot be serialised). */
  readonly quarantined: ReadonlyMap<QuarantineReason, number>;
  /**
   * The events this ingest stored, in id order: each one's id, the index of its record in `records` and its
   * body's size in bytes. The pipeline hands them to its drains in memory without reading them back.
   */
  readonly stored: readonly IngestedEvent[];
}

/** An event one ingest stored (IngestResult.stored). */
export interface IngestedEvent {
  readonly id: number;
  /** Its record's index in the records given to ingest. */
  readonly index: number;
  /** Bytes of its stored body (UTF-8). */
  readonly bytes: number;
}

/** A rejected item of a response, with the schema it came in. */
export type RejectedRecord = RejectedItem & { readonly kind: SourceKind };

/** A row of the quarantine (for `state export-quarantine`). */
export interface QuarantinedRecord {
  readonly id: number;
  readonly tenant: string;
  readonly reason: QuarantineReason;
  readonly kind: SourceKind;
  /** The destination whose formatter could not encode it; null when it never reached the outbox. */
  readonly destination: string | null;
  /** Its JSON text, cut at MAX_QUARANTINE_RAW_BYTES bytes. */
  readonly raw: string;
  /** Its whole size in bytes. */
  readonly rawBytes: number;
  /** Milliseconds since the epoch. */
  readonly quarantinedAt: number;
}

export interface TenantStatus {
  tenant: string;
  checkpoint?: string;
  lastPollAt?: number;
  lastSuccessAt?: number;
  lastErrorAt?: number;
  lastError?: string;
  lastErrorCode?: string;
  /** Detections of the tenant in quarantine, and when the last one went there. */
  quarantined?: number;
  lastQuarantinedAt?: number;
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

/** An event as one ingest stored it (Store.storedAfter): enough to pair it with the record it came from. */
export interface StoredKey {
  readonly id: number;
  readonly key: string;
  /** Bytes of its stored body. */
  readonly bytes: number;
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
   * ONE transaction: insert-or-ignore each record into seen (keyed by seenKey(tenant, key)); for each NEW
   * one, store the body and add one outbox row per destination; then raise the tenant's checkpoint to
   * `checkpoint` if given and greater (never backward). Records are inserted in the given order, so outbox
   * ids follow that order. Duplicates within the same batch count as duplicates. Rejected items (and
   * records whose body cannot be serialised) go to quarantine instead, deduplicated the same way
   * (invariant 7).
   */
  ingest(
    tenant: string,
    records: readonly RoutedRecord[],
    checkpoint: string | undefined,
    rejected?: readonly RejectedRecord[],
  ): IngestResult;
  /** Up to `limit` outbox events for the destination with id > afterId, oldest first. */
  next(destination: string, afterId: number, limit: number): StoredEvent[];
  /**
   * The newest event id so far (0 when there is none). With storedAfter it tells which events an ingest
   * stored: the pipeline hands those to its drains in memory, which then need not read them back.
   */
  lastEventId(): number;
  /** Every event with id > afterId, oldest first: its id, dedupe key and body size, never the body. */
  storedAfter(afterId: number): StoredKey[];
  /** Removes the destination's outbox rows (one transaction) and any stored body no destination still needs. */
  ack(destination: string, ids: readonly number[]): void;
  /**
   * ONE transaction: quarantines a stored event the destination cannot send (`unencodable`) and removes it
   * from that destination's outbox, so that it never blocks the destination.
   */
  quarantine(destination: string, event: OutboxEvent, reason: QuarantineReason): void;
  /** Up to `limit` quarantined records with id > afterId, oldest first (of one tenant when given). */
  quarantined(afterId: number, limit: number, tenant?: string): QuarantinedRecord[];
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
  // key_id is seenKey(tenant, key) (seen-key.ts), computed here rather than in SQL: one call fewer per key.
  insertSeen: "INSERT INTO seen (key_id, tenant, seen_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
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
  lastEventId: "SELECT coalesce(max(id), 0) FROM event",
  // octet_length reads the size from the record header, not the (overflow) pages of the body.
  storedAfter: "SELECT id, key, octet_length(body) AS bytes FROM event WHERE id > ? ORDER BY id",
  // An acknowledged batch is mostly a run of consecutive ids: one statement per run, not two per event.
  deleteOutboxRun: "DELETE FROM outbox WHERE destination = ? AND event_id BETWEEN ? AND ?",
  deleteEventsIfUnused:
    "DELETE FROM event WHERE id BETWEEN ? AND ? AND NOT EXISTS (SELECT 1 FROM outbox WHERE event_id = event.id)",
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
    "DELETE FROM seen WHERE tenant = ? AND seen_at >= ? AND key_id NOT IN " +
    "(SELECT seen_key(tenant, key) FROM event WHERE tenant = ? AND received_at >= ?)",
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
  insertQuarantine:
    "INSERT INTO quarantine (tenant, reason, kind, destination, raw, raw_bytes, quarantined_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
  // Ids are AUTOINCREMENT and only the oldest rows are ever deleted: the newest N are the last N ids.
  capQuarantine: "DELETE FROM quarantine WHERE id <= (SELECT max(id) FROM quarantine) - ?",
  quarantined:
    "SELECT id, tenant, reason, kind, destination, raw, raw_bytes AS rawBytes, quarantined_at AS quarantinedAt " +
    "FROM quarantine WHERE id > ? ORDER BY id LIMIT ?",
  quarantinedOfTenant:
    "SELECT id, tenant, reason, kind, destination, raw, raw_bytes AS rawBytes, quarantined_at AS quarantinedAt " +
    "FROM quarantine WHERE id > ? AND tenant = ? ORDER BY id LIMIT ?",
  quarantineByTenant:
    "SELECT tenant, count(*) AS records, max(quarantined_at) AS last FROM quarantine GROUP BY tenant",
} as const;

/** Quarantine keeps this many records, the newest (64 KiB each at most: 640 MB at worst). */
export const QUARANTINE_MAX_ROWS = 10_000;

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
    insertSeen: db.prepare<[Buffer, string, number]>(STORE_SQL.insertSeen),
    insertEvent: db.prepare<[string, string, string, string | null, number, string]>(STORE_SQL.insertEvent),
    insertOutbox: db.prepare<[string, number]>(STORE_SQL.insertOutbox),
    addDepth: db.prepare<[string, number]>(STORE_SQL.addDepth),
    raiseCheckpoint: db.prepare<[string, string, number]>(STORE_SQL.raiseCheckpoint),
    next: db.prepare<[string, number, number], StoredEvent>(STORE_SQL.next),
    lastEventId: db.prepare<[], number>(STORE_SQL.lastEventId).pluck(),
    storedAfter: db.prepare<[number], StoredKey>(STORE_SQL.storedAfter),
    deleteDestinationOutbox: db.prepare<[string], number>(STORE_SQL.deleteDestinationOutbox).pluck(),
    deleteEventIfUnused: db.prepare<{ id: number }>(STORE_SQL.deleteEventIfUnused),
    deleteOutboxRun: db.prepare<[string, number, number]>(STORE_SQL.deleteOutboxRun),
    deleteEventsIfUnused: db.prepare<[number, number]>(STORE_SQL.deleteEventsIfUnused),
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
    insertQuarantine: db.prepare<[string, string, string, string | null, string, number, number]>(
      STORE_SQL.insertQuarantine,
    ),
    capQuarantine: db.prepare<[number]>(STORE_SQL.capQuarantine),
    quarantined: db.prepare<[number, number], QuarantinedRecord>(STORE_SQL.quarantined),
    quarantinedOfTenant: db.prepare<[number, string, number], QuarantinedRecord>(
      STORE_SQL.quarantinedOfTenant,
    ),
    quarantineByTenant: db.prepare<[], { tenant: string; records: number; last: number }>(
      STORE_SQL.quarantineByTenant,
    ),
  };

  /** Adds quarantine rows; keeps the newest QUARANTINE_MAX_ROWS. Inside a transaction. */
  function addToQuarantine(
    rows: ReadonlyArray<{
      tenant: string;
      reason: QuarantineReason;
      kind: SourceKind;
      destination: string | null;
      raw: string;
      bytes: number;
    }>,
    now: number,
  ): void {
    if (rows.length === 0) return;
    for (const r of rows) {
      s.insertQuarantine.run(r.tenant, r.reason, r.kind, r.destination, boundRaw(r.raw), r.bytes, now);
    }
    const dropped = s.capQuarantine.run(QUARANTINE_MAX_ROWS).changes;
    if (dropped > 0) {
      log.warn({ dropped, kept: QUARANTINE_MAX_ROWS }, "Quarantine full: its oldest records were deleted.");
    }
  }

  /**
   * Inserts the seen row of each record (inside the ingest transaction) and returns, per record, 1 when its
   * key is new. The keys go in grouped by their leading characters (the seen key's prefix, its alert's time
   * to ~10 s), groups in prefix order, not in the records' order: a part's new keys land all over the seen
   * rows of the last minutes (a detection is processed up to ~15 min after its alert), a window of ~800
   * 16 kB pages at 1M detections an hour, more than the page cache holds. In the records' order each of
   * those pages was evicted and read back between two of its keys; grouped, the few pages of a group are
   * read, changed and written once per part. Grouping, not sorting: a sort of the keys cost 1-1.5 us a key,
   * more than it saved on a small state. Equal keys share a group in the records' order, so of two records
   * with one key the first is the new one, as before.
   */
  function admitNew(tenant: string, records: readonly RoutedRecord[], now: number): Uint8Array {
    const fresh = new Uint8Array(records.length);
    const groups = new Map<string, number[]>();
    for (let i = 0; i < records.length; i++) {
      const prefix = (records[i] as RoutedRecord).key.slice(0, SEEN_KEY_PREFIX_CHARS);
      const group = groups.get(prefix);
      if (group === undefined) groups.set(prefix, [i]);
      else group.push(i);
    }
    for (const prefix of [...groups.keys()].sort()) {
      for (const i of groups.get(prefix) as number[]) {
        const key = seenKey(tenant, (records[i] as RoutedRecord).key);
        fresh[i] = s.insertSeen.run(key, tenant, now).changes === 0 ? 0 : 1;
      }
    }
    return fresh;
  }

  const ingestTx = db.transaction(
    (
      tenant: string,
      records: readonly RoutedRecord[],
      checkpoint: string | undefined,
      rejected: readonly RejectedRecord[],
    ): IngestResult => {
      const now = clock();
      let inserted = 0;
      let duplicates = 0;
      const queued = new Map(destinations.map((d) => [d, 0]));
      const quarantine: Parameters<typeof addToQuarantine>[0][number][] = [];
      const stored: IngestedEvent[] = [];
      const fresh = admitNew(tenant, records, now);
      for (let index = 0; index < records.length; index++) {
        const record = records[index] as RoutedRecord;
        if (fresh[index] !== 1) {
          duplicates++;
          continue;
        }
        const targets =
          record.destinations === undefined
            ? destinations
            : record.destinations.filter((d) => configured.has(d));
        // No one to deliver to (no destination, or every filter said no): remember the key, keep no body.
        if (targets.length === 0) {
          inserted++;
          continue;
        }
        let body: string;
        try {
          body = record.body;
        } catch {
          // Serialising failed (the parser's bounds make this unreachable for API data): the record's
          // problem, not the batch's.
          const kind = record.kind ?? "siem";
          quarantine.push({ tenant, reason: "unstorable", kind, destination: null, raw: "", bytes: 0 });
          continue;
        }
        inserted++;
        const id = Number(
          s.insertEvent.run(
            tenant,
            record.key,
            body,
            record.lastProcessed ?? null,
            now,
            record.kind ?? "siem",
          ).lastInsertRowid,
        );
        for (const destination of targets) {
          s.insertOutbox.run(destination, id);
          queued.set(destination, (queued.get(destination) ?? 0) + 1);
        }
        stored.push({ id, index, bytes: Buffer.byteLength(body) });
      }
      for (const item of rejected) {
        if (s.insertSeen.run(seenKey(tenant, `quarantine:${item.hash}`), tenant, now).changes === 0) {
          duplicates++;
          continue;
        }
        quarantine.push({ tenant, ...item, destination: null });
      }
      addToQuarantine(quarantine, now);
      for (const [destination, n] of queued) if (n > 0) s.addDepth.run(destination, n);
      if (checkpoint !== undefined) s.raiseCheckpoint.run(tenant, checkpoint, now);
      const quarantined = new Map<QuarantineReason, number>();
      for (const q of quarantine) quarantined.set(q.reason, (quarantined.get(q.reason) ?? 0) + 1);
      return {
        inserted,
        duplicates,
        queued,
        checkpoint: s.getCheckpoint.get(tenant),
        quarantined,
        stored,
      };
    },
  );

  const quarantineTx = db.transaction((destination: string, event: OutboxEvent, reason: QuarantineReason) => {
    const bytes = Buffer.byteLength(event.body);
    addToQuarantine(
      [{ tenant: event.tenant, reason, kind: event.kind, destination, raw: event.body, bytes }],
      clock(),
    );
    ackTx(destination, [event.id]);
  });

  const ackTx = db.transaction((destination: string, ids: readonly number[]) => {
    let removed = 0;
    // Runs of consecutive ids: every id of a run was sent, so the run's range holds no other row of this
    // destination (rows already acked are simply not there). An event of the range is deleted once no
    // destination needs it; every event has outbox rows until then (ingest writes both in one transaction).
    for (let i = 0; i < ids.length; ) {
      const first = ids[i] as number;
      let last = first;
      while (i + 1 < ids.length && ids[i + 1] === last + 1) {
        i++;
        last++;
      }
      i++;
      const gone = s.deleteOutboxRun.run(destination, first, last).changes;
      if (gone === 0) continue; // already acked
      removed += gone;
      s.deleteEventsIfUnused.run(first, last);
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
      // Only what the database or the file system refused is a state error; anything else (a bug, a
      // value that cannot be bound) is not, and must not stop the daemon as one would.
      if (err instanceof ForwarderError || err instanceof Database.SqliteError || isErrnoError(err)) {
        throw toStateError(err, file, action);
      }
      throw toForwarderError(err, "E_INTERNAL");
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

    ingest(tenant, records, checkpoint, rejected = []) {
      checkCanonical(tenant, checkpoint);
      return run("write", () => ingestTx.immediate(tenant, records, checkpoint, rejected));
    },

    quarantine(destination, event, reason) {
      run("write", () => quarantineTx.immediate(destination, event, reason));
    },

    quarantined(afterId, limit, tenant) {
      if (limit <= 0) return [];
      return run("read", () =>
        tenant === undefined
          ? s.quarantined.all(afterId, Math.floor(limit))
          : s.quarantinedOfTenant.all(afterId, tenant, Math.floor(limit)),
      );
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

    lastEventId() {
      return run("read", () => s.lastEventId.get() ?? 0);
    },

    storedAfter(afterId) {
      return run("read", () => s.storedAfter.all(afterId));
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
    for (const row of s.quarantineByTenant.all()) {
      const t: TenantStatus = tenants.get(row.tenant) ?? { tenant: row.tenant };
      t.quarantined = row.records;
      t.lastQuarantinedAt = row.last;
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
  // A second line of defence for messages that are not ForwarderErrors' (already redacted).
  const text = redactCredentials(message);
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH)}…` : text;
}

/** At most MAX_QUARANTINE_RAW_BYTES of UTF-8 (a cut code point becomes U+FFFD). */
function boundRaw(raw: string): string {
  if (raw.length * 3 <= MAX_QUARANTINE_RAW_BYTES) return raw;
  const bytes = Buffer.from(raw, "utf8");
  return bytes.length <= MAX_QUARANTINE_RAW_BYTES
    ? raw
    : bytes.subarray(0, MAX_QUARANTINE_RAW_BYTES).toString("utf8");
}

function isErrnoError(err: unknown): boolean {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).errno === "number";
}
