// The systemd unit example: what it promises (hardening, credentials, reload, stop timeout), what
// `systemd-analyze verify` and its offline security review say of it (skipped where systemd-analyze is
// missing), and its ExecStart run the way systemd would run it: client secret from $CREDENTIALS_DIRECTORY,
// SIGHUP for `systemctl reload`, SIGTERM for `systemctl stop`.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { stringify } from "yaml";
import { createSimulator, DEMO_TENANT } from "../../src/simulator/index.js";
import { rawConfig } from "../support/forwarder.js";
import { startReceiver } from "../support/receiver.js";
import { DIST_MAIN, findTool, freePort, ROOT, run, runSync, waitFor } from "./support/tools.js";

const UNIT = join(ROOT, "config/systemd/mde-forwarder.service");
const systemdAnalyze = findTool("systemd-analyze");
const analyzeSkip =
  systemdAnalyze === undefined ? "systemd-analyze is not installed (apt-get install systemd)" : false;
if (analyzeSkip) process.stderr.write(`ops: SKIPPED: ${analyzeSkip}\n`);

/** [Section] -> key -> every value (a key may repeat). */
function readUnit(): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of readFileSync(UNIT, "utf8").split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const section = /^\[(\w+)\]$/.exec(line);
    if (section) {
      current = new Map();
      sections.set(section[1] ?? "", current);
      continue;
    }
    const eq = line.indexOf("=");
    assert.ok(current && eq > 0, `not a key=value line in a section: ${line}`);
    const key = line.slice(0, eq);
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1)]);
  }
  return sections;
}

test("the unit: ExecStart, reload, credentials, state, stop timeout and hardening", () => {
  const service = readUnit().get("Service");
  assert.ok(service);
  const one = (key: string) => {
    const values = service.get(key);
    assert.equal(values?.length, 1, `${key} set once`);
    return values?.[0];
  };
  assert.equal(
    one("ExecStart"),
    "/usr/bin/node /opt/mde-forwarder/dist/cli/main.js run -c /etc/mde-forwarder/forwarder.yaml",
  );
  assert.equal(one("ExecReload"), "/bin/kill -HUP $MAINPID");
  assert.equal(one("TimeoutStopSec"), "15");
  assert.match(
    one("LoadCredential") ?? "",
    /^mde_client_secret:\/etc\/mde-forwarder\/credentials\/mde_client_secret$/,
  );
  assert.equal(one("StateDirectory"), "mde-forwarder");
  assert.equal(one("DynamicUser"), "yes");
  for (const key of ["ProtectSystem"]) assert.equal(one(key), "strict");
  for (const key of [
    "NoNewPrivileges",
    "PrivateTmp",
    "ProtectHome",
    "PrivateDevices",
    "RestrictNamespaces",
  ]) {
    assert.equal(one(key), "yes", key);
  }
  assert.equal(one("CapabilityBoundingSet"), "");
  assert.match(one("RestartPreventExitStatus") ?? "", /\b78\b/, "a config error is not restarted in a loop");
  // V8's JIT needs writable+executable memory: this would stop node at start.
  assert.equal(service.get("MemoryDenyWriteExecute"), undefined);
  assert.equal(readUnit().get("Install")?.get("WantedBy")?.[0], "multi-user.target");
});

