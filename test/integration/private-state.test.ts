// Issue 11, finding 7: the state holds whole detection bodies and is private by default. A real forwarder
// process under umask 022 creates its directory 0700 and the database, -wal, -shm and lock file 0600; files
// left wider by an older version are tightened with a warning; `status` (read-only) works and changes nothing.
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createSimulator, type Simulator } from "../../src/simulator/index.js";
import { rawConfig, spawnForwarder, writeConfig } from "../support/forwarder.js";
import { type Receiver, startReceiver } from "../support/receiver.js";

let dir: string;
let sim: Simulator;
let rx: Receiver;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "mde-private-state-"));
  sim = await createSimulator({ seed: 7 });
  rx = await startReceiver({ protocol: "tcp" });
});
after(async () => {
  await rx.close();
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

const mode = (path: string) => (statSync(path).mode & 0o777).toString(8).padStart(4, "0");
const UMASK = { shellPrefix: "umask 022" };

function stateFiles(stateDir: string): string[] {
  const db = join(stateDir, "state.db");
  return [db, `${db}-wal`, `${db}-shm`, `${db}.lock`];
}

test("finding 7: under umask 022 the state directory is created 0700 and every state file 0600", async (t) => {
  const stateDir = join(dir, "fresh", "nested");
  const file = writeConfig(dir, rawConfig({ sim, receiverPort: rx.port, stateDir }), "fresh.yaml");
  sim.generate(3, { from: Date.now() - 60_000, to: Date.now() - 1_000 });
  const p = spawnForwarder(["run", "-c", file], {}, UMASK);
  t.after(() => p.kill());
  await p.waitForLog((l) => l.msg === "Poll finished.", "a poll stored detections");
  // While it runs: the WAL and the shared memory exist (deleted again on a clean stop).
  for (const f of stateFiles(stateDir)) assert.ok(existsSync(f), `${f} exists while running`);
  assert.equal(mode(join(dir, "fresh")), "0700", "every directory it created");
  assert.equal(mode(stateDir), "0700");
  for (const f of stateFiles(stateDir)) assert.equal(mode(f), "0600", f);
  p.kill("SIGTERM");
  assert.equal((await p.exit).code, 0);
  for (const f of [join(stateDir, "state.db"), join(stateDir, "state.db.lock")])
    assert.equal(mode(f), "0600");

  // `status` reads the private state (same user) and changes nothing.
  const status = spawnForwarder(["status", "-c", file], {}, UMASK);
  assert.equal((await status.exit).code, 0, status.stderr.join(""));
  assert.equal(mode(stateDir), "0700");
  assert.equal(mode(join(stateDir, "state.db")), "0600");
});

test("finding 7: files an older version left 0644 are made 0600 with a warning; an existing directory is kept", async () => {
  const stateDir = join(dir, "older");
  mkdirSync(stateDir, { mode: 0o755 });
  chmodSync(stateDir, 0o755);
  const file = writeConfig(dir, rawConfig({ sim, receiverPort: rx.port, stateDir }), "older.yaml");
  sim.generate(2, { from: Date.now() - 60_000, to: Date.now() - 1_000 });
  // A crash leaves -wal and -shm behind, as an older version's files would be.
  const first = spawnForwarder(["run", "-c", file], {}, UMASK);
  await first.waitForLog((l) => l.msg === "Poll finished.", "the first poll");
  first.kill("SIGKILL");
  await first.exit;
  for (const f of stateFiles(stateDir)) {
    assert.ok(existsSync(f), `${f} left by the crash`);
    chmodSync(f, 0o644);
  }

  // status is read-only: it reads the state and tightens nothing.
  const status = spawnForwarder(["status", "-c", file], {}, UMASK);
  assert.equal((await status.exit).code, 0, status.stderr.join(""));
  assert.equal(mode(join(stateDir, "state.db")), "0644");

  const second = spawnForwarder(["once", "-c", file], {}, UMASK);
  assert.equal((await second.exit).code, 0, second.stderr.join(""));
  const warned = second.logs.filter((l) => l.msg === "State file was readable by others; made private.");
  assert.deepEqual(warned.map((l) => l.path).sort(), stateFiles(stateDir).sort());
  for (const l of warned) assert.deepEqual([l.from, l.to], ["0644", "0600"]);
  for (const f of [join(stateDir, "state.db"), join(stateDir, "state.db.lock")])
    assert.equal(mode(f), "0600", f);
  assert.equal(mode(stateDir), "0755", "a directory it did not create is left as it is");

  // Once private, nothing more is logged.
  const third = spawnForwarder(["once", "-c", file], {}, UMASK);
  assert.equal((await third.exit).code, 0);
  assert.equal(third.logs.filter((l) => String(l.msg).startsWith("State file")).length, 0);
});
