// Issue 14: the first hour of a new user, tried with real processes, real receivers and the simulator.
// Findings 1 (send-test without tenant credentials), 2 (Graph first), 3 (help from the process), 4 (a
// metrics port in use), 5 (UDP honesty), 8 (typos, the state directory) and 10 (logging slips).
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import dgram from "node:dgram";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { parse } from "yaml";
import { createSimulator, DEMO_TENANT, type Simulator } from "../../src/simulator/index.js";
import { parseCef } from "../support/cef-parser.js";
import { ROOT, rawConfig, spawnForwarder, writeConfig } from "../support/forwarder.js";
import { type Receiver, startReceiver } from "../support/receiver.js";

let dir: string;
let sim: Simulator;
let rx: Receiver;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "mde-first-hour-"));
  chmodSync(dir, 0o755);
  sim = await createSimulator({ seed: 14 });
  rx = await startReceiver({ protocol: "tcp" });
});
after(async () => {
  await rx.close();
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the CLI to its end: exit code, stdout and stderr as text. */
async function run(args: string[], env: Record<string, string | undefined> = {}) {
  const proc = spawnForwarder(args, env as Record<string, string>);
  const chunks: string[] = [];
  proc.child.stdout?.on("data", (c: Buffer | string) => chunks.push(String(c)));
  const { code } = await proc.exit;
  return { code, stdout: chunks.join(""), stderr: proc.stderr.join("") };
}

/** A UDP port on 127.0.0.1 that nothing listens on (it was bound a moment ago). */
async function closedUdpPort(): Promise<number> {
  const socket = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

const NO_CREDENTIALS = { MDE_TENANT_ID: undefined, MDE_CLIENT_ID: undefined, MDE_CLIENT_SECRET: undefined };

/** The example config as a user has it before the Azure app exists: only the destination filled in. */
function exampleConfig(port: number, protocol = "tcp"): string {
  const file = join(dir, `example-${protocol}-${port}.yaml`);
  writeFileSync(
    file,
    [
      "tenants:",
      "  - name: contoso",
      "    source: graph",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the variables are the point
      "    tenant_id: ${MDE_TENANT_ID}\n    client_id: ${MDE_CLIENT_ID}\n    client_secret: ${MDE_CLIENT_SECRET}",
      "destinations:",
      "  - name: arcsight",
      "    format: cef",
      `    protocol: ${protocol}`,
      "    host: 127.0.0.1",
      `    port: ${port}`,
      "",
    ].join("\n"),
  );
  return file;
}

test("finding 1: send-test works with MDE_TENANT_ID, MDE_CLIENT_ID and MDE_CLIENT_SECRET unset", async () => {
  const file = exampleConfig(rx.port);
  const before = rx.messages.length;
  const sent = await run(["send-test", "-c", file], { ...NO_CREDENTIALS });
  assert.equal(sent.code, 0, sent.stderr);
  await rx.waitForMessages(before + 1);
  const received = rx.messages[before] ?? "";
  assert.ok(sent.stdout.includes(received), "what arrived is what it printed");
  assert.equal(parseCef(received).extension.get("shost"), "send-test");
  // The tenant problems are one note, not an exit 78.
  assert.match(
    sent.stderr,
    /^note: send-test uses only destinations; 3 problems elsewhere \(tenants\[0\]\.tenant_id: environment variable MDE_TENANT_ID is not set/m,
  );
  assert.equal(sent.stderr.trim().split("\n").length, 1, sent.stderr);
  // Everything else still refuses such a config.
  assert.equal((await run(["check-config", "-c", file], { ...NO_CREDENTIALS })).code, 78);
  // A broken destination is still a config error, naming the key.
  const broken = exampleConfig(70_000);
  const refused = await run(["send-test", "-c", broken], { ...NO_CREDENTIALS });
  assert.equal(refused.code, 78);
  assert.match(refused.stderr, /destinations\[0\]\.port \(line \d+\): /);
  assert.doesNotMatch(refused.stderr, /tenant_id/, "only the destinations' problems");
});

test("finding 2: the example reads Graph; a siem tenant gets a one-line notice from check-config and once, and still runs", async () => {
  const example = await run(["check-config", "-c", join(ROOT, "config/forwarder.example.yaml")], {
    MDE_TENANT_ID: "t",
    MDE_CLIENT_ID: "c",
    MDE_CLIENT_SECRET: "s",
  });
  assert.equal(example.code, 0, example.stderr);
  assert.match(example.stdout, /source: graph/);
  assert.doesNotMatch(example.stderr, /NOTICE/);

  const stateDir = mkdtempSync(join(dir, "siem-"));
  const file = writeConfig(dir, rawConfig({ sim, receiverPort: rx.port, stateDir }), "siem.yaml");
  const checked = await run(["check-config", "-c", file]);
  assert.equal(checked.code, 0, checked.stderr);
  const notices = checked.stderr.split("\n").filter((l) => l.startsWith("NOTICE: "));
  assert.equal(notices.length, 1);
  assert.match(
    notices[0] ?? "",
    /tenant demo: the SIEM API .* deprecated and closed to new onboarding since December 2021; to switch, set source: graph .*SecurityAlert\.Read\.All; the checkpoint is kept: nothing is skipped, and only what changed in the last poll\.overlap \(\d+[smh]\) comes once more/,
  );

  // Every tenant the docs show names its source (a tenant without one is on the SIEM API), and the
  // container demo reads Graph too.
  const pages = readdirSync(join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`);
  for (const doc of ["README.md", ...pages, "config/demo/forwarder.yaml"]) {
    const text = readFileSync(join(ROOT, doc), "utf8");
    const blocks = doc.endsWith(".yaml")
      ? [text]
      : [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? "");
    for (const block of blocks) {
      const tenants = (parse(block) as { tenants?: unknown } | null)?.tenants;
      if (!Array.isArray(tenants)) continue;
      for (const tenant of tenants as Array<Record<string, unknown>>) {
        assert.ok(
          tenant.source !== undefined && tenant.source !== "siem",
          `${doc}: ${JSON.stringify(tenant)}`,
        );
      }
    }
  }

  sim.generate(3, { from: Date.now() - 60_000, to: Date.now() - 1_000 });
  const once = spawnForwarder(["once", "-c", file]);
  assert.equal((await once.exit).code, 0, once.stderr.join(""));
  const logged = once.logs.filter((l) => l.msg === "Config notice.");
  assert.equal(logged.length, 1);
  assert.equal(logged[0]?.level, "warn");
  assert.match(String(logged[0]?.notice), /^tenant demo: the SIEM API/);
});

test("findings 3 and 8: help and usage errors as the process prints them", async () => {
  const help = await run(["run", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: mde-forwarder run \[options\]/);
  assert.match(help.stdout, /-c, --config FILE/);
  const sub = await run(["help", "state", "reset-checkpoint"]);
  assert.match(sub.stdout, /--forget-seen\s+also forget/);
  const typo = await run(["check-config", "--confg", "x.yaml"]);
  assert.equal(typo.code, 2);
  assert.equal(
    typo.stderr,
    "mde-forwarder: unknown option --confg; did you mean --config?\nSee mde-forwarder check-config --help for the usage.\n",
  );
  const command = await run(["chek-config"]);
  assert.equal(command.code, 2);
  assert.match(command.stderr, /unknown command "chek-config"; did you mean "check-config"\?/);
});

test("finding 4: a metrics port in use is E_METRICS_LISTEN naming metrics.port, exit 1, no stack", async (t) => {
  const taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => taken.close(() => resolve())));
  const port = (taken.address() as net.AddressInfo).port;
  const stateDir = mkdtempSync(join(dir, "metrics-"));
  const file = writeConfig(
    dir,
    { ...rawConfig({ sim, receiverPort: rx.port, stateDir }), metrics: { host: "127.0.0.1", port } },
    "metrics-taken.yaml",
  );
  const started = await run(["run", "-c", file]);
  assert.equal(started.code, 1);
  assert.equal(
    started.stderr,
    `mde-forwarder: E_METRICS_LISTEN: metrics server cannot listen on 127.0.0.1:${port}: the port is already in use (EADDRINUSE; another forwarder on this host?). Fix: set metrics.port (and metrics.host) to a free address, or metrics.enabled: false.\n`,
  );
});

test("finding 5: UDP to a closed port: send-test fails, run marks it down and counts it, status shows it, nothing is lost", async (t) => {
  const port = await closedUdpPort();
  // send-test says what UDP can and cannot tell.
  const refused = await run(["send-test", "-c", exampleConfig(port, "udp")], { ...NO_CREDENTIALS });
  assert.equal(refused.code, 1);
  assert.match(
    refused.stdout,
    /^FAILED to send to arcsight \(udp:\/\/127\.0\.0\.1:\d+\): E_SINK_CONNECT: nothing listens at udp:\/\/127\.0\.0\.1:\d+: its host answered "port unreachable" \(ECONNREFUSED\)$/m,
  );

  const stateDir = mkdtempSync(join(dir, "udp-"));
  const raw = {
    ...rawConfig({ sim, receiverPort: port, stateDir, protocol: "udp" }),
    metrics: { host: "127.0.0.1", port: 0 },
  };
  const file = writeConfig(dir, raw, "udp.yaml");
  const checked = await run(["check-config", "-c", file]);
  assert.match(
    checked.stderr,
    /WARNING: destination siem: UDP cannot confirm delivery: .*use tcp, tls or relp/,
  );

  sim.generate(17, { from: Date.now() - 60_000, to: Date.now() - 1_000 });
  const p = spawnForwarder(["run", "-c", file]);
  t.after(() => p.kill());
  const raws: string[] = [];
  p.child.stdout?.on("data", (c: Buffer | string) => raws.push(String(c)));
  const warned = await p.waitForLog((l) => l.msg === "Config warning.", "the UDP warning");
  assert.match(String(warned.warning), /UDP cannot confirm delivery/);
  const started = await p.waitForLog((l) => l.msg === "Forwarder started.", "the start");
  // Finding 2: the start-up notice of a siem tenant, which runs all the same.
  assert.match(String(p.logs.find((l) => l.msg === "Config notice.")?.notice), /^tenant demo: the SIEM API/);
  const down = await p.waitForLog((l) => l.msg === "Destination is down.", "the destination down");
  assert.equal(down.code, "E_SINK_CONNECT");
  assert.ok(!p.logs.some((l) => /reachable/.test(l.msg)), "never called reachable");
  const metrics = await (await fetch(`${String(started.metrics)}/metrics`)).text();
  assert.match(metrics, /^mde_destination_up\{destination="siem"\} 0$/m);
  assert.match(metrics, /^mde_errors_total\{stage="send",code="E_SINK_CONNECT"\} [1-9]\d*$/m);

  // Finding 10: the reload line has one `level` key (the entry's), the config's level under its own name.
  p.child.kill("SIGHUP");
  await p.waitForLog((l) => l.msg === "Config reloaded.", "the reload");
  const line =
    raws
      .join("")
      .split("\n")
      .find((l) => l.includes('"msg":"Config reloaded."')) ?? "";
  assert.equal(line.match(/"level":/g)?.length, 1, line);
  assert.match(line, /"logLevel":"info"/);

  p.kill("SIGTERM");
  assert.equal((await p.exit).code, 0);
  const status = await run(["status", "-c", file, "--json"]);
  const report = JSON.parse(status.stdout) as {
    destinations: Array<{ outbox: number; lastErrorCode?: string; lastError?: string }>;
  };
  assert.equal(report.destinations[0]?.lastErrorCode, "E_SINK_CONNECT");
  assert.match(report.destinations[0]?.lastError ?? "", /port unreachable/);
  assert.ok((report.destinations[0]?.outbox ?? 0) >= 17, "the events are still in the outbox");

  // A receiver on that port: the outbox is delivered.
  const udp = await startReceiver({ protocol: "udp", port });
  t.after(() => udp.close());
  const once = await run(["once", "-c", file]);
  assert.equal(once.code, 0, once.stderr);
  await udp.waitForMessages(17);
  // send-test over UDP says "sent", never "reachable", and that delivery cannot be confirmed.
  const sent = await run(["send-test", "-c", exampleConfig(port, "udp")], { ...NO_CREDENTIALS });
  assert.equal(sent.code, 0, sent.stderr);
  assert.match(
    sent.stdout,
    /^sent to arcsight \(udp:\/\/127\.0\.0\.1:\d+\) \(UDP cannot confirm delivery: check that it arrived\), \d+ bytes:$/m,
  );
  assert.doesNotMatch(sent.stdout + sent.stderr, /reachable/);
  await udp.waitForMessages(18);
});

test("finding 8: an unknown key in the config names the nearest allowed key", async () => {
  const stateDir = mkdtempSync(join(dir, "typo-"));
  const raw = rawConfig({ sim, receiverPort: rx.port, stateDir });
  const file = writeConfig(
    dir,
    { ...raw, destinations: [{ ...(raw.destinations as object[])[0], protocl: "tcp" }] },
    "typo.yaml",
  );
  const checked = await run(["check-config", "-c", file]);
  assert.equal(checked.code, 78);
  assert.match(
    checked.stderr,
    /destinations\[0\] \(line \d+\): unknown key "protocl"; did you mean "protocol"\?/,
  );
});

/** Whether this process may make a read-only mount in a mount namespace of its own. */
const canMountReadOnly = (() => {
  if (process.getuid?.() !== 0) return false;
  const probe = spawnSync(
    "unshare",
    ["-m", "--propagation", "private", "sh", "-c", "mount -t tmpfs -o ro tmpfs /mnt"],
    {
      stdio: "ignore",
      timeout: 10_000,
    },
  );
  return probe.status === 0;
})();

test("finding 8: a read-only state directory says so in one line with the path and the fix", {
  skip: canMountReadOnly ? false : "needs root and mount namespaces for a read-only mount",
}, async () => {
  const ro = mkdtempSync(join(dir, "ro-"));
  for (const [stateDir, expected] of [
    [ro, `state directory ${ro} is on a read-only file system (EROFS). Fix: set state.path`],
    [
      join(ro, "sub"),
      `cannot create the state directory ${join(ro, "sub")}: ${ro} is on a read-only file system (EROFS)`,
    ],
  ] as const) {
    const file = writeConfig(dir, rawConfig({ sim, receiverPort: rx.port, stateDir }), "ro.yaml");
    // The forwarder in a mount namespace where `ro` is a read-only file system.
    const child = spawn(
      "unshare",
      [
        "-m",
        "--propagation",
        "private",
        "sh",
        "-c",
        'mount -t tmpfs -o ro tmpfs "$0" && exec "$@"',
        ro,
        process.execPath,
        "--import",
        "tsx",
        join(ROOT, "src/cli/main.ts"),
        "once",
        "-c",
        file,
      ],
      { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] },
    );
    const stderr: string[] = [];
    child.stderr.setEncoding("utf8").on("data", (c: string) => stderr.push(c));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    const text = stderr.join("");
    assert.equal(code, 1, text);
    assert.equal(text.split("\n").filter(Boolean).length, 1, text);
    assert.ok(text.startsWith(`mde-forwarder: E_STATE_OPEN: ${expected}`), text);
    assert.doesNotMatch(text, /EROFS: EROFS|ENOENT/);
  }
});

/** Whether another user can read the checkout (every directory up from it), to run the CLI as that user. */
function othersCanRead(path: string): boolean {
  for (let d = path; d !== dirname(d); d = dirname(d)) if ((statSync(d).mode & 0o005) !== 0o005) return false;
  return true;
}
const asRoot = process.getuid?.() === 0;

test("finding 8: a state directory this user cannot write says who and how to fix it", {
  skip:
    asRoot && !(othersCanRead(ROOT) && othersCanRead(tmpdir()))
      ? "the checkout is not readable by another user"
      : false,
}, async () => {
  const parent = mkdtempSync(join(dir, "locked-"));
  const stateDir = join(parent, "sub");
  const file = writeConfig(dir, rawConfig({ sim, receiverPort: rx.port, stateDir }), "locked.yaml");
  chmodSync(file, 0o644);
  chmodSync(parent, 0o555);
  // As root, as another user: root may write anywhere.
  const uid = asRoot ? 1000 : (process.getuid?.() ?? 0);
  const p = spawnForwarder(["once", "-c", file], {}, asRoot ? { uid, gid: uid } : {});
  const { code } = await p.exit;
  const text = p.stderr.join("");
  assert.equal(code, 1, text);
  assert.equal(
    text,
    `mde-forwarder: E_STATE_OPEN: cannot create the state directory ${stateDir}: ${parent} is not writable by this user (uid ${uid}, EACCES). Fix: give it write access (chown ${uid} ${parent}), or set state.path to a writable place (in a container: mount a volume there).\n`,
  );
});

test("finding 10: simulate honours --log-level and keeps its stdout to the banner", async () => {
  for (const [level, expectInfo] of [
    ["error", false],
    ["info", true],
  ] as const) {
    const p = spawnForwarder(["simulate", "--port", "0", "--log-level", level]);
    const out: string[] = [];
    p.child.stdout?.on("data", (c: Buffer | string) => out.push(String(c)));
    await new Promise<void>((resolve) => {
      const check = () => out.join("").includes("Stop with Ctrl-C.") && resolve();
      p.child.stdout?.on("data", check);
    });
    p.kill("SIGINT");
    const exit = await p.exit;
    assert.deepEqual(exit, { code: 0, signal: null }, `${level}: ${p.stderr.join("")}`);
    const stdout = out.join("");
    assert.match(stdout, /^MDE API simulator listening at http:\/\/127\.0\.0\.1:\d+/);
    assert.ok(!/^\{/m.test(stdout), `no JSON log line in the banner: ${stdout}`);
    assert.match(stdout, new RegExp(`client_secret: ${DEMO_TENANT.clientSecret}`));
    const stderr = p.stderr.join("");
    assert.equal(stderr.includes('"msg":"Simulator listening."'), expectInfo, stderr);
    if (!expectInfo) assert.equal(stderr, "", "at error level nothing is logged on a clean run");
  }
});
