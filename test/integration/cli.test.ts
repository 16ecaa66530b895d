// The CLI contract (README, "Commands"): exit codes, config errors with key paths, masked secrets.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createSimulator, type Simulator } from "../../src/simulator/index.js";
import { parseCef } from "../support/cef-parser.js";
import { rawConfig, spawnForwarder, writeConfig } from "../support/forwarder.js";
import { type Receiver, startReceiver } from "../support/receiver.js";

let dir: string;
let sim: Simulator;
let rx: Receiver;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "mde-cli-"));
  sim = await createSimulator({ seed: 3 });
  rx = await startReceiver({ protocol: "tcp" });
});
after(async () => {
  await rx.close();
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

async function run(args: string[], env: Record<string, string> = {}) {
  const proc = spawnForwarder(args, env);
  const chunks: string[] = [];
  proc.child.stdout?.on("data", (c: Buffer | string) => chunks.push(String(c)));
  const { code } = await proc.exit;
  return { code, stdout: chunks.join(""), stderr: proc.stderr.join("") };
}

test("check-config: a valid file prints the effective config with the secret masked", async () => {
  const raw = rawConfig({ sim, receiverPort: rx.port, stateDir: dir });
  const file = writeConfig(dir, raw, "valid.yaml");
  const { code, stdout } = await run(["check-config", "-c", file]);
  assert.equal(code, 0);
  assert.match(stdout, /valid/);
  assert.match(stdout, /client_secret: "?\*\*\*\*\*"?/);
  assert.ok(!stdout.includes("demo-secret"), "the secret never appears");
  assert.match(stdout, /lookback: 2h/);
  assert.match(stdout, /max_per_request: 5000/);
});

test("check-config: an invalid file exits 78, names every key path and line, no stack trace", async () => {
  const file = join(dir, "invalid.yaml");
  writeFileSync(
    file,
    [
      "tenants:",
      "  - name: contoso",
      "    tenant_id: t",
      "    client_id: c",
      "    client_secret: super-secret-value",
      "    region: mars",
      "destinations:",
      "  - name: arcsight",
      "    host: 10.0.0.1",
      "    port: 70000",
      "",
    ].join("\n"),
  );
  const { code, stderr } = await run(["check-config", "-c", file]);
  assert.equal(code, 78);
  assert.match(stderr, /tenants\[0\]\.region \(line 6\)/);
  assert.match(stderr, /destinations\[0\]\.port \(line 10\)/);
  assert.ok(!/\n\s+at /.test(stderr), "no stack trace");
  assert.ok(!stderr.includes("super-secret-value"));
});

test("a missing config file exits 78; MDE_FORWARDER_CONFIG is honoured", async () => {
  const missing = join(dir, "nope.yaml");
  const { code, stderr } = await run(["check-config"], { MDE_FORWARDER_CONFIG: missing });
  assert.equal(code, 78);
  assert.match(stderr, /nope\.yaml: 1 problem/);
  assert.match(stderr, /file not found/);
  // Issue 14: the first command of a new user, before any config exists, says where to start.
  assert.match(stderr, /start from config\/forwarder\.example\.yaml; another file: --config FILE/);
});

test("usage errors exit 2", async () => {
  assert.equal((await run(["frobnicate"])).code, 2);
  assert.equal((await run(["run", "--no-such-flag"])).code, 2);
  assert.equal((await run([])).code, 2);
  const help = await run(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /check-config/);
});

test("send-test sends one hostile detection and prints exactly what was sent", async () => {
  const file = writeConfig(dir, rawConfig({ sim, receiverPort: rx.port, stateDir: dir }), "send-test.yaml");
  const before = rx.messages.length;
  const { code, stdout } = await run(["send-test", "-c", file]);
  assert.equal(code, 0, stdout);
  await rx.waitForMessages(before + 1);
  const received = rx.messages[before] ?? "";
  assert.ok(stdout.includes(received), "the printed message is byte for byte what arrived");
  const cef = parseCef(received);
  assert.equal(cef.extension.get("msg"), "Line one\nline two\r\nkey=value tab | pipe \\ backslash, 日本語 ✓");
  const unknown = await run(["send-test", "-c", file, "--destination", "nope"]);
  assert.equal(unknown.code, 2);
});

test("send-test to a dead destination exits 1 with the error code", async () => {
  const deadRx = await startReceiver({ protocol: "tcp" });
  await deadRx.close();
  const file = writeConfig(dir, rawConfig({ sim, receiverPort: deadRx.port, stateDir: dir }), "dead.yaml");
  const { code, stdout } = await run(["send-test", "-c", file]);
  assert.equal(code, 1);
  assert.match(stdout, /FAILED .*E_SINK_CONNECT/);
});

test("once delivers and exits 0; status shows the checkpoint and an empty outbox", async () => {
  const stateDir = mkdtempSync(join(dir, "once-"));
  sim.generate(15, { from: Date.now() - 10 * 60_000, to: Date.now() - 1_000 });
  const file = writeConfig(dir, rawConfig({ sim, receiverPort: rx.port, stateDir }), "once.yaml");
  const before = rx.messages.length;
  const once = await run(["once", "-c", file]);
  assert.equal(once.code, 0, once.stderr);
  assert.ok(rx.messages.length - before >= 15);
  const status = await run(["status", "-c", file, "--json"]);
  assert.equal(status.code, 0, status.stderr);
  const json = JSON.parse(status.stdout) as {
    tenants: Array<{ tenant: string; checkpoint?: string; lastSuccessAt?: number }>;
    destinations: Array<{ destination: string; outbox: number; lastSuccessAt?: number }>;
  };
  assert.equal(json.tenants[0]?.tenant, "demo");
  assert.match(json.tenants[0]?.checkpoint ?? "", /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$/);
  assert.deepEqual(json.destinations, [
    { destination: "siem", outbox: 0, lastSuccessAt: json.destinations[0]?.lastSuccessAt },
  ]);
  const table = await run(["status", "-c", file]);
  assert.match(table.stdout, /TENANT\s+CHECKPOINT/);
  assert.match(table.stdout, /siem\s+0/);
});

test("once exits 1 when a destination is down, and the events stay in the outbox", async () => {
  const stateDir = mkdtempSync(join(dir, "down-"));
  const deadRx = await startReceiver({ protocol: "tcp" });
  await deadRx.close();
  sim.generate(5, { from: Date.now() - 60_000, to: Date.now() - 1_000 });
  const file = writeConfig(dir, rawConfig({ sim, receiverPort: deadRx.port, stateDir }), "down.yaml");
  const once = await run(["once", "-c", file]);
  assert.equal(once.code, 1);
  const status = await run(["status", "-c", file, "--json"]);
  const json = JSON.parse(status.stdout) as {
    destinations: Array<{ outbox: number; lastErrorCode?: string }>;
  };
  assert.ok((json.destinations[0]?.outbox ?? 0) >= 5);
  assert.equal(json.destinations[0]?.lastErrorCode, "E_SINK_CONNECT");
});

test("a corrupt state file is a clear error and a non-zero exit, never a silent reset", async () => {
  const stateDir = mkdtempSync(join(dir, "corrupt-"));
  writeFileSync(join(stateDir, "state.db"), "this is not a database, it is a text file\n".repeat(200));
  const file = writeConfig(dir, rawConfig({ sim, receiverPort: rx.port, stateDir }), "corrupt.yaml");
  const { code, stderr } = await run(["once", "-c", file]);
  assert.equal(code, 1);
  assert.match(stderr, /E_STATE_CORRUPT/);
  assert.match(stderr, /not reset/i);
});
