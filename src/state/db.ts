// Opens the state database: checks the path, refuses damaged or foreign files instead of resetting
// them, sets the pragmas durability depends on, and applies numbered migrations.
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { type ErrorCode, ForwarderError } from "../errors.js";
import type { Logger } from "../log.js";
import { createPrivateDirectory, createPrivateFile } from "./private-files.js";
import { seenKey } from "./seen-key.js";

export type Db = Database.Database;

/** "MDEF": marks a file as ours, so a foreign SQLite file is refused rather than altered. */
export const APPLICATION_ID = 0x4d444546;

interface Migration {
  readonly description: string;
  readonly sql: string;
}

// Append only: migration N (1-based) brings user_version from N-1 to N. Never edit a shipped one. Exported
// for the tests that build a state as an older release wrote it.
export const MIGRATIONS: readonly Migration[] = [
  {
    description: "checkpoint, seen, event, outbox, outbox_depth, status tables",
    sql: `
      CREATE TABLE checkpoint (
        tenant TEXT PRIMARY KEY,
        last_processed TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE seen (
        tenant TEXT NOT NULL,
        key TEXT NOT NULL,
        seen_at INTEGER NOT NULL,
        PRIMARY KEY (tenant, key)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX seen_by_age ON seen (seen_at);

      -- AUTOINCREMENT: ids are never reused, even after the table empties, so a drain loop
      -- paging with "id > afterId" can never skip a new event that got an old id.
      CREATE TABLE event (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        tenant TEXT NOT NULL,
        key TEXT NOT NULL,
        body TEXT NOT NULL,
        last_processed TEXT,
        received_at INTEGER NOT NULL
      ) STRICT;
      -- Lets pruneSeen keep the seen row of an event still waiting in the outbox (replaced in version 3).
      CREATE INDEX event_by_key ON event (tenant, key);

      CREATE TABLE outbox (
        destination TEXT NOT NULL,
        event_id INTEGER NOT NULL REFERENCES event (id),
        PRIMARY KEY (destination, event_id)
      ) STRICT, WITHOUT ROWID;
      -- "Does any destination still need this event?" after an ack, and the foreign-key check.
      CREATE INDEX outbox_by_event ON outbox (event_id);

      -- Row counts of outbox per destination, kept in the same transactions that change outbox,
      -- so a metrics scrape reads a few rows instead of counting a million.
      CREATE TABLE outbox_depth (
        destination TEXT PRIMARY KEY,
        events INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE tenant_status (
        tenant TEXT PRIMARY KEY,
        last_poll_at INTEGER,
        last_success_at INTEGER,
        last_error_at INTEGER,
        last_error TEXT,
        last_error_code TEXT
      ) STRICT;

      CREATE TABLE destination_status (
        destination TEXT PRIMARY KEY,
        last_success_at INTEGER,
        last_error_at INTEGER,
        last_error TEXT,
        last_error_code TEXT
      ) STRICT;

      PRAGMA application_id = ${APPLICATION_ID};
    `,
  },
  {
    description: "event.kind: the schema a stored detection comes in (siem, alerts, graph)",
    sql: `
      ALTER TABLE event ADD COLUMN kind TEXT NOT NULL DEFAULT 'siem';
    `,
  },
  {
    description: "event_by_age replaces event_by_key: a small append-only index instead of one on long keys",
    // Measured on the state benchmark at 100k stored rows: ingest 83 -> 48-72 us and drain 21 -> 12-19 us per
    // event. A pending event's seen row has seen_at = its received_at (one ingest transaction), so pruning
    // and forgetting can protect pending events by time instead of by key.
    sql: `
      DROP INDEX event_by_key;
      CREATE INDEX event_by_age ON event (received_at);
    `,
  },
  {
    description: "quarantine: detections that cannot be stored or encoded, kept aside with why",
    // raw is the detection's JSON text as received (or as stored, for one a formatter could not encode),
    // cut at 64 KiB; raw_bytes its whole size. destination is set when a formatter refused it.
    sql: `
      CREATE TABLE quarantine (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        tenant TEXT NOT NULL,
        reason TEXT NOT NULL,
        kind TEXT NOT NULL,
        destination TEXT,
        raw TEXT NOT NULL,
        raw_bytes INTEGER NOT NULL,
        quarantined_at INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    description:
      "seen keyed by seen_key(tenant, key): a 28-byte time-ordered digest instead of the FullId text",
    // Issue 16: the text keys (~90 bytes) made a 1M-key dedupe table of ~110 MB, and each ingest dirtied a
    // page of it per new key. See seen-key.ts. Existing keys are rehashed in the old primary key's order
    // (tenant, key), nearly the new key order, so nothing is sorted (ORDER BY makes the planner read the
    // table, not the seen_by_age index in time order). OR IGNORE: two old keys that share a digest (~1e-27)
    // are one key from now on, as they would be if new.
    sql: `
      CREATE TABLE seen_v5 (
        key_id BLOB NOT NULL PRIMARY KEY,
        tenant TEXT NOT NULL,
        seen_at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
      INSERT OR IGNORE INTO seen_v5 (key_id, tenant, seen_at)
        SELECT seen_key(tenant, key), tenant, seen_at FROM seen ORDER BY tenant, key;
      DROP TABLE seen;
      ALTER TABLE seen_v5 RENAME TO seen;
      CREATE INDEX seen_by_age ON seen (seen_at);
    `,
  },
];

/**
 * Page size of new state files. A stored detection is ~2.2 kB: on 4 kB pages one fits per page and ~45%
 * of the file is empty space; on 16 kB pages seven fit and the bodies take ~1.13x their bytes. Measured on
 * 100,000 generated detections (209.6 MB of bodies): file 436 MB (2.08x) at 4 kB, 299 MB (1.43x) at
 * 8 kB, 262 MB (1.25x) at 16 kB.
 */
export const PAGE_SIZE = 16_384;
/**
 * SQLite's page cache per connection, KiB. better-sqlite3 builds SQLite with 16 MB, which in a backfill held
 * far more of the malloc heap than its size (in use at the peak of a 100k `once`: 125 MB, 60 MB with 2 MB of
 * cache). 4 MB: 1M backfill peak RSS 317-333 -> 267-289 MB at the same throughput (docs/performance.md);
 * the writes append (time-ordered keys, new outbox rows) and the drain reads rows just written, so the
 * working set is small and the OS caches the file. 2 MB read 5x and wrote 1.5x the bytes per ingested event.
 */
const CACHE_KIB = 4_000;
/** The WAL is checkpointed when it holds this many bytes (wal_autocheckpoint counts pages). */
const WAL_CHECKPOINT_BYTES = 64 * 1_048_576;

/** The schema version this code writes and expects. */
export const SCHEMA_VERSION = MIGRATIONS.length;

export interface OpenStateOptions {
  path: string;
  /** For the `status` command: no directory creation, no migrations, no writes. */
  readonly?: boolean;
  /** Bytes in use up to which a state counts as small (SMALL_STATE_BYTES; tests set it). */
  smallStateBytes?: number;
}

/** Opens (creating and migrating if needed) the state database, or throws a ForwarderError. */
export function openStateDatabase(options: OpenStateOptions, deps: { log: Logger }): Db {
  const file = path.resolve(options.path);
  const readonly = options.readonly === true;
  const existed = readonly ? checkReadable(file) : checkWritable(file);

  let db: Db;
  try {
    // Created 0600 before SQLite sees it: SQLite gives -wal and -shm the mode of the database.
    if (!readonly) createPrivateFile(file);
    db = new Database(file, { readonly, fileMustExist: readonly });
  } catch (err) {
    throw toStateError(err, file, "open");
  }
  try {
    // Connection settings first: they touch nothing on disk.
    db.pragma("busy_timeout = 5000");
    db.pragma("foreign_keys = ON");
    db.pragma(`cache_size = -${CACHE_KIB}`);
    addStateFunctions(db);
    const small = bytesInUse(db) <= (options.smallStateBytes ?? SMALL_STATE_BYTES);
    checkIntegrity(db, file, existed && !readonly, small);
    const version = checkVersion(db, file, readonly);
    if (!readonly) {
      // An empty file takes it at once (the page size is fixed once the first table is written); a small
      // one is rewritten with it.
      if (version === 0) db.pragma(`page_size = ${PAGE_SIZE}`);
      else if (small) convertPageSize(db, file, deps.log);
      setDurability(db, file, deps.log);
      migrate(db, version, deps.log);
    }
    return db;
  } catch (err) {
    db.close();
    throw toStateError(err, file, "open");
  }
}

/**
 * The SQL functions the schema and the store's statements use, on a connection: seen_key(tenant, key), the
 * seen table's key (migration 5 and forgetting compute it in SQL). Any connection that prepares the
 * store's statements needs them.
 */
export function addStateFunctions(db: Db): void {
  db.function("seen_key", { deterministic: true }, (tenant: unknown, key: unknown) =>
    seenKey(String(tenant), String(key)),
  );
}

/** Maps a SQLite or file-system failure to the stable state error codes; keeps the original as cause. */
export function toStateError(err: unknown, file: string, action: "open" | "read" | "write"): ForwarderError {
  if (err instanceof ForwarderError) return err;
  const sqliteCode = err instanceof Database.SqliteError ? err.code : undefined;
  const detail = err instanceof Error ? err.message : String(err);
  const make = (code: ErrorCode, message: string) =>
    new ForwarderError(code, message, { cause: err, details: { path: file, sqlite: sqliteCode } });

  if (sqliteCode?.startsWith("SQLITE_CORRUPT") || sqliteCode?.startsWith("SQLITE_NOTADB")) {
    return make("E_STATE_CORRUPT", corruptMessage(file, detail));
  }
  if (sqliteCode?.startsWith("SQLITE_FULL")) {
    return make("E_STATE_WRITE", `state ${file}: disk full (${detail}); nothing of this write was kept`);
  }
  if (sqliteCode?.startsWith("SQLITE_BUSY") || sqliteCode?.startsWith("SQLITE_LOCKED")) {
    return make("E_STATE_LOCKED", `state ${file} is locked by another process (${detail})`);
  }
  if (action === "open") return make("E_STATE_OPEN", `cannot open state ${file}: ${detail}`);
  if (
    action === "write" ||
    sqliteCode?.startsWith("SQLITE_IOERR") ||
    sqliteCode?.startsWith("SQLITE_READONLY")
  ) {
    return make("E_STATE_WRITE", `cannot write state ${file}: ${detail}`);
  }
  return make("E_INTERNAL", `cannot read state ${file}: ${detail}`);
}

function corruptMessage(file: string, detail: string): string {
  return (
    `state ${file} is not a forwarder database or is corrupt (${detail}); the checkpoint was NOT reset. ` +
    "Restore the file from a backup, or move it away to start over from the configured lookback."
  );
}

/**
 * mkdir -p, then make sure both the directory (for -wal/-shm and the lock file) and an existing file are
 * writable. Returns whether a non-empty file exists. Throws E_STATE_OPEN: one line naming the path, the
 * cause in words and the fix (never a bare `EROFS` or `ENOENT`).
 */
export function checkWritable(file: string): boolean {
  const dir = path.dirname(file);
  try {
    createPrivateDirectory(dir);
  } catch (err) {
    // EEXIST means a non-directory is in the way: reported below as ENOTDIR, which says what is wrong.
    if (errnoOf(err) !== "EEXIST") throw unusableDirectory(dir, file, err);
  }
  try {
    if (!fs.statSync(dir).isDirectory()) throw errnoError("ENOTDIR", `not a directory: ${dir}`);
    fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
  } catch (err) {
    throw unusableDirectory(dir, file, err);
  }
  let existed: boolean;
  try {
    const stat = fs.statSync(file);
    if (stat.isDirectory()) throw isADirectory(file);
    existed = stat.size > 0;
  } catch (err) {
    if (err instanceof ForwarderError) throw err;
    if (errnoOf(err) === "ENOENT") return false;
    throw openError(`state ${file} is not usable`, file, err);
  }
  try {
    // SQLite would otherwise open a read-only file quietly and fail only at the first write.
    fs.accessSync(file, fs.constants.R_OK | fs.constants.W_OK);
  } catch (err) {
    throw new ForwarderError("E_STATE_OPEN", `state file ${file} ${problemOf(file, errnoOf(err))}`, {
      cause: err,
      details: { path: file, errno: errnoOf(err) },
    });
  }
  return existed;
}

/**
 * The state directory cannot be created or written: why, in words, and the fix. A directory that cannot
 * be created is explained by the nearest one that exists (mkdir -p on a read-only file system fails with
 * ENOENT, which would send the operator looking for a missing directory).
 */
function unusableDirectory(dir: string, file: string, err: unknown): ForwarderError {
  const errno = errnoOf(err);
  let message: string;
  if (fs.existsSync(dir) || errno === "ENOTDIR") {
    message = `state directory ${dir} ${problemOf(dir, errno)}`;
  } else {
    const parent = nearestExisting(dir);
    const blocked = parent === undefined ? undefined : accessErrno(parent);
    message =
      parent !== undefined && blocked !== undefined
        ? `cannot create the state directory ${dir}: ${parent} ${problemOf(parent, blocked)}`
        : `cannot create the state directory ${dir} ${problemOf(dir, errno)}`;
  }
  return new ForwarderError("E_STATE_OPEN", message, { cause: err, details: { path: file, errno } });
}

/** `is on a read-only file system. Fix: ...`: the cause of an errno in words, and what to do. */
function problemOf(where: string, errno: string | undefined): string {
  const elsewhere = "set state.path to a writable place (in a container: mount a volume there)";
  switch (errno) {
    case "EROFS":
      return `is on a read-only file system (EROFS). Fix: ${elsewhere}.`;
    case "EACCES":
    case "EPERM": {
      const uid = process.getuid?.();
      return `is not writable by this user (uid ${uid ?? "?"}, ${errno}). Fix: give it write access (chown ${uid ?? "USER"} ${where}), or ${elsewhere}.`;
    }
    case "ENOTDIR":
      return `cannot be a directory: a file is in the way (ENOTDIR). Fix: move that file, or ${elsewhere}.`;
    case "ENOSPC":
      return `is on a full device (ENOSPC). Fix: free some space, or ${elsewhere}.`;
    default:
      return `cannot be written (${errno ?? "error"}). Fix: ${elsewhere}.`;
  }
}

function nearestExisting(dir: string): string | undefined {
  for (let d = path.dirname(path.resolve(dir)); ; d = path.dirname(d)) {
    if (fs.existsSync(d)) return d;
    if (d === path.dirname(d)) return undefined;
  }
}

function accessErrno(dir: string): string | undefined {
  try {
    fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
    return undefined;
  } catch (err) {
    return errnoOf(err) ?? "error";
  }
}

function checkReadable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.R_OK);
  } catch (err) {
    const errno = errnoOf(err);
    if (errno === "ENOENT") {
      throw new ForwarderError(
        "E_STATE_OPEN",
        `no state at ${file} yet: run or once creates it (or state.path is not the one the forwarder uses)`,
        { cause: err, details: { path: file } },
      );
    }
    if (errno === "EACCES" || errno === "EPERM") {
      const uid = process.getuid?.();
      throw new ForwarderError(
        "E_STATE_OPEN",
        `state ${file} is not readable by this user (uid ${uid ?? "?"}, ${errno}). Fix: run as the forwarder's user (or give this one read access)`,
        { cause: err, details: { path: file, errno } },
      );
    }
    if (errno === "ENOTDIR") {
      throw new ForwarderError(
        "E_STATE_OPEN",
        `no state at ${file}: a file is in the way of its directory (ENOTDIR). Fix: set state.path to the forwarder's state file`,
        { cause: err, details: { path: file, errno } },
      );
    }
    throw openError(`state ${file} is not readable`, file, err);
  }
  if (fs.statSync(file).isDirectory()) throw isADirectory(file);
  return true;
}

