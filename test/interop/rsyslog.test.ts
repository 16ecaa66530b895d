// Interop with a real rsyslog as the receiver: TCP with LF framing, TCP with octet counting, and UDP.
// rsyslog parses our RFC 5424 header and writes what it understood; every field is checked against
// what the forwarder meant to send. Skipped with a message where rsyslog is not installed, except in
// CI (MDE_REQUIRE_RSYSLOG=1), where a missing rsyslog fails the test.
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { buildForwarder } from "../../src/cli/daemon.js";
import { sampleDetection } from "../../src/cli/sample-detection.js";
import { configSchema } from "../../src/config/schema.js";
import { buildFormatConfig, createFormatter } from "../../src/format/index.js";
import { silentLogger } from "../../src/log.js";
import { createSimulator, type Simulator } from "../../src/simulator/index.js";
import { parseCef } from "../support/cef-parser.js";
import { rawConfig } from "../support/forwarder.js";

function findRsyslogd(): string | undefined {
  for (const path of ["/usr/sbin/rsyslogd", "/sbin/rsyslogd", "/usr/local/sbin/rsyslogd"]) {
    if (existsSync(path)) return path;
  }
  try {
    return execFileSync("sh", ["-c", "command -v rsyslogd"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const rsyslogd = findRsyslogd();
const required = process.env.MDE_REQUIRE_RSYSLOG === "1";
const skip =
  rsyslogd === undefined && !required ? "rsyslogd is not installed (apt-get install rsyslog)" : false;
if (skip) process.stderr.write(`interop/rsyslog: SKIPPED: ${skip}\n`);

const HOSTNAME = "fwd-interop-01";
let dir = "";
let rsyslog: ChildProcess | undefined;
let sim: Simulator | undefined;
const ports = { lf: 0, octet: 0, udp: 0 };

async function freeUdpPort(): Promise<number> {
  const socket = createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

async function waitFor<T>(what: string, read: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function linesOf(name: string): string[] {
  const file = join(dir, `${name}.log`);
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8").split("\n").filter(Boolean);
}

before(async () => {
  if (skip) return;
  assert.ok(rsyslogd, "rsyslogd is required in CI (MDE_REQUIRE_RSYSLOG=1) but not installed");
  dir = mkdtempSync(join(tmpdir(), "mde-rsyslog-"));
  ports.udp = await freeUdpPort();
  const out = (name: string) =>
    `ruleset(name="${name}") { action(type="omfile" file="${dir}/${name}.log" template="fields" asyncWriting="off" flushOnTXEnd="on") }`;
  writeFileSync(
    join(dir, "rsyslog.conf"),
    [
      `global(workDirectory="${dir}" maxMessageSize="64k")`,
      'module(load="imtcp")',
      'module(load="imudp")',
      // The fields rsyslog parsed out of our header, then the message itself.
      'template(name="fields" type="string" string="%pri%|%timereported:::date-rfc3339%|%hostname%|%app-name%|%procid%|%msgid%|%structured-data%|%msg%\\n")',
      out("lf"),
      out("octet"),
      out("udp"),
      `input(type="imtcp" port="0" listenPortFileName="${dir}/lf.port" ruleset="lf")`,
      `input(type="imtcp" port="0" listenPortFileName="${dir}/octet.port" ruleset="octet")`,
      `input(type="imudp" address="127.0.0.1" port="${ports.udp}" ruleset="udp")`,
      "",
    ].join("\n"),
  );
  rsyslog = spawn(rsyslogd, ["-n", "-f", join(dir, "rsyslog.conf"), "-i", join(dir, "rsyslog.pid")], {
    stdio: ["ignore", "inherit", "inherit"],
  });
  const readPort = (name: string) => () => {
    const file = join(dir, `${name}.port`);
    const text = existsSync(file) ? readFileSync(file, "utf8").trim() : "";
    return /^\d+$/.test(text) ? Number(text) : undefined;
  };
  ports.lf = await waitFor("rsyslog's first TCP port", readPort("lf"));
  ports.octet = await waitFor("rsyslog's second TCP port", readPort("octet"));
  sim = await createSimulator({ seed: 21 });
});

after(async () => {
  if (rsyslog && rsyslog.exitCode === null) {
    const exited = new Promise((resolve) => rsyslog?.once("exit", resolve));
    rsyslog.kill("SIGTERM");
    await exited;
  }
  await sim?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("rsyslog parses every field over TCP (LF and octet counting) and UDP", { skip }, async (t) => {
  assert.ok(sim);
  const detections = [...sim.generate(20, { from: Date.now() - 10 * 60_000, to: Date.now() - 1_000 })];
  const hostile = sampleDetection(Date.now() - 500);
  sim.add([hostile]);
  detections.push(hostile);
  const stateDir = mkdtempSync(join(dir, "state-"));
  const common = { format: "cef", host: "127.0.0.1", hostname: HOSTNAME, facility: "local4" };
  const raw = rawConfig({
    sim,
    receiverPort: ports.lf,
    stateDir,
    destination: { ...common, name: "lf", protocol: "tcp", framing: "lf" },
    extraDestinations: [
      { ...common, name: "octet", protocol: "tcp", framing: "octet-counting", port: ports.octet },
      { ...common, name: "udp", protocol: "udp", port: ports.udp },
    ],
  });
  const config = configSchema.parse(raw);
  const forwarder = buildForwarder(config, { log: silentLogger(), confirmAfterMs: 100 });
  t.after(() => forwarder.close());
  const polls = await forwarder.pipeline.pollOnce();
  assert.equal(polls[0]?.result.status, "ok");
  assert.equal(await forwarder.pipeline.drainUntilEmpty(2), true);

  // What each destination meant to send: the same formatter (UDP cuts to its 2048-byte default), the CEF
  // part of the message (the header's timestamp differs, its length does not).
  const expectedFor = (name: string) => {
    const destination = config.destinations.find((d) => d.name === name);
    assert.ok(destination);
    const formatter = createFormatter(buildFormatConfig(destination));
    return new Map(
      detections.map((d) => {
        const text = formatter.format(d).bytes.toString("utf8");
        return [String(d.FullId), text.slice(text.indexOf("CEF:"))];
      }),
    );
  };
  const severityOf: Record<string, number> = { High: 3, Medium: 4, Low: 5, Informational: 6 };
  for (const name of ["lf", "octet", "udp"]) {
    const expected = expectedFor(name);
    const lines = await waitFor(`${expected.size} lines from rsyslog (${name})`, () => {
      const l = linesOf(name);
      return l.length >= expected.size ? l : undefined;
    });
    assert.equal(lines.length, expected.size, `${name}: one line per detection, none split or merged`);
    const seen = new Set<string>();
    for (const line of lines) {
      const [pri, time, host, app, procid, msgid, sd, ...rest] = line.split("|");
      const msg = rest.join("|");
      const cef = parseCef(msg);
      const fullId = cef.extension.get("cs3") ?? "";
      seen.add(fullId);
      const detection = detections.find((d) => d.FullId === fullId);
      assert.ok(detection, `${name}: unknown FullId ${fullId}`);
      assert.equal(Number(pri), 20 * 8 + (severityOf[String(detection.Severity)] ?? 5), `${name}: PRI`);
      assert.match(time ?? "", /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/, `${name}: timestamp parsed`);
      assert.equal(host, HOSTNAME, `${name}: HOSTNAME`);
      assert.equal(app, "mde-forwarder", `${name}: APP-NAME`);
      assert.equal(procid, "-");
      assert.equal(msgid, "-");
      assert.equal(sd, "-");
      assert.equal(msg, expected.get(fullId), `${name}: the CEF message arrived byte for byte`);
    }
    assert.equal(seen.size, expected.size, `${name}: every detection arrived once`);
  }
  // The hostile values came through rsyslog intact, as parsed by a strict CEF parser.
  const hostileLine = linesOf("octet").find((l) => l.includes(String(hostile.FullId))) ?? "";
  const cef = parseCef(hostileLine.split("|").slice(7).join("|"));
  assert.equal(cef.name, hostile.AlertTitle);
  assert.equal(cef.extension.get("msg"), "Line one\nline two\r\nkey=value tab | pipe \\ backslash, 日本語 ✓");
  assert.equal(cef.extension.get("suser"), "jürgen.müller");
  assert.equal(cef.extension.get("filePath"), hostile.FilePath);
});
