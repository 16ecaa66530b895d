// The state is where "no detection is ever lost" lives, so a state that cannot be written must stop
// the forwarder with a clear error and a non-zero exit, and must never be silently reset.
import assert from "node:assert/strict";
import { chmodSync, chownSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { ROOT, readState } from "../support/forwarder.js";
import { createEnv, report, waitForConservation } from "./harness.js";

const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;

/** As root, permissions do not bind; run the forwarder as nobody, if nobody can read the checkout. */
function unprivileged(): { uid?: number; gid?: number } | undefined {
  if (!isRoot) return {};
  for (let dir = ROOT; dir !== dirname(dir); dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o005) !== 0o005) return undefined;
  }
  return { uid: NOBODY, gid: NOBODY };
}

test("a read-only state directory: a clear error, exit 1, the checkpoint kept", async (t) => {
  const as = unprivileged();
  if (!as) {
    t.skip("running as root in a checkout that user nobody cannot read");
    return;
  }
  const env = await createEnv(t);
  if (isRoot) {
    chownSync(env.dir, NOBODY, NOBODY);
    chmodSync(env.configFile, 0o644);
  }
  env.sim.generate(50, { from: Date.now() - 60_000, to: Date.now() - 1_000 });
  const first = env.start(["once", "-c", env.configFile], {}, as);
  assert.equal((await first.exit).code, 0, first.stderr.join(""));
  const before = readState(env.dir);
  assert.ok(before.checkpoint);

  chmodSync(join(env.dir, "state.db"), 0o444);
  chmodSync(env.dir, 0o555);
  try {
    env.sim.generate(10, { from: Date.now() - 1_000, to: Date.now() });
    const refused = env.start(["run", "-c", env.configFile], {}, as);
    const { code } = await refused.exit;
    const stderr = refused.stderr.join("");
    assert.equal(code, 1);
    assert.match(stderr, /E_STATE_OPEN/);
    assert.ok(stderr.includes(env.dir), "the error names the path");
    assert.ok(!/\n\s+at /.test(stderr), "no stack trace");
  } finally {
    chmodSync(env.dir, 0o755);
    chmodSync(join(env.dir, "state.db"), 0o644);
  }
  assert.equal(readState(env.dir).checkpoint, before.checkpoint, "the checkpoint was not reset");
  const again = env.start(["once", "-c", env.configFile], {}, as);
  assert.equal((await again.exit).code, 0, again.stderr.join(""));
  await waitForConservation(env, env.allIds());
  report(t, env, "read-only state directory");
});

test("a full disk while running: exit 1 with E_STATE_WRITE, and after more room nothing is lost", async (t) => {
  const env = await createEnv(t, { poll: { max_per_request: 200 } });
  env.sim.generate(3_000, { from: Date.now() - 50 * 60_000, to: Date.now() - 1_000 });
  // RLIMIT_FSIZE stands in for a full disk: writes beyond 1 MB fail (EFBIG) instead of killing us.
  const full = env.start(undefined, {}, { shellPrefix: 'ulimit -f 2048; trap "" XFSZ' });
  const { code } = await full.exit;
  const stderr = full.stderr.join("");
  assert.equal(code, 1, `exit code (stderr: ${stderr})`);
  assert.match(stderr, /E_STATE_WRITE/);
  assert.ok(
    full.logs.some((l) => l.level === "fatal"),
    "a fatal log line says why",
  );
  // The full disk is the fault: events the receiver got whose acknowledgement could not be written are
  // still pending in the state, and only those may arrive twice.
  env.fault();
  const stuck = readState(env.dir);
  const roomy = env.start(["once", "-c", env.configFile]);
  assert.equal((await roomy.exit).code, 0, roomy.stderr.join(""));
  await waitForConservation(env, env.allIds());
  report(t, env, "disk full while running", { outboxAtFailure: stuck.outbox.get("siem") ?? 0 });
});

test("a corrupt state file: E_STATE_CORRUPT, exit 1, the file left exactly as it was", async (t) => {
  const env = await createEnv(t);
  const file = join(env.dir, "state.db");
  const garbage = Buffer.from("SQLite format 3\0 but not really; ".repeat(400));
  writeFileSync(file, garbage);
  const p = env.start();
  const { code } = await p.exit;
  const stderr = p.stderr.join("");
  assert.equal(code, 1);
  assert.match(stderr, /E_STATE_CORRUPT/);
  assert.match(stderr, /NOT reset/);
  assert.ok(readFileSync(file).equals(garbage), "the file is untouched");
});