/** state.path names a directory: SQLite would only say "unable to open database file". */
function isADirectory(file: string): ForwarderError {
  return new ForwarderError(
    "E_STATE_OPEN",
    `state.path ${file} is a directory. Fix: set state.path to a file in it (${path.join(file, "state.db")})`,
    { details: { path: file, errno: "EISDIR" } },
  );
}

/**
 * A state whose pages in use hold up to this many bytes is small: the steady state of dedupe keys and a
 * short outbox (free pages left by delivered events do not count). Opening a small one may afford to read
 * all of it (~0.15 s on a shared core): the full quick_check, and the rewrite to PAGE_SIZE pages.
 */
export const SMALL_STATE_BYTES = 64 * 1_048_576;
/**
 * The tables checked at open however big the file: a damaged checkpoint could move a tenant's checkpoint
 * and the depths gate polling; they are a few pages each.
 */
const SMALL_TABLES = ["checkpoint", "outbox_depth", "tenant_status", "destination_status"] as const;

/**
 * The integrity check at open. A full quick_check reads every page of the file: 6-10 s on a state holding
 * 1M events, paid at every restart. So a small state (SMALL_STATE_BYTES) gets the full quick_check, and a
 * larger one (a backlog) gets quick_check of the small tables. The big ones (seen,
 * event, outbox, quarantine) are checked by SQLite as it reads them: a damaged page there fails the
 * statement that reads it with SQLITE_CORRUPT, which the store reports as E_STATE_CORRUPT (the checkpoint
 * is never reset, no event is skipped), and the full check runs again at the first open after the backlog
 * has drained.
 */
