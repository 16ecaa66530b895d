// The state holds whole detection bodies (host names, user names, command lines): it is private to the
// forwarder's user whatever the umask. A directory the forwarder creates is 0700; the database, its -wal and
// -shm, and the lock file (with its -journal) are 0600. SQLite creates -wal, -shm and -journal with the mode
// of their database, so creating the two databases 0600 before SQLite opens them is enough for new files.
//
// Files left wider by an older version are tightened to 0600 once, with a warning naming each. An existing
// directory is left as it is: it may be one the operator shares (the working directory, say), and with the
// files private it reveals only their names.
import fs from "node:fs";
import path from "node:path";
import type { Logger } from "../log.js";

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** mkdir -p with 0700 for every directory it creates (chmod'ed, so a umask cannot widen or narrow it). */
export function createPrivateDirectory(dir: string): void {
  const first = fs.mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  if (first === undefined) return;
  // mkdir returned the topmost directory it created: every one from there down to `dir` is new.
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    fs.chmodSync(d, PRIVATE_DIR_MODE);
    if (d === path.resolve(first) || d === path.dirname(d)) break;
  }
}

/** Creates an empty file 0600 if there is none (SQLite then treats it as a new database). */
export function createPrivateFile(file: string): void {
  let fd: number;
  try {
    fd = fs.openSync(
      file,
      fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_RDWR,
      PRIVATE_FILE_MODE,
    );
  } catch (err) {
    if (typeof err === "object" && err !== null && "code" in err && err.code === "EEXIST") return;
    throw err;
  }
  try {
    fs.fchmodSync(fd, PRIVATE_FILE_MODE);
  } finally {
    fs.closeSync(fd);
  }
}

/** The files of a state: the database, its WAL and shared memory, the lock database and its journal. */
export function stateFiles(statePath: string): string[] {
  const db = path.resolve(statePath);
  const lock = `${db}.lock`;
  return [db, `${db}-wal`, `${db}-shm`, lock, `${lock}-journal`];
}

/**
 * Tightens each existing state file that group or others may access to 0600, logging each change; one
 * that cannot be changed (owned by another user) is logged and left, the open goes on.
 */
export function tightenStateFiles(statePath: string, log: Logger): void {
  for (const file of stateFiles(statePath)) {
    let mode: number;
    try {
      mode = fs.statSync(file).mode & 0o777;
    } catch {
      continue;
    }
    if ((mode & 0o077) === 0) continue;
    const from = mode.toString(8).padStart(4, "0");
    try {
      fs.chmodSync(file, PRIVATE_FILE_MODE);
      log.warn({ path: file, from, to: "0600" }, "State file was readable by others; made private.");
    } catch (err) {
      const errno = typeof err === "object" && err !== null && "code" in err ? String(err.code) : "error";
      log.warn(
        { path: file, mode: from, errno },
        "State file is readable by others and cannot be made private.",
      );
    }
  }
}