test("systemd-analyze verify and its offline security review", { skip: analyzeSkip }, (t) => {
  assert.ok(systemdAnalyze);
  const dir = mkdtempSync(join(tmpdir(), "mde-systemd-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const copy = join(dir, "mde-forwarder.service");
  // verify checks that ExecStart's program exists: point it at this machine's node if /usr/bin/node is not.
  const text = readFileSync(UNIT, "utf8");
  writeFileSync(
    copy,
    existsSync("/usr/bin/node") ? text : text.replace("/usr/bin/node ", `${process.execPath} `),
  );
  const verify = runSync(systemdAnalyze, ["verify", copy]);
  assert.equal(verify.code, 0, `${verify.stdout}${verify.stderr}`);
  assert.doesNotMatch(
    `${verify.stdout}${verify.stderr}`,
    /mde-forwarder\.service/,
    "no warning about the unit",
  );
  const security = runSync(systemdAnalyze, ["security", "--offline=true", copy]);
  const m = /Overall exposure level for mde-forwarder\.service: ([\d.]+)/.exec(`${security.stdout}`);
  assert.ok(m, `${security.stdout}${security.stderr}`);
  t.diagnostic(`systemd-analyze security: exposure ${m[1]}`);
  assert.ok(Number(m[1]) <= 2, `exposure ${m[1]} (0 best, 10 worst; "OK" is below 2)`);
});

const distSkip =
  !existsSync(DIST_MAIN) && process.env.CI !== "true" ? "dist/ is not built (npm run build)" : false;

test("ExecStart as systemd runs it: the secret from $CREDENTIALS_DIRECTORY, SIGHUP reloads, SIGTERM stops", {
  skip: distSkip,
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "mde-systemd-run-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const sim = await createSimulator({ seed: 7 });
  t.after(() => sim.close());
  const rx = await startReceiver({ protocol: "tcp" });
  t.after(() => rx.close());
  sim.generate(3, { from: Date.now() - 60_000, to: Date.now() - 1_000 });

  // LoadCredential= puts the file in a directory of its own and names it in $CREDENTIALS_DIRECTORY.
  const credentials = join(dir, "credentials");
  mkdirSync(credentials);
  writeFileSync(join(credentials, "mde_client_secret"), `${DEMO_TENANT.clientSecret}\n`);
  const stateDir = join(dir, "state");
  mkdirSync(stateDir);
  const metricsPort = await freePort();
  const raw = rawConfig({ sim, receiverPort: rx.port, stateDir });
  const tenants = raw.tenants as Array<Record<string, unknown>>;
  const tenant = tenants[0] ?? {};
  delete tenant.client_secret;
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's own ${VAR} expansion, not a template
  tenant.client_secret_file = "${CREDENTIALS_DIRECTORY}/mde_client_secret";
  const config = join(dir, "forwarder.yaml");
  writeFileSync(config, stringify({ ...raw, metrics: { host: "127.0.0.1", port: metricsPort } }));

  const service = readUnit().get("Service");
  const [, , command, ...rest] = (service?.get("ExecStart")?.[0] ?? "").split(" ");
  assert.deepEqual([command, ...rest], ["run", "-c", "/etc/mde-forwarder/forwarder.yaml"]);
  const env = { PATH: process.env.PATH, NODE_ENV: "production", CREDENTIALS_DIRECTORY: credentials };
  const daemon = run(process.execPath, [DIST_MAIN, "run", "-c", config], { env, cwd: stateDir });
  t.after(async () => {
    await daemon.stop();
  });
  await rx.waitForMessages(3);
  const health = () =>
    fetch(`http://127.0.0.1:${metricsPort}/healthz`).then((r) => r.text().then(() => r.status));
  await waitFor("/healthz", () => health().catch(() => undefined));

  // `systemctl reload`: SIGHUP. Without a handler it would end the process at once; it must answer after it.
  daemon.child.kill("SIGHUP");
  assert.equal(await health(), 200, "still running after SIGHUP");
  assert.equal(daemon.child.exitCode, null);
  // The reload is done (its outcome logged) before the stop: `systemctl stop` comes later in real life.
  const outcome = await waitFor("the reload's outcome in the log", () =>
    logLines(daemon.stdout.join("")).find((l) => /reloaded|rejected/i.test(l.msg)),
  );
  assert.equal(outcome.level, "info", `reload: ${outcome.msg}`);

  const exit = await daemon.stop(15_000);
  assert.deepEqual(exit, { code: 0, signal: null }, daemon.stderr.join(""));
  assert.ok(!daemon.stdout.join("").includes(DEMO_TENANT.clientSecret), "the secret is not logged");
});

/** The complete JSON log lines of `text` (the last one may still be arriving). */
function logLines(text: string): Array<{ level: string; msg: string }> {
  return text
    .split("\n")
    .slice(0, -1)
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { level: string; msg: string });
}
