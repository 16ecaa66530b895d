// The state lock: one writing process per state file, released by release() and by the OS when the holder
// dies (kill -9 included). A second process plays the other forwarder (lock-holder.ts).
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { ForwarderError } from "../../../src/errors.js";
import { acquireStateLock, inspectStateLock, lockFileFor } from "../../../src/state/index.js";
import { openStore, tempDir } from "./helpers.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const HELPER = fileURLToPath(new URL("./lock-holder.ts", import.meta.url));

const tmp = tempDir();
after(tmp.remove);

let counter = 0;
function newStatePath(): string {
  counter++;
  return path.join(tmp.dir, `case-${counter}`, "state.db");
}

interface Helper {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves with the next line the helper prints. */
  line(): Promise<string>;
  readonly exit: Promise<[number | null, NodeJS.Signals | null]>;
}

function helper(
  t: { after: (fn: () => Promise<void>) => void },
  mode: "hold" | "try",
  statePath: string,
): Helper {
  const child = spawn(process.execPath, ["--import", "tsx", HELPER, mode, statePath], {
    cwd: ROOT,
    stdio: ["pipe", "pipe", "inherit"],
  });
  const exit = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exit;
  });
  const lines: string[] = [];
  const waiting: Array<(line: string) => void> = [];
  let pending = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    pending += chunk;
    const parts = pending.split("\n");
    pending = parts.pop() ?? "";
    for (const l of parts) {
      const w = waiting.shift();
      if (w) w(l);
      else lines.push(l);
    }
  });
  return {
    child,
    pid: child.pid ?? -1,
    exit,
    line: () => {
      const ready = lines.shift();
      if (ready !== undefined) return Promise.resolve(ready);
      return new Promise((resolve, reject) => {
        waiting.push(resolve);
        exit.then(() => reject(new Error(`helper ${mode} exited before printing a line`)));
      });
    },
  };
}

/** What another process gets when it tries the lock now. */
async function tryFromAnotherProcess(
  t: { after: (fn: () => Promise<void>) => void },
  statePath: string,
): Promise<{ ok: boolean; code?: string; message?: string }> {
  const h = helper(t, "try", statePath);
  return JSON.parse(await h.line()) as { ok: boolean; code?: string; message?: string };
}

function isLocked(statePath: string, pid: number) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof ForwarderError, String(err));
    assert.equal(err.code, "E_STATE_LOCKED");
    assert.ok(err.message.includes(`state ${path.resolve(statePath)} is in use`), err.message);
    assert.ok(err.message.includes(`pid ${pid} on ${hostname()}`), err.message);
    assert.equal(err.details.pid, pid);
    return true;
  };
}

test("a second process is refused with E_STATE_LOCKED naming the holder; release() frees the lock", async (t) => {
  const statePath = newStatePath();
  fs.mkdirSync(path.dirname(statePath));
  const holder = helper(t, "hold", statePath);
  assert.equal(await holder.line(), "locked");

  assert.throws(() => acquireStateLock(statePath), isLocked(statePath, holder.pid));
  const seen = inspectStateLock(statePath);
  assert.equal(seen.state, "held");
  assert.equal(seen.state === "held" && seen.holder.pid, holder.pid);

  holder.child.stdin?.end();
  assert.equal(await holder.line(), "released");
  assert.deepEqual(await holder.exit, [0, null]);
  assert.deepEqual(inspectStateLock(statePath), { state: "free" }, "the record goes with the lock");

  // Now this process holds it, and the other side is refused naming us.
  const lock = acquireStateLock(statePath);
  try {
    const refused = await tryFromAnotherProcess(t, statePath);
    assert.equal(refused.ok, false);
    assert.equal(refused.code, "E_STATE_LOCKED");
    assert.match(refused.message ?? "", new RegExp(`pid ${process.pid} on `));
  } finally {
    lock.release();
  }
  assert.deepEqual(await tryFromAnotherProcess(t, statePath), { ok: true });
});

test("kill -9 of the holder releases the lock; status sees a stale record", async (t) => {
  const statePath = newStatePath();
  fs.mkdirSync(path.dirname(statePath));
  const holder = helper(t, "hold", statePath);
  assert.equal(await holder.line(), "locked");
  assert.throws(() => acquireStateLock(statePath), isLocked(statePath, holder.pid));

  holder.child.kill("SIGKILL");
  assert.deepEqual(await holder.exit, [null, "SIGKILL"]);

  const seen = inspectStateLock(statePath);
  assert.equal(seen.state, "stale", "the record names a process that is gone");
  assert.equal(seen.state === "stale" && seen.holder.pid, holder.pid);
  const lock = acquireStateLock(statePath);
  const mine = inspectStateLock(statePath);
  assert.equal(mine.state === "held" && mine.holder.pid, process.pid);
  lock.release();
});

test("within one process the lock is counted: it is released with the last holder", async (t) => {
  const statePath = newStatePath();
  fs.mkdirSync(path.dirname(statePath));
  const first = acquireStateLock(statePath);
  const second = acquireStateLock(statePath);
  first.release();
  first.release(); // idempotent: must not release the second one's share
  assert.equal((await tryFromAnotherProcess(t, statePath)).code, "E_STATE_LOCKED");
  second.release();
  assert.deepEqual(await tryFromAnotherProcess(t, statePath), { ok: true });
});

test("a writable store holds the lock until close(); a read-only one never takes it", async (t) => {
  const statePath = newStatePath();
  const store = openStore(statePath);
  try {
    store.ingest("contoso", [], undefined);
    const refused = await tryFromAnotherProcess(t, statePath);
    assert.equal(refused.code, "E_STATE_LOCKED");
  } finally {
    store.close();
  }
  assert.deepEqual(await tryFromAnotherProcess(t, statePath), { ok: true }, "close() released it");

  const holder = helper(t, "hold", statePath);
  assert.equal(await holder.line(), "locked");
  const reader = openStore(statePath, { readonly: true });
  try {
    assert.deepEqual(reader.status().tenants, [], "a reader works beside the holder");
  } finally {
    reader.close();
  }
  assert.throws(() => openStore(statePath), isLocked(statePath, holder.pid));

  // Refused before anything is created: a fresh path gets no state file.
  const fresh = path.join(path.dirname(statePath), "fresh.db");
  const freshHolder = helper(t, "hold", fresh);
  assert.equal(await freshHolder.line(), "locked");
  assert.throws(() => openStore(fresh), isLocked(fresh, freshHolder.pid));
  assert.equal(fs.existsSync(fresh), false);
});

test("a lock file that cannot be used is E_STATE_OPEN naming it", () => {
  const statePath = newStatePath();
  fs.mkdirSync(lockFileFor(statePath), { recursive: true });
  assert.throws(
    () => acquireStateLock(statePath),
    (err: unknown) =>
      err instanceof ForwarderError &&
      err.code === "E_STATE_OPEN" &&
      err.message.includes(`state lock file ${lockFileFor(statePath)}`),
  );
  assert.throws(() => openStore(statePath), /E_STATE_OPEN|state lock file/);
});