function checkIntegrity(db: Db, file: string, existing: boolean, small: boolean): void {
  // Reading the header fails with SQLITE_NOTADB on a foreign file, before anything is written.
  db.pragma("schema_version", { simple: true });
  if (!existing) return;
  let problems: string[];
  if (small) {
    problems = quickCheck(db, "");
  } else {
    const present = new Set(
      db.prepare<[], string>("SELECT name FROM sqlite_schema WHERE type = 'table'").pluck().all(),
    );
    problems = SMALL_TABLES.filter((t) => present.has(t)).flatMap((t) => quickCheck(db, t));
  }
  if (problems.length > 0) {
    throw new ForwarderError("E_STATE_CORRUPT", corruptMessage(file, problems.slice(0, 5).join("; ")), {
      details: { path: file },
    });
  }
}

function quickCheck(db: Db, table: string): string[] {
  const rows = db.pragma(table === "" ? "quick_check" : `quick_check(${table})`) as Array<{
    quick_check: string;
  }>;
  return rows.map((r) => r.quick_check).filter((r) => r !== "ok");
}

function bytesInUse(db: Db): number {
  const pages =
    Number(db.pragma("page_count", { simple: true })) - Number(db.pragma("freelist_count", { simple: true }));
  return pages * Number(db.pragma("page_size", { simple: true }));
}

