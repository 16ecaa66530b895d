// Interop with rsyslog's TLS input (imtcp with the gtls stream driver, i.e. GnuTLS) as the receiver:
// TLS with octet counting (RFC 5425) and with LF framing, mutual TLS with EC and RSA (PKCS#1) client
// keys, and the refusals: no client certificate, an untrusted server certificate, a server name the
// certificate does not cover. Certificates come from a throwaway CA made here. Skipped with a message
// where rsyslog, its TLS driver (Debian: rsyslog-gnutls) or openssl is missing, except in CI
// (MDE_REQUIRE_RSYSLOG=1), where a missing one fails the test.
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import tls from "node:tls";
import { buildForwarder } from "../../src/cli/daemon.js";
import { sampleDetection } from "../../src/cli/sample-detection.js";
import { configSchema } from "../../src/config/schema.js";
import { encodeCef } from "../../src/format/index.js";
import { silentLogger } from "../../src/log.js";
import type { Detection } from "../../src/record.js";
import { createSimulator, type Simulator } from "../../src/simulator/index.js";
import { parseCef } from "../support/cef-parser.js";
import { rawConfig } from "../support/forwarder.js";
import { hasOpenssl, makeTestPki, type TestPki } from "../support/tls-certs.js";

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

/** rsyslog's GnuTLS stream driver: <libdir>/rsyslog/lmnsd_gtls.so, libdir possibly multiarch. */
function findGtlsDriver(): string | undefined {
  const candidates: string[] = [];
  for (const base of ["/usr/lib", "/usr/lib64", "/usr/local/lib", "/lib", "/lib64"]) {
    candidates.push(join(base, "rsyslog", "lmnsd_gtls.so"));
    try {
      for (const sub of readdirSync(base)) candidates.push(join(base, sub, "rsyslog", "lmnsd_gtls.so"));
    } catch {
      // No such directory.
    }
  }
  return candidates.find((file) => existsSync(file));
}

const rsyslogd = findRsyslogd();
const gtls = rsyslogd === undefined ? undefined : findGtlsDriver();
const required = process.env.MDE_REQUIRE_RSYSLOG === "1";
const missing =
  rsyslogd === undefined
    ? "rsyslogd is not installed (apt-get install rsyslog rsyslog-gnutls)"
    : gtls === undefined
      ? "rsyslog's TLS driver lmnsd_gtls is not installed (apt-get install rsyslog-gnutls)"
      : !hasOpenssl()
        ? "the openssl CLI is not installed (it makes the test certificates)"
        : undefined;
const skip = missing !== undefined && !required ? missing : false;
if (skip) process.stderr.write(`interop/rsyslog-tls: SKIPPED: ${skip}\n`);

const HOSTNAME = "fwd-tls-interop-01";
const CLIENT_CN = "mde-forwarder-test-client";
const RSA_CLIENT_CN = "mde-forwarder-test-rsa-client";
/** Each input writes to the file of its ruleset; the refusing inputs share one with the canary. */
const INPUTS = {
  octet: { ruleset: "octet", auth: "anon" },
  lf: { ruleset: "lf", auth: "anon" },
  mtls: { ruleset: "mtls", auth: "x509/name" },
  "mtls-rsa": { ruleset: "mtls-rsa", auth: "x509/name" },
  "refuse-nocert": { ruleset: "refused", auth: "x509/name" },
  "refuse-ca": { ruleset: "refused", auth: "anon" },
  "refuse-name": { ruleset: "refused", auth: "anon" },
  canary: { ruleset: "refused", auth: "anon" },
} as const;
type InputName = keyof typeof INPUTS;

let dir = "";
let pki: TestPki | undefined;
let stranger: TestPki | undefined;
let rsyslog: ChildProcess | undefined;
let sim: Simulator | undefined;
let detections: Detection[] = [];
let hostile: Detection | undefined;
const ports = new Map<InputName, number>();

