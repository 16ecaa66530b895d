// Dockerfile and docker-compose.yml, without a Docker engine: their wiring is read and cross-checked, and the
// commands they run are run here the way the containers would run them: the demo stack (simulator, forwarder,
// rsyslog receiver) with the compose commands, the image's environment, working directory and user, a
// read-only root with only the state volume writable, and the image's HEALTHCHECK command.
import assert from "node:assert/strict";
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, posix } from "node:path";
import { test } from "node:test";
import { parse, stringify } from "yaml";
import { DEMO_TENANT } from "../../src/simulator/index.js";
import {
  type ComposeService,
  imageStage,
  mounts,
  readCompose,
  readDockerfile,
  secretFiles,
  service,
} from "./support/container-files.js";
import {
  canMountReadOnly,
  DIST_MAIN,
  freePort,
  ROOT,
  readOnlyRoot,
  rsyslogdBin,
  run,
  runSync,
  skipUnless,
  waitFor,
} from "./support/tools.js";

const DOCKERFILE = join(ROOT, "Dockerfile");
const RECEIVER_DOCKERFILE = join(ROOT, "config/demo/Dockerfile");
const RSYSLOG_CONF = join(ROOT, "config/demo/rsyslog.conf");

interface DemoConfig {
  tenants: Array<Record<string, string>>;
  state: { path: string };
  destinations: Array<{ name: string; host: string; port: number; protocol: string; format: string }>;
  metrics: { host: string; port: number };
}

const readDemoConfig = () =>
  parse(readFileSync(join(ROOT, "config/demo/forwarder.yaml"), "utf8")) as DemoConfig;

/** The value after `flag` in a command line. */
function option(command: readonly string[], flag: string): string | undefined {
  const i = command.indexOf(flag);
  return i === -1 ? undefined : command[i + 1];
}