/**
 * Rewrites a small state made with another page size (before PAGE_SIZE was 16 kB) with PAGE_SIZE pages. A
 * large one keeps its pages (a VACUUM reads and writes all of it and needs as much free disk again) until
 * an open finds it small, after its backlog has drained. VACUUM is one transaction of the rollback journal:
 * a crash or a full disk leaves the file as it was. The page size of a WAL database cannot change, so the
 * journal leaves WAL mode meanwhile (setDurability sets it back), which needs the only connection: if a
 * reader (`status`) has the file open, the rewrite waits for a later start.
 */
function convertPageSize(db: Db, file: string, log: Logger): void {
  const from = Number(db.pragma("page_size", { simple: true }));
  if (from === PAGE_SIZE) return;
  db.pragma("busy_timeout = 0");
  try {
    if (String(db.pragma("journal_mode = DELETE", { simple: true })) !== "delete") return;
    db.pragma(`page_size = ${PAGE_SIZE}`);
    db.exec("VACUUM");
    log.info({ path: file, from, to: PAGE_SIZE }, "State file rewritten with larger pages.");
  } catch (err) {
    const code = err instanceof Database.SqliteError ? err.code : undefined;
    if (code?.startsWith("SQLITE_CORRUPT")) throw err;
    log.warn(
      { path: file, err },
      "State file kept its page size for now (it is rewritten at a later start).",
    );
  } finally {
    db.pragma("busy_timeout = 5000");
  }
}

