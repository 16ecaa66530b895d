// One writing process per state file. The lock is SQLite's own file lock on a small database beside the
// state (`<state>.lock`): the holder keeps a write transaction open (a RESERVED lock, i.e. an fcntl lock),
// which the kernel drops when the process ends however it ends, kill -9 included, so no stale lock can
// survive a crash. Readers are not blocked by a RESERVED lock, so the holder's pid and host, committed
// just before, can be read by whoever is refused and by `status`.
//
// fcntl locks belong to a process, not to a connection, so the lock is re-entrant within one process
// (counted): several stores of one process may share a state file, another process may not.
import fs from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { ForwarderError } from "../errors.js";
import { createPrivateFile } from "./private-files.js";

type Db = Database.Database;

export interface StateLock {
  /** The lock file (`<state path>.lock`). */
  readonly file: string;
  /** Idempotent. The OS releases the lock anyway when the process ends. */
  release(): void;
}

/** Who took the lock, as recorded in the lock file. */
export interface LockHolder {
  pid: number;
  host: string;
  /** Milliseconds since the epoch. */
  since: number;
}

/**
 * What `status` can tell without taking the lock: `free` (no holder recorded: never used, or released
 * cleanly), `held` (the recorded process is alive), `stale` (it died without releasing, e.g. kill -9; the
 * lock itself is free), `unknown` (recorded by another host, or the lock file cannot be read).
 */
export type LockStatus =
  | { state: "free" }
  | { state: "held"; holder: LockHolder }
  | { state: "stale"; holder: LockHolder }
  | { state: "unknown"; holder?: LockHolder; reason: string };

const SCHEMA = `CREATE TABLE IF NOT EXISTS holder (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  pid INTEGER NOT NULL,
  host TEXT NOT NULL,
  since INTEGER NOT NULL
) STRICT`;

/** Waiting for a reader to finish before a commit (readers hold their lock for microseconds). */
const COMMIT_WAIT_MS = 2_000;
/** Rounds of "record, commit, lock" when another process slips in between (see lockOnce). */
const ATTEMPTS = 3;

const held = new Map<string, { db: Db; refs: number; holder: LockHolder }>();

export function lockFileFor(statePath: string): string {
  return `${path.resolve(statePath)}.lock`;
}

/**
 * Takes the exclusive lock of a state file for as long as this process runs or until release(). Throws
 * E_STATE_LOCKED naming the holder (pid, host, since) when another process has it, at once (no waiting);
 * E_STATE_OPEN when the lock file cannot be created or used.
 */
export function acquireStateLock(statePath: string): StateLock {
  const file = lockFileFor(statePath);
  let entry = held.get(file);
  if (entry === undefined) {
    const holder: LockHolder = { pid: process.pid, host: hostname(), since: Date.now() };
    entry = { db: lock(file, path.resolve(statePath), holder), refs: 0, holder };
    held.set(file, entry);
  }
  entry.refs++;
  const taken = entry;
  let released = false;
  return {
    file,
    release() {
      if (released) return;
      released = true;
      taken.refs--;
      if (taken.refs > 0) return;
      held.delete(file);
      unlock(taken.db);
    },
  };
}

