// Operator commands against real processes: the state lock (one writing process per state file), `state
// reset-checkpoint`, `state export-outbox`, `state export-quarantine` and `status`.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, type TestContext, test } from "node:test";
import Database from "better-sqlite3";
import { silentLogger } from "../../src/log.js";
import type { Detection } from "../../src/record.js";
import { createSimulator, type Simulator } from "../../src/simulator/index.js";
import { createStore } from "../../src/state/index.js";
import { formatTimestamp, parseTimestamp } from "../../src/timestamp.js";
import { fullIds, rawConfig, spawnForwarder, writeConfig } from "../support/forwarder.js";
import { type Receiver, startReceiver } from "../support/receiver.js";

let dir: string;
let fileCounter = 0;

before(() => {
  dir = mkdtempSync(join(tmpdir(), "mde-state-cli-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: string[]) {
  const proc = spawnForwarder(args);
  const chunks: string[] = [];
  proc.child.stdout?.on("data", (c: Buffer | string) => chunks.push(String(c)));
  const { code } = await proc.exit;
  return { code, stdout: chunks.join(""), stderr: proc.stderr.join("") };
}

interface Setup {
  sim: Simulator;
  rx: Receiver;
  stateDir: string;
  file: string;
}

/** A simulator, a receiver (or a port nobody listens on) and a config of their own, for one test. */
async function setup(
  t: TestContext,
  options: { dead?: boolean; raw?: Partial<Parameters<typeof rawConfig>[0]> } = {},
): Promise<Setup> {
  fileCounter++;
  const sim = await createSimulator({ seed: 40 + fileCounter });
  const rx = await startReceiver({ protocol: "tcp" });
  t.after(async () => {
    await rx.close();
    await sim.close();
  });
  if (options.dead) await rx.close();
  const stateDir = mkdtempSync(join(dir, "case-"));
  const raw = rawConfig({ sim, receiverPort: rx.port, stateDir, ...options.raw });
  return { sim, rx, stateDir, file: writeConfig(dir, raw, `config-${fileCounter}.yaml`) };
}

interface StatusJson {
  state: string;
  daemon: { running: boolean | null; holder?: { pid: number; host: string; since: number }; reason?: string };
  tenants: Array<{ tenant: string; checkpoint?: string }>;
  destinations: Array<{ destination: string; outbox: number }>;
}

async function statusJson(file: string): Promise<StatusJson> {
  const status = await run(["status", "-c", file, "--json"]);
  assert.equal(status.code, 0, status.stderr);
  return JSON.parse(status.stdout) as StatusJson;
}

function refusedBecauseLocked(
  result: { code: number | null; stderr: string },
  pid: number | undefined,
): void {
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /E_STATE_LOCKED: state .* is in use by another mde-forwarder process/);
  assert.ok(result.stderr.includes(`(pid ${pid} on `), result.stderr);
  assert.ok(!/\n\s+at /.test(result.stderr), "no stack trace");
}

test("while `run` holds the state: a second run, once and the state commands are refused; status names it", async (t) => {
  const env = await setup(t);
  env.sim.generate(5, { from: Date.now() - 10 * 60_000, to: Date.now() - 1_000 });
  const daemon = spawnForwarder(["run", "-c", env.file]);
  t.after(async () => {
    daemon.kill();
    await daemon.exit;
  });
  await daemon.waitForLog((l) => l.msg === "Forwarder started.", "the daemon started");
  const pid = daemon.child.pid;

  refusedBecauseLocked(await run(["run", "-c", env.file]), pid);
  refusedBecauseLocked(await run(["once", "-c", env.file]), pid);
  refusedBecauseLocked(
    await run(["state", "reset-checkpoint", "-c", env.file, "--tenant", "demo", "--to", "1h"]),
    pid,
  );
  const exported = await run(["state", "export-outbox", "-c", env.file]);
  refusedBecauseLocked(exported, pid);
  assert.equal(exported.stdout, "", "nothing exported");

  const running = await statusJson(env.file);
  assert.equal(running.daemon.running, true);
  assert.equal(running.daemon.holder?.pid, pid);
  const table = await run(["status", "-c", env.file]);
  assert.match(
    table.stdout,
    new RegExp(`^State .*state\\.db: daemon running \\(pid ${pid} on .*, since \\d+s ago\\)$`, "m"),
  );

  daemon.kill("SIGTERM");
  assert.equal((await daemon.exit).code, 0);
  const stopped = await statusJson(env.file);
  assert.deepEqual(stopped.daemon, { running: false });
  assert.match((await run(["status", "-c", env.file])).stdout, /: not running$/m);
  const reset = await run(["state", "reset-checkpoint", "-c", env.file, "--tenant", "demo", "--to", "1h"]);
  assert.equal(reset.code, 0, reset.stderr);
});

test("reset-checkpoint re-reads from TIME: duplicates are dropped, unless --forget-seen sends them again", async (t) => {
  const env = await setup(t, { raw: { poll: { overlap: "0s" } } });
  const now = Date.now();
  const detections = env.sim.generate(20, { from: now - 30 * 60_000, to: now - 60_000 });
  const first = await run(["once", "-c", env.file]);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(env.rx.messages.length, 20);
  const checkpoint = (await statusJson(env.file)).tenants[0]?.checkpoint;
  assert.ok(checkpoint);

  // TIME between the 10th and the 11th detection: the second half lies after it.
  const times = detections.map(lastProcessed).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const [tenth, eleventh] = [times[9] ?? 0n, times[10] ?? 0n];
  assert.ok(eleventh - tenth >= 2n, "two distinct instants");
  const to = formatTimestamp((tenth + eleventh) / 2n);
  const after = detections.filter((d) => lastProcessed(d) > tenth).map((d) => String(d.FullId));
  assert.equal(after.length, 10);

  const reset = await run(["state", "reset-checkpoint", "-c", env.file, "--tenant", "demo", "--to", to]);
  assert.equal(reset.code, 0, reset.stderr);
  assert.ok(reset.stdout.includes(`tenant demo: checkpoint ${checkpoint} -> ${to}`), reset.stdout);
  assert.match(reset.stdout, /dropped as duplicates/);
  assert.equal((await statusJson(env.file)).tenants[0]?.checkpoint, to, "stored canonical, backward");

  const reread = await run(["once", "-c", env.file]);
  assert.equal(reread.code, 0, reread.stderr);
  const since = new Date(Number((parseTimestamp(to) ?? 0n) / 10_000n)).toISOString();
  assert.ok(
    env.sim.requests.some((r) => r.path === "/api/alerts" && r.query.sinceTimeUtc === since),
    `the API was asked again from ${since}`,
  );
  assert.equal(env.rx.messages.length, 20, "nothing re-sent: the dedupe keys dropped the re-read");
  assert.equal((await statusJson(env.file)).tenants[0]?.checkpoint, checkpoint, "the checkpoint caught up");

  const forget = await run([
    "state",
    "reset-checkpoint",
    "-c",
    env.file,
    "--tenant",
    "demo",
    "--to",
    to,
    "--forget-seen",
  ]);
  assert.equal(forget.code, 0, forget.stderr);
  assert.match(
    forget.stdout,
    /Forgot 20 dedupe keys recorded since .*: detections read again are sent again/,
  );
  const resent = await run(["once", "-c", env.file]);
  assert.equal(resent.code, 0, resent.stderr);
  await env.rx.waitForMessages(30);
  assert.deepEqual(
    fullIds(env.rx.messages.slice(20)).sort(),
    after.sort(),
    "exactly the detections after TIME were sent again",
  );
});

test("reset-checkpoint --to none deletes the checkpoint; bad arguments are usage errors (exit 2)", async (t) => {
  const env = await setup(t);
  env.sim.generate(3, { from: Date.now() - 60_000, to: Date.now() - 1_000 });
  assert.equal((await run(["once", "-c", env.file])).code, 0);

  const none = await run(["state", "reset-checkpoint", "-c", env.file, "--tenant", "demo", "--to", "none"]);
  assert.equal(none.code, 0, none.stderr);
  assert.match(none.stdout, /^tenant demo: checkpoint \d{4}-\S+Z -> \(none\)$/m);
  assert.match(none.stdout, /The next poll reads from poll\.lookback/);
  assert.equal((await statusJson(env.file)).tenants[0]?.checkpoint, undefined);

  const future = new Date(Date.now() + 86_400_000).toISOString();
  for (const [args, message] of [
    [["--tenant", "nope", "--to", "1h"], /unknown tenant "nope" \(configured: demo\)/],
    [["--tenant", "demo"], /needs --to/],
    [["--to", "1h"], /needs --tenant/],
    [["--tenant", "demo", "--to", "yesterday"], /is not a timestamp/],
    [["--tenant", "demo", "--to", future], /is in the future/],
  ] as const) {
    const result = await run(["state", "reset-checkpoint", "-c", env.file, ...args]);
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, message);
  }
  assert.equal((await run(["state", "frobnicate", "-c", env.file])).code, 2);
  assert.equal((await run(["state", "-c", env.file])).code, 2);
  assert.equal((await statusJson(env.file)).tenants[0]?.checkpoint, undefined, "nothing changed");
});

test("export-outbox prints exactly the undelivered events, oldest first, one line per destination", async (t) => {
  const env = await setup(t, { dead: true });
  // Two destinations, both down: every event waits twice.
  const raw = rawConfig({
    sim: env.sim,
    receiverPort: env.rx.port,
    stateDir: env.stateDir,
    extraDestinations: [
      { name: "qradar", format: "leef", protocol: "tcp", host: "127.0.0.1", port: env.rx.port },
    ],
  });
  const file = writeConfig(dir, raw, "export.yaml");
  const detections = env.sim.generate(6, { from: Date.now() - 5 * 60_000, to: Date.now() - 1_000 });
  const once = await run(["once", "-c", file]);
  assert.equal(once.code, 1, "the destinations are down");
  const status = await statusJson(file);
  assert.deepEqual(
    status.destinations.map((d) => [d.destination, d.outbox]),
    [
      ["siem", 6],
      ["qradar", 6],
    ],
  );

  const all = await run(["state", "export-outbox", "-c", file]);
  assert.equal(all.code, 0, all.stderr);
  assert.match(all.stderr, /export-outbox: 12 undelivered events written\n/);
  const lines = all.stdout.trimEnd().split("\n");
  assert.equal(lines.length, 12);
  const entries = lines.map(
    (l) =>
      JSON.parse(l) as {
        id: number;
        destination: string;
        tenant: string;
        received_at: string;
        detection: Detection;
      },
  );
  for (const [i, e] of entries.entries()) {
    assert.deepEqual(Object.keys(e), ["id", "destination", "tenant", "received_at", "detection"]);
    assert.equal(e.tenant, "demo");
    assert.match(e.received_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    // Oldest first; an event waiting for both destinations comes once per destination, in config order.
    assert.equal(e.destination, i % 2 === 0 ? "siem" : "qradar");
    if (i > 0) assert.ok(e.id >= (entries[i - 1]?.id ?? 0));
  }
  const byId = new Map(detections.map((d) => [String(d.FullId), d]));
  for (const e of entries) {
    assert.deepEqual(e.detection, byId.get(String(e.detection.FullId)), "the stored detection, as received");
  }
  assert.deepEqual(
    [...new Set(entries.map((e) => String(e.detection.FullId)))].sort(),
    [...byId.keys()].sort(),
  );

  const one = await run(["state", "export-outbox", "-c", file, "--destination", "qradar"]);
  assert.equal(one.code, 0, one.stderr);
  assert.deepEqual(
    one.stdout.trimEnd().split("\n"),
    lines.filter((_, i) => i % 2 === 1),
  );
  assert.match(one.stderr, /6 undelivered events written \(qradar\)/);
  const unknown = await run(["state", "export-outbox", "-c", file, "--destination", "nope"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown destination "nope" \(known: siem, qradar\)/);
  assert.deepEqual(
    (await statusJson(file)).destinations.map((d) => d.outbox),
    [6, 6],
    "exporting changed nothing",
  );
});

test("status: a table with ages by default (piped too), JSON with --json", async (t) => {
  const env = await setup(t);
  env.sim.generate(4, { from: Date.now() - 60_000, to: Date.now() - 1_000 });
  assert.equal((await run(["once", "-c", env.file])).code, 0);
  const table = await run(["status", "-c", env.file]);
  assert.equal(table.code, 0, table.stderr);
  assert.match(
    table.stdout,
    /: not running\n\nTENANT\s+CHECKPOINT\s+LAST POLL\s+LAST SUCCESS\s+QUARANTINED\s+LAST ERROR\n/,
  );
  assert.match(table.stdout, /^demo\s+\d{4}-\d{2}-\d{2}T\S+Z \(\d+s ago\)\s+\d+s ago\s+\d+s ago\s+0\s+-$/m);
  assert.match(table.stdout, /^siem\s+0\s+\d+s ago\s+-$/m);
  const json = await statusJson(env.file);
  assert.equal(json.state, join(env.stateDir, "state.db"));
  assert.deepEqual(json.daemon, { running: false });
  assert.equal(json.destinations[0]?.outbox, 0);
});

function lastProcessed(d: Detection): bigint {
  return parseTimestamp(d.LastProcessedTimeUtc) ?? 0n;
}

test("issue 11 finding 2: export-quarantine prints every quarantined record as a JSON line; status shows the count and redacts old errors", async (t) => {
  const env = await setup(t);
  const file = join(env.stateDir, "state.db");
  const deep = `{"FullId":"x","a":${'{"a":'.repeat(100)}1${"}".repeat(100)}}`;
  // A state with two quarantined records, and an error text recorded by an earlier release (not redacted).
  const store = createStore(
    { path: file, retention: 7 * 86_400_000, max_outbox: 1_000_000, destinations: ["siem"] },
    { log: silentLogger() },
  );
  store.ingest("demo", [], undefined, [
    { reason: "too_deep", raw: deep, bytes: deep.length, hash: "h1", kind: "siem" },
    { reason: "not_an_object", raw: "42", bytes: 2, hash: "h2", kind: "siem" },
  ]);
  store.close();
  const token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.c2lnbmF0dXJl";
  const db = new Database(file);
  db.prepare(
    "INSERT INTO tenant_status (tenant, last_poll_at, last_error_at, last_error_code, last_error) VALUES (?, ?, ?, ?, ?)",
  ).run("demo", Date.now(), Date.now(), "E_API_BAD_RESPONSE", `body starts "Bearer ${token}"`);
  db.close();

  const exported = await run(["state", "export-quarantine", "-c", env.file]);
  assert.equal(exported.code, 0, exported.stderr);
  assert.match(exported.stderr, /export-quarantine: 2 quarantined records written/);
  const lines = exported.stdout
    .trimEnd()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(
    lines.map((l) => [l.id, l.tenant, l.reason, l.kind, l.destination, l.raw_bytes, l.truncated, l.raw]),
    [
      [1, "demo", "too_deep", "siem", null, deep.length, false, deep],
      [2, "demo", "not_an_object", "siem", null, 2, false, "42"],
    ],
  );
  assert.ok(Math.abs(Date.parse(String(lines[0]?.quarantined_at)) - Date.now()) < 60_000);
  const other = await run(["state", "export-quarantine", "-c", env.file, "--tenant", "other"]);
  assert.equal(other.code, 2, "an unknown tenant is a usage error, as export-outbox's destination");
  assert.match(other.stderr, /unknown tenant "other" \(known: demo\)/);
  assert.equal(other.stdout, "");
  const mine = await run(["state", "export-quarantine", "-c", env.file, "--tenant", "demo"]);
  assert.equal(mine.code, 0, mine.stderr);
  assert.equal(mine.stdout.trimEnd().split("\n").length, 2);

  const json = (await statusJson(env.file)) as StatusJson & {
    tenants: Array<{ quarantined?: number; lastQuarantinedAt?: number; lastError?: string }>;
  };
  assert.equal(json.tenants[0]?.quarantined, 2);
  assert.ok(json.tenants[0]?.lastQuarantinedAt);
  assert.equal(json.tenants[0]?.lastError, 'body starts "Bearer [redacted]"');
  const table = await run(["status", "-c", env.file]);
  assert.match(table.stdout, /^demo\s+-\s+\d+s ago\s+-\s+2 \(last \d+s ago\)\s+E_API_BAD_RESPONSE/m);
  assert.ok(!table.stdout.includes(token.slice(0, 10)));
});