function checkVersion(db: Db, file: string, readonly: boolean): number {
  const version = Number(db.pragma("user_version", { simple: true }));
  const appId = Number(db.pragma("application_id", { simple: true }));
  if (version > SCHEMA_VERSION) {
    throw new ForwarderError(
      "E_STATE_OPEN",
      `state ${file} was created by a newer version (schema ${version}, this version knows up to ${SCHEMA_VERSION}); upgrade the forwarder`,
      { details: { path: file, version } },
    );
  }
  if (version > 0 && appId !== APPLICATION_ID) {
    throw new ForwarderError("E_STATE_OPEN", `${file} is a SQLite database but not a forwarder state`, {
      details: { path: file },
    });
  }
  if (version === 0) {
    const objects = Number(db.prepare("SELECT count(*) FROM sqlite_schema").pluck().get());
    if (objects > 0) {
      throw new ForwarderError(
        "E_STATE_OPEN",
        `${file} is a SQLite database but not a forwarder state (it already has ${objects} schema objects); refusing to modify it`,
        { details: { path: file } },
      );
    }
  }
  if (readonly && version < SCHEMA_VERSION) {
    const why = version === 0 ? "is empty" : `has schema ${version}, this version expects ${SCHEMA_VERSION}`;
    throw new ForwarderError(
      "E_STATE_OPEN",
      `state ${file} ${why}; start the forwarder once to initialise it`,
      {
        details: { path: file, version },
      },
    );
  }
  return version;
}