function rsyslogTcpPort(): number {
  const m = /input\(type="imtcp" port="(\d+)"/.exec(readFileSync(RSYSLOG_CONF, "utf8"));
  assert.ok(m, "rsyslog.conf has an imtcp input");
  return Number(m[1]);
}

test("the image: multi-stage, slim Node 20 runtime, non-root, tini, state volume, health check, exec form", () => {
  const stages = readDockerfile(DOCKERFILE);
  assert.deepEqual(
    stages.map((s) => s.from),
    ["node:20-bookworm AS build", "node:20-bookworm-slim"],
  );
  const image = imageStage(DOCKERFILE);
  assert.equal(image.user, "node");
  assert.deepEqual(image.volumes, ["/var/lib/mde-forwarder"]);
  assert.deepEqual(image.expose, ["9464"]);
  assert.equal(image.entrypoint[0], "/usr/bin/tini", "tini is PID 1");
  assert.deepEqual(image.entrypoint.slice(1), ["--", "node", "/app/dist/cli/main.js"]);
  assert.deepEqual(image.cmd, ["run"]);
  assert.ok(image.healthcheck?.cmd.join(" ").includes("http://127.0.0.1:9464/healthz"));
  // Production dependencies only: the runtime takes node_modules from a stage that pruned dev ones.
  const build = stages[0];
  assert.ok(build?.instructions.some((i) => i.keyword === "RUN" && i.args.includes("npm prune --omit=dev")));
  assert.ok(image.instructions.some((i) => i.keyword === "RUN" && /apt-get install .*\btini\b/.test(i.args)));
  // SQLite's temporary files go to the volume, so a read-only root needs no writable /tmp.
  assert.equal(image.env.get("SQLITE_TMPDIR"), "/var/lib/mde-forwarder");
  assert.equal(image.workdir, "/var/lib/mde-forwarder");
});

test(".dockerignore lets in exactly what the Dockerfile copies from the context", () => {
  const lines = readFileSync(join(ROOT, ".dockerignore"), "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  assert.equal(lines[0], "*", "an allow-list");
  const allowed = lines.slice(1).map((l) => {
    assert.ok(l.startsWith("!"), `${l}: only exceptions after "*"`);
    return l.slice(1);
  });
  const copied = readDockerfile(DOCKERFILE)
    .flatMap((s) => s.instructions)
    .filter((i) => i.keyword === "COPY" && !i.args.startsWith("--from"))
    .flatMap((i) => i.args.split(" ").slice(0, -1));
  assert.deepEqual([...new Set(copied)].sort(), [...allowed].sort());
  for (const path of allowed) assert.ok(existsSync(join(ROOT, path)), `${path} exists`);
});

test("compose: profiles, secrets, mounts and the demo's network namespace fit together", () => {
  const compose = readCompose();
  const image = imageStage(DOCKERFILE);
  const profiles = Object.fromEntries(
    Object.entries(compose.services).map(([name, s]) => [name, [...(s.profiles ?? [])].sort()]),
  );
  assert.deepEqual(profiles, {
    forwarder: ["forwarder"],
    simulator: ["demo"],
    "demo-forwarder": ["demo"],
    receiver: ["demo"],
    prometheus: ["demo", "forwarder"],
    grafana: ["demo", "forwarder"],
  });

  // Both forwarders: the image's config path mounted read-only, a named volume on the state directory, the
  // client secret where client_secret_file points, a read-only root.
  const configPath = image.env.get("MDE_FORWARDER_CONFIG") ?? "";
  const stateDir = image.volumes[0] ?? "";
  for (const name of ["forwarder", "demo-forwarder"]) {
    const s = service(compose, name);
    const m = mounts(s);
    assert.deepEqual(s.command, image.cmd, `${name} runs the image's command`);
    assert.equal(s.read_only, true, `${name}: read_only`);
    const config = m.get(configPath);
    assert.ok(
      config?.kind === "bind" && config.readOnly,
      `${name}: config mounted read-only at ${configPath}`,
    );
    assert.equal(m.get(stateDir)?.kind, "volume", `${name}: a named volume on ${stateDir}`);
    assert.ok(secretFiles(compose, s).has("/run/secrets/mde_client_secret"), `${name}: the client secret`);
    assert.equal(s.stop_grace_period, "15s");
  }
  assert.equal(mounts(service(compose, "forwarder")).get(configPath)?.kind, "bind");
  // Issue 11, finding 9: every published port is on the host's loopback only; Prometheus reaches the
  // forwarder's 9464 over the compose network.
  for (const [name, s] of Object.entries(compose.services)) {
    for (const port of s.ports ?? []) {
      assert.match(port, /^127\.0\.0\.1:\d+:\d+$/, `${name} publishes ${port} on 127.0.0.1 only`);
    }
  }
  assert.deepEqual(service(compose, "forwarder").ports, ["127.0.0.1:9464:9464"]);

  // The demo: the forwarder joins the simulator's namespace, which carries the alias Prometheus scrapes.
  const sim = service(compose, "simulator");
  const demo = service(compose, "demo-forwarder");
  assert.equal(demo.network_mode, "service:simulator");
  assert.deepEqual(sim.networks?.default?.aliases, ["forwarder"]);
  assert.equal(sim.read_only, true);
  assert.equal(option(sim.command ?? [], "--host"), "127.0.0.1", "the simulator listens on loopback only");
  const simPort = option(sim.command ?? [], "--port");
  const config = readDemoConfig();
  const tenant = config.tenants[0] ?? {};
  assert.equal(tenant.api_url, `http://127.0.0.1:${simPort}/graph`);
  assert.equal(tenant.authority_host, `http://127.0.0.1:${simPort}`);
  assert.equal(tenant.tenant_id, DEMO_TENANT.tenantId);
  assert.equal(tenant.client_id, DEMO_TENANT.clientId);
  const secret = secretFiles(compose, demo).get(tenant.client_secret_file ?? "");
  assert.ok(secret, "client_secret_file is the demo forwarder's Docker secret");
  assert.equal(readFileSync(secret, "utf8").trim(), DEMO_TENANT.clientSecret);
  assert.equal(posix.dirname(config.state.path), stateDir, "the state is on the volume");
  // Prometheus reaches the metrics through the namespace's alias; the destination is the receiver service.
  assert.deepEqual(config.metrics, { host: "0.0.0.0", port: 9464 });
  const destination = config.destinations[0];
  assert.equal(destination?.host, "receiver");
  assert.equal(destination?.port, rsyslogTcpPort());
  assert.ok(["tcp", "udp"].includes(destination?.protocol ?? ""));
  const receiver: ComposeService = service(compose, "receiver");
  assert.equal(receiver.build, "./config/demo");
  assert.equal(receiver.read_only, true);

  // Grafana finds the provisioning, the dashboards where the provider looks, and Prometheus by service name.
  const grafana = mounts(service(compose, "grafana"));
  const provisioning = grafana.get("/etc/grafana/provisioning");
  assert.ok(provisioning?.kind === "bind");
  const provider = parse(
    readFileSync(join(provisioning.hostPath, "dashboards/mde-forwarder.yml"), "utf8"),
  ) as {
    providers: Array<{ options: { path: string } }>;
  };
  const dashboards = grafana.get(provider.providers[0]?.options.path ?? "");
  assert.ok(dashboards?.kind === "bind" && existsSync(join(dashboards.hostPath, "mde-forwarder.json")));
  const datasource = parse(
    readFileSync(join(provisioning.hostPath, "datasources/prometheus.yml"), "utf8"),
  ) as {
    datasources: Array<{ url: string }>;
  };
  assert.equal(datasource.datasources[0]?.url, "http://prometheus:9090");
});

const rsyslogSkip = skipUnless(rsyslogdBin, "rsyslogd", "MDE_REQUIRE_RSYSLOG", "apt-get install rsyslog");
const distSkip =
  !existsSync(DIST_MAIN) && process.env.CI !== "true" ? "dist/ is not built (npm run build)" : false;
if (distSkip) process.stderr.write(`ops: SKIPPED: ${distSkip}\n`);

test("the demo stack runs with the compose commands, read-only roots and the image's health check", {
  skip: rsyslogSkip || distSkip,
}, async (t) => {
  assert.ok(rsyslogdBin, "rsyslogd is required in CI but not installed");
  assert.ok(existsSync(DIST_MAIN), `${DIST_MAIN} is built before the tests in CI`);
  const compose = readCompose();
  const image = imageStage(DOCKERFILE);
  const receiverImage = imageStage(RECEIVER_DOCKERFILE);
  const dir = mkdtempSync(join(tmpdir(), "mde-demo-stack-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755);
  const stateDir = mkdtempSync(join(dir, "state-"));
  // The image's user is uid 1000 (node); as root, run as that uid when it can read the checkout.
  const uid = process.getuid?.() === 0 && othersCanRead(ROOT) ? 1000 : undefined;
  if (uid !== undefined) chownSync(stateDir, uid, uid);
  if (!canMountReadOnly) t.diagnostic("read-only roots not tried: needs root and mount namespaces");

  // Receiver: the image's entrypoint with its config file (on a free port).
  const rxPort = await freePort();
  const rsyslogConf = join(dir, "rsyslog-demo.conf");
  writeFileSync(
    rsyslogConf,
    readFileSync(RSYSLOG_CONF, "utf8").replaceAll(`port="${rsyslogTcpPort()}"`, `port="${rxPort}"`),
  );
  const copied = receiverImage.instructions.find((i) => i.keyword === "COPY")?.args.split(" ");
  assert.deepEqual(copied, ["rsyslog.conf", "/etc/rsyslog-demo.conf"]);
  const rsyslogd = rsyslogdBin;
  const rxArgv = receiverImage.entrypoint.map((a) =>
    a === "/etc/rsyslog-demo.conf" ? rsyslogConf : a === "rsyslogd" ? rsyslogd : a,
  );
  // Its stdout is a file here: omfile re-opens /dev/stdout, which works for Docker's pipe and a file, not
  // for the socket node would give it. As root: outside Docker nobody hands that file to user nobody
  // (runc does, for the container's stdout).
  const printed = join(dir, "receiver.out");
  const out = openSync(printed, "w");
  const receiver = run(...split(readOnlyRoot(rxArgv, { writable: [] })), { stdout: out });
  closeSync(out);
  t.after(async () => {
    await receiver.stop();
  });
  await waitFor("rsyslog to listen", () => tcpOpen(rxPort));

  // Simulator: the compose command, on a free port.
  const sim = service(compose, "simulator");
  const simPort = await freePort();
  const simArgs = (sim.command ?? []).map((a, i, all) => (all[i - 1] === "--port" ? String(simPort) : a));
  const simulator = run(
    ...split(readOnlyRoot([process.execPath, DIST_MAIN, ...simArgs], { writable: [], uid })),
  );
  t.after(async () => {
    await simulator.stop();
  });
  await simulator.waitForOutput("the simulator to listen", (out) => out.includes("simulator listening at"));
  const now = Date.now();
  const backlog = await fetch(`http://127.0.0.1:${simPort}/_sim/alerts`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ count: 5, from: now - 10 * 60_000, to: now - 1_000 }),
  });
  assert.equal(backlog.status, 200, await backlog.text());

  // Forwarder: the demo config with the compose addresses mapped to this machine's.
  const demo = service(compose, "demo-forwarder");
  const volume = image.volumes[0] ?? "";
  const config = readDemoConfig();
  const tenant = config.tenants[0] ?? {};
  const simUrl = `http://127.0.0.1:${simPort}`;
  assert.equal(tenant.source, "graph", "the demo leads to Graph, as a new setup should");
  Object.assign(tenant, { api_url: `${simUrl}/graph`, authority_host: simUrl });
  tenant.client_secret_file = secretFiles(compose, demo).get(tenant.client_secret_file ?? "") ?? "";
  config.state.path = config.state.path.replace(volume, stateDir);
  Object.assign(config.destinations[0] ?? {}, { host: "127.0.0.1", port: rxPort });
  const metricsPort = await freePort();
  config.metrics.port = metricsPort;
  const configFile = join(dir, "forwarder.yaml");
  writeFileSync(configFile, stringify(config));
  const mapPath = (value: string) =>
    value === volume ? stateDir : value === image.env.get("MDE_FORWARDER_CONFIG") ? configFile : value;
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH };
  for (const [k, v] of image.env) env[k] = mapPath(v);
  // The entrypoint without tini (PID 1 in the container, not installed here): node, the CLI, the command.
  assert.deepEqual(image.entrypoint.slice(2, 4), ["node", "/app/dist/cli/main.js"]);
  const forwarderArgv = [process.execPath, DIST_MAIN, ...(demo.command ?? [])];
  const forwarder = run(...split(readOnlyRoot(forwarderArgv, { writable: [stateDir], uid })), {
    env,
    cwd: mapPath(image.workdir ?? ""),
  });
  t.after(async () => {
    await forwarder.stop();
  });

  const lines = await waitFor("5 events at the receiver", () => {
    if (receiver.child.exitCode !== null) throw new Error(`rsyslogd exited: ${receiver.stderr.join("")}`);
    const all = readFileSync(printed, "utf8").split("\n").filter(Boolean);
    return all.length >= 5 ? all : undefined;
  });
  assert.equal(lines.length, 5);
  for (const line of lines) assert.match(line, /^<\d+>1 \S+ \S+ \S+ \S+ \S+ \S+ CEF:0\|Microsoft\|/);

  // The image's HEALTHCHECK command, at the forwarder's port: healthy while it runs.
  const healthcheck = (image.healthcheck?.cmd ?? []).map((a) => a.replace(":9464/", `:${metricsPort}/`));
  assert.equal(healthcheck[0], "node");
  const healthy = runSync(process.execPath, healthcheck.slice(1));
  assert.equal(healthy.code, 0, healthy.stderr);
  const ready = await fetch(`http://127.0.0.1:${metricsPort}/readyz`);
  assert.equal(ready.status, 200, await ready.text());

  // SIGTERM (what `docker stop` sends through tini): a clean stop, with nothing written but the state.
  const exit = await forwarder.stop();
  assert.deepEqual(exit, { code: 0, signal: null }, forwarder.stderr.join(""));
  const state = statSync(join(stateDir, "state.db"));
  if (uid !== undefined) assert.equal(state.uid, uid, "the forwarder ran as the image's user");
  t.diagnostic(`ran as uid ${uid ?? process.getuid?.()}, read-only root: ${canMountReadOnly}`);
  const unhealthy = runSync(process.execPath, healthcheck.slice(1));
  assert.equal(unhealthy.code, 1, "unhealthy once the forwarder is gone");
  assert.deepEqual(await simulator.stop(), { code: 0, signal: null }, simulator.stderr.join(""));
});

function split(argv: string[]): [string, string[]] {
  const [command = "", ...args] = argv;
  return [command, args];
}

function othersCanRead(path: string): boolean {
  for (let dir = path; dir !== dirname(dir); dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o005) !== 0o005) return false;
  }
  return true;
}

function tcpOpen(port: number): Promise<true | undefined> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(undefined));
  });
}