/** Reads the recorded holder and checks that its process is alive. Never takes the lock, never writes. */
export function inspectStateLock(statePath: string): LockStatus {
  const file = lockFileFor(statePath);
  const own = held.get(file);
  if (own !== undefined) return { state: "held", holder: own.holder };
  if (!fs.existsSync(file)) return { state: "free" };
  let holder: LockHolder | undefined;
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      db.pragma(`busy_timeout = ${COMMIT_WAIT_MS}`);
      holder = readHolder(db);
    } finally {
      db.close();
    }
  } catch (err) {
    return {
      state: "unknown",
      reason: `cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  if (holder === undefined) return { state: "free" };
  if (holder.host !== hostname()) {
    return {
      state: "unknown",
      holder,
      reason: `recorded by host ${holder.host}; its pid cannot be checked from here`,
    };
  }
  return isAlive(holder.pid) ? { state: "held", holder } : { state: "stale", holder };
}

/** `pid 1234 on host-a since 2024-05-01T10:00:00.000Z`, or `pid unknown`. */
export function describeHolder(holder: LockHolder | undefined): string {
  if (holder === undefined) return "pid unknown";
  return `pid ${holder.pid} on ${holder.host} since ${new Date(holder.since).toISOString()}`;
}

function lock(file: string, statePath: string, holder: LockHolder): Db {
  let db: Db;
  try {
    // 0600 like the state (private-files.ts); its -journal takes the same mode.
    createPrivateFile(file);
    db = new Database(file);
  } catch (err) {
    throw unusable(file, err);
  }
  try {
    let attempt = 1;
    while (!lockOnce(db, statePath, holder, attempt === ATTEMPTS)) attempt++;
    return db;
  } catch (err) {
    db.close();
    throw err instanceof ForwarderError ? err : unusable(file, err);
  }
}

/**
 * Records the holder and commits it (so that others can read it), then takes the lock for good. Another
 * process may take the lock between the two steps: then this one is refused, or (when that one has given
 * up meanwhile) holds the lock under the other's record, and returns false, unlocked, so that the caller
 * records itself again. The last attempt keeps the lock whatever the record says.
 */
function lockOnce(db: Db, statePath: string, holder: LockHolder, last: boolean): boolean {
  begin(db, statePath);
  db.exec(SCHEMA);
  db.prepare(
    "INSERT INTO holder (id, pid, host, since) VALUES (1, ?, ?, ?) " +
      "ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, host = excluded.host, since = excluded.since",
  ).run(holder.pid, holder.host, holder.since);
  commit(db);
  begin(db, statePath);
  const recorded = readHolder(db);
  if (last || (recorded?.pid === holder.pid && recorded.host === holder.host)) return true;
  db.exec("ROLLBACK");
  return false;
}

/** BEGIN IMMEDIATE without waiting: the RESERVED lock is the state lock. */
function begin(db: Db, statePath: string): void {
  db.pragma("busy_timeout = 0");
  try {
    db.exec("BEGIN IMMEDIATE");
  } catch (err) {
    if (!(err instanceof Database.SqliteError) || !err.code.startsWith("SQLITE_BUSY")) throw err;
    let holder: LockHolder | undefined;
    try {
      db.pragma(`busy_timeout = ${COMMIT_WAIT_MS}`);
      holder = readHolder(db);
    } catch {
      // The holder is still writing its record: the refusal stands, without a pid.
    }
    // Our own record means we lost a race against a process that has not recorded itself yet.
    if (holder?.pid === process.pid && holder.host === hostname()) holder = undefined;
    throw new ForwarderError(
      "E_STATE_LOCKED",
      `state ${statePath} is in use by another mde-forwarder process (${describeHolder(holder)})`,
      { cause: err, details: { path: statePath, pid: holder?.pid, host: holder?.host } },
    );
  }
}

function commit(db: Db): void {
  // COMMIT needs every reader out for a moment; a reader (`status`) is quick.
  db.pragma(`busy_timeout = ${COMMIT_WAIT_MS}`);
  db.exec("COMMIT");
}

function unlock(db: Db): void {
  try {
    // Still inside the held transaction: the record goes away atomically with the lock.
    db.exec("DELETE FROM holder");
    commit(db);
  } catch {
    // Best effort: a record left behind names a process that no longer holds the lock ("stale").
  } finally {
    db.close();
  }
}

function readHolder(db: Db): LockHolder | undefined {
  const exists = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'holder'").get();
  if (exists === undefined) return undefined;
  return db.prepare<[], LockHolder>("SELECT pid, host, since FROM holder WHERE id = 1").get();
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, it just belongs to another user.
    return typeof err === "object" && err !== null && "code" in err && err.code === "EPERM";
  }
}

function unusable(file: string, err: unknown): ForwarderError {
  const detail = err instanceof Error ? err.message : String(err);
  return new ForwarderError(
    "E_STATE_OPEN",
    `cannot use the state lock file ${file} (${detail}); it holds no data and may be deleted while no forwarder runs`,
    { cause: err, details: { path: file } },
  );
}