function setDurability(db: Db, file: string, log: Logger): void {
  const mode = String(db.pragma("journal_mode = WAL", { simple: true }));
  if (mode !== "wal") {
    // Some network file systems cannot do WAL; the rollback journal is slower but just as safe.
    log.warn({ path: file, journalMode: mode }, "State database is not in WAL mode.");
  }
  // NORMAL (in WAL mode): a commit is atomic and survives a process crash (kill -9) at once; only a power
  // loss or kernel crash can take back the last commits before the next WAL sync. That keeps at-least-once:
  // a lost ingest loses its checkpoint move with it (the API is read again), and a lost ack means a resend.
  // FULL would fsync every commit: measured 2.4x slower acks and 2.4x slower ingest on this machine's disk.
  db.pragma("synchronous = NORMAL");
  // Checkpoint every 64 MB instead of every 1,000 pages: during a backlog most events are inserted and
  // acknowledged (deleted) between two checkpoints, so their pages reach the database file once, with
  // fewer syncs. Measured on 100,000 events (ingest parts of 3,500, drain batches of 500): 5.3 s -> 4.0 s,
  // disk writes 1.0 GB -> 0.67 GB.
  const pageSize = Number(db.pragma("page_size", { simple: true }));
  db.pragma(`wal_autocheckpoint = ${Math.ceil(WAL_CHECKPOINT_BYTES / pageSize)}`);
  // Keeps the -wal file from staying at its high-water mark after a large backlog.
  db.pragma("journal_size_limit = 67108864");
}

function migrate(db: Db, from: number, log: Logger): void {
  for (let version = from + 1; version <= SCHEMA_VERSION; version++) {
    const migration = MIGRATIONS[version - 1];
    if (migration === undefined) break;
    const apply = db.transaction(() => {
      // Re-read under the write lock: another process may have migrated meanwhile.
      const current = Number(db.pragma("user_version", { simple: true }));
      if (current >= version) return false;
      db.exec(migration.sql);
      db.pragma(`user_version = ${version}`);
      return true;
    });
    if (apply.immediate()) {
      log.info({ version, description: migration.description }, "State schema migrated.");
    }
  }
}

function openError(message: string, file: string, err: unknown): ForwarderError {
  const errno = errnoOf(err);
  // Node's text repeats the code and the path (`ENOTDIR: not a directory, access '/x'`): the words only.
  const detail = (err instanceof Error ? err.message : String(err))
    .replace(/^[A-Z]+: /, "")
    .replace(/, \w+ '[^']*'$/, "");
  return new ForwarderError("E_STATE_OPEN", `${message} (${errno ?? "error"}: ${detail})`, {
    cause: err,
    details: { path: file, errno },
  });
}

function errnoOf(err: unknown): string | undefined {
  if (typeof err === "object" && err !== null && "code" in err && typeof err.code === "string")
    return err.code;
  return undefined;
}

function errnoError(code: string, message: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(message);
  err.code = code;
  return err;
}