async function waitFor<T>(what: string, read: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function linesOf(ruleset: string): string[] {
  const file = join(dir, `${ruleset}.log`);
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8").split("\n").filter(Boolean);
}

function portOf(name: InputName): number {
  const port = ports.get(name);
  assert.ok(port !== undefined, `no port for ${name}`);
  return port;
}

before(async () => {
  if (skip) return;
  assert.equal(missing, undefined, `${missing} (required in CI: MDE_REQUIRE_RSYSLOG=1)`);
  assert.ok(rsyslogd);
  dir = mkdtempSync(join(tmpdir(), "mde-rsyslog-tls-"));
  pki = makeTestPki({ client: true, rsaClient: true });
  stranger = makeTestPki({ caName: "mde-forwarder-stranger-ca" });
  const rulesets = [...new Set(Object.values(INPUTS).map((i) => i.ruleset))];
  const inputs = Object.entries(INPUTS).map(([name, { ruleset, auth }]) =>
    [
      'input(type="imtcp" port="0"',
      `listenPortFileName="${dir}/${name}.port" ruleset="${ruleset}"`,
      `streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="${auth}"`,
      auth === "anon" ? "" : `permittedPeer=["${CLIENT_CN}", "${RSA_CLIENT_CN}"]`,
      ")",
    ].join(" "),
  );
  writeFileSync(
    join(dir, "rsyslog.conf"),
    [
      `global(workDirectory="${dir}" maxMessageSize="64k"`,
      `  defaultNetstreamDriverCAFile="${pki.caFile}"`,
      `  defaultNetstreamDriverCertFile="${pki.server.certFile}"`,
      `  defaultNetstreamDriverKeyFile="${pki.server.keyFile}")`,
      'module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")',
      // The fields rsyslog parsed out of our header, then the message itself.
      'template(name="fields" type="string" string="%pri%|%timereported:::date-rfc3339%|%hostname%|%app-name%|%procid%|%msgid%|%structured-data%|%msg%\\n")',
      ...rulesets.map(
        (r) =>
          `ruleset(name="${r}") { action(type="omfile" file="${dir}/${r}.log" template="fields" asyncWriting="off" flushOnTXEnd="on") }`,
      ),
      ...inputs,
      "",
    ].join("\n"),
  );
  rsyslog = spawn(rsyslogd, ["-n", "-f", join(dir, "rsyslog.conf"), "-i", join(dir, "rsyslog.pid")], {
    stdio: ["ignore", "inherit", "inherit"],
  });
  for (const name of Object.keys(INPUTS) as InputName[]) {
    const file = join(dir, `${name}.port`);
    const port = await waitFor(`rsyslog's port for ${name}`, () => {
      if (rsyslog?.exitCode !== null) throw new Error(`rsyslogd exited with ${String(rsyslog?.exitCode)}`);
      const text = existsSync(file) ? readFileSync(file, "utf8").trim() : "";
      return /^\d+$/.test(text) ? Number(text) : undefined;
    });
    ports.set(name, port);
  }
  sim = await createSimulator({ seed: 25 });
  detections = [...sim.generate(12, { from: Date.now() - 10 * 60_000, to: Date.now() - 1_000 })];
  hostile = sampleDetection(Date.now() - 500);
  sim.add([hostile]);
  detections.push(hostile);
});

after(async () => {
  if (rsyslog && rsyslog.exitCode === null) {
    const exited = new Promise((resolve) => rsyslog?.once("exit", resolve));
    rsyslog.kill("SIGTERM");
    await exited;
  }
  await sim?.close();
  pki?.cleanup();
  stranger?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A forwarder (the daemon's own wiring) with these TLS destinations, one poll done. */
async function forwarderFor(
  t: test.TestContext,
  destinations: Array<{ port: number; [key: string]: unknown }>,
) {
  assert.ok(sim);
  const stateDir = mkdtempSync(join(dir, "state-"));
  const common = {
    format: "cef",
    protocol: "tls",
    host: "127.0.0.1",
    hostname: HOSTNAME,
    facility: "local4",
  };
  const [first, ...rest] = destinations.map((d) => ({ ...common, ...d }));
  assert.ok(first);
  const raw = rawConfig({
    sim,
    receiverPort: first.port,
    stateDir,
    destination: first,
    extraDestinations: rest,
  });
  const forwarder = buildForwarder(configSchema.parse(raw), { log: silentLogger(), confirmAfterMs: 100 });
  t.after(() => forwarder.close());
  const polls = await forwarder.pipeline.pollOnce();
  assert.equal(polls[0]?.result.status, "ok");
  return forwarder;
}

/** Every detection arrived once, and every field rsyslog parsed is what the forwarder meant to send. */
async function checkDelivered(ruleset: string): Promise<void> {
  const expected = new Map(detections.map((d) => [String(d.FullId), encodeCef(d).text]));
  const severityOf: Record<string, number> = { High: 3, Medium: 4, Low: 5, Informational: 6 };
  const lines = await waitFor(`${expected.size} lines from rsyslog (${ruleset})`, () => {
    const l = linesOf(ruleset);
    return l.length >= expected.size ? l : undefined;
  });
  assert.equal(lines.length, expected.size, `${ruleset}: one line per detection, none split or merged`);
  const seen = new Set<string>();
  for (const line of lines) {
    const [pri, time, host, app, procid, msgid, sd, ...rest] = line.split("|");
    const msg = rest.join("|");
    const fullId = parseCef(msg).extension.get("cs3") ?? "";
    seen.add(fullId);
    const detection = detections.find((d) => d.FullId === fullId);
    assert.ok(detection, `${ruleset}: unknown FullId ${fullId}`);
    assert.equal(Number(pri), 20 * 8 + (severityOf[String(detection.Severity)] ?? 5), `${ruleset}: PRI`);
    assert.match(time ?? "", /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/, `${ruleset}: timestamp parsed`);
    assert.equal(host, HOSTNAME, `${ruleset}: HOSTNAME`);
    assert.equal(app, "mde-forwarder", `${ruleset}: APP-NAME`);
    assert.equal(procid, "-");
    assert.equal(msgid, "-");
    assert.equal(sd, "-");
    assert.equal(msg, expected.get(fullId), `${ruleset}: the CEF message arrived byte for byte`);
  }
  assert.equal(seen.size, expected.size, `${ruleset}: every detection arrived once`);
  // The hostile values came through intact, as parsed by a strict CEF parser.
  assert.ok(hostile);
  const hostileLine = lines.find((l) => l.includes(String(hostile?.FullId))) ?? "";
  const cef = parseCef(hostileLine.split("|").slice(7).join("|"));
  assert.equal(cef.name, hostile.AlertTitle);
  assert.equal(cef.extension.get("msg"), "Line one\nline two\r\nkey=value tab | pipe \\ backslash, 日本語 ✓");
}

/**
 * Nothing the refused destinations sent was written: a canary sent afterwards on another input of
 * the same ruleset arrives, and it is all there is (rsyslog's main queue keeps arrival order).
 */
async function checkNothingRefusedWritten(tag: string): Promise<void> {
  assert.ok(pki);
  const text = `<134>1 2024-01-01T00:00:00Z canary-host canary - - - canary ${tag}`;
  const socket = tls.connect({ host: "127.0.0.1", port: portOf("canary"), ca: pki.ca });
  await once(socket, "secureConnect");
  socket.end(`${Buffer.byteLength(text)} ${text}`);
  await once(socket, "close");
  await waitFor(`the canary ${tag}`, () =>
    linesOf("refused").some((l) => l.endsWith(` ${tag}`)) ? true : undefined,
  );
  const foreign = linesOf("refused").filter((l) => !l.includes("|canary-host|canary|"));
  assert.deepEqual(foreign, [], "rsyslog wrote nothing from a refused connection");
}

function lastError(forwarder: Awaited<ReturnType<typeof forwarderFor>>, destination: string) {
  const status = forwarder.store.status().destinations.find((d) => d.destination === destination);
  assert.ok(status, `no status for ${destination}`);
  return { code: status.lastErrorCode, message: status.lastError ?? "" };
}

test("TLS to rsyslog, octet counting (RFC 5425) and LF framing: every field arrives as sent", {
  skip,
}, async (t) => {
  assert.ok(pki);
  const forwarder = await forwarderFor(t, [
    { name: "octet", port: portOf("octet"), framing: "octet-counting", tls: { ca_file: pki.caFile } },
    // The certificate names localhost too: server_name is checked against it (and sent as SNI).
    { name: "lf", port: portOf("lf"), framing: "lf", tls: { ca_file: pki.caFile, server_name: "localhost" } },
  ]);
  assert.equal(await forwarder.pipeline.drainUntilEmpty(2), true);
  await checkDelivered("octet");
  await checkDelivered("lf");
});

test("mutual TLS with rsyslog (x509/name): EC and RSA PKCS#1 client keys get through; no certificate is refused", {
  skip,
}, async (t) => {
  assert.ok(pki?.client && pki.rsaClient);
  const forwarder = await forwarderFor(t, [
    {
      name: "mtls",
      port: portOf("mtls"),
      tls: { ca_file: pki.caFile, cert_file: pki.client.certFile, key_file: pki.client.keyFile },
    },
    {
      name: "mtls-rsa",
      port: portOf("mtls-rsa"),
      tls: { ca_file: pki.caFile, cert_file: pki.rsaClient.certFile, key_file: pki.rsaClient.pkcs1KeyFile },
    },
    { name: "nocert", port: portOf("refuse-nocert"), tls: { ca_file: pki.caFile } },
  ]);
  assert.equal(
    await forwarder.pipeline.drainUntilEmpty(1),
    false,
    "the destination without a certificate failed",
  );
  await checkDelivered("mtls");
  await checkDelivered("mtls-rsa");

  const refused = lastError(forwarder, "nocert");
  assert.equal(refused.code, "E_SINK_TLS", refused.message);
  assert.match(refused.message, /asked for a client certificate and none is configured/);
  assert.equal(forwarder.store.outboxDepths().get("nocert"), detections.length, "nothing acknowledged");
  await checkNothingRefusedWritten("mtls");
});

test("TLS verification against rsyslog: a wrong ca_file and a mismatching server_name are refused", {
  skip,
}, async (t) => {
  assert.ok(pki && stranger);
  const forwarder = await forwarderFor(t, [
    { name: "wrong-ca", port: portOf("refuse-ca"), tls: { ca_file: stranger.caFile } },
    {
      name: "wrong-name",
      port: portOf("refuse-name"),
      tls: { ca_file: pki.caFile, server_name: "siem.wrong.example" },
    },
  ]);
  assert.equal(await forwarder.pipeline.drainUntilEmpty(1), false);

  const wrongCa = lastError(forwarder, "wrong-ca");
  assert.equal(wrongCa.code, "E_SINK_TLS", wrongCa.message);
  assert.match(wrongCa.message, /TLS handshake with 127\.0\.0\.1:\d+ failed: .*certificate/);
  const wrongName = lastError(forwarder, "wrong-name");
  assert.equal(wrongName.code, "E_SINK_TLS", wrongName.message);
  assert.match(wrongName.message, /does not match.*siem\.wrong\.example/);
  await checkNothingRefusedWritten("verification");
});
