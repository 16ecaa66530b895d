// Interop with rsyslog's RELP input (imrelp, Debian package rsyslog-relp) as the receiver, plain and over TLS.
// Debian's imrelp does TLS with GnuTLS only and, once it has a certificate, always authenticates the client
// (fingerprint by default; here `name` with a permitted peer): RELP over TLS to rsyslog means mutual TLS. The
// refusals: no client certificate, and a receiver certificate our CA did not issue. rsyslog parses our
// RFC 5424 header and writes what it understood; every field is checked against what the forwarder meant to
// send. Skipped with a message where rsyslog, imrelp or openssl is missing, except in CI
// (MDE_REQUIRE_RSYSLOG=1), where a missing one fails the test.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { parse } from "yaml";
import { buildForwarder } from "../../src/cli/daemon.js";
import { sampleDetection } from "../../src/cli/sample-detection.js";
import { configSchema } from "../../src/config/schema.js";
import { createEvents } from "../../src/events/index.js";
import { buildFormatConfig, createFormatter } from "../../src/format/index.js";
import { silentLogger } from "../../src/log.js";
import { createMetrics } from "../../src/metrics/definitions.js";
import type { Detection } from "../../src/record.js";
import { createSimulator, type Simulator } from "../../src/simulator/index.js";
import { createSink } from "../../src/sink/index.js";
import { parseCef } from "../support/cef-parser.js";
import { ROOT, rawConfig } from "../support/forwarder.js";
import { startReceiver } from "../support/receiver.js";
import { hasOpenssl, makeTestPki, type TestPki } from "../support/tls-certs.js";
import {
  findRsyslogd,
  findRsyslogModule,
  freeTcpPort,
  type Rsyslog,
  rsyslogProcess,
} from "./support/rsyslog.js";

const rsyslogd = findRsyslogd();
const required = process.env.MDE_REQUIRE_RSYSLOG === "1";
const missing =
  rsyslogd === undefined
    ? "rsyslogd is not installed (apt-get install rsyslog rsyslog-relp)"
    : findRsyslogModule("imrelp") === undefined
      ? "rsyslog's imrelp is not installed (apt-get install rsyslog-relp)"
      : !hasOpenssl()
        ? "the openssl CLI is not installed (it makes the test certificates)"
        : undefined;
const skip = missing !== undefined && !required ? missing : false;
if (skip) process.stderr.write(`interop/rsyslog-relp: SKIPPED: ${skip}\n`);

const HOSTNAME = "fwd-relp-interop-01";
const CLIENT_CN = "mde-forwarder-test-client";
const RULESETS = ["plain", "tls"] as const;

let dir = "";
let pki: TestPki | undefined;
let stranger: TestPki | undefined;
let rsyslog: Rsyslog | undefined;
let sim: Simulator | undefined;
let detections: Detection[] = [];
let hostile: Detection | undefined;
const ports = { plain: 0, tls: 0 };

function linesOf(ruleset: string): string[] {
  const file = join(dir, `${ruleset}.log`);
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8").split("\n").filter(Boolean);
}

before(async () => {
  if (skip) return;
  assert.equal(missing, undefined, `${missing} (required in CI: MDE_REQUIRE_RSYSLOG=1)`);
  assert.ok(rsyslogd);
  dir = mkdtempSync(join(tmpdir(), "mde-rsyslog-relp-"));
  pki = makeTestPki({ client: true });
  stranger = makeTestPki({ caName: "mde-forwarder-stranger-ca" });
  ports.plain = await freeTcpPort();
  ports.tls = await freeTcpPort();
  const configFile = join(dir, "rsyslog.conf");
  writeFileSync(
    configFile,
    [
      `global(workDirectory="${dir}" maxMessageSize="64k")`,
      'module(load="imrelp")',
      // The fields rsyslog parsed out of our header, then the message itself.
      'template(name="fields" type="string" string="%pri%|%timereported:::date-rfc3339%|%hostname%|%app-name%|%procid%|%msgid%|%structured-data%|%msg%\\n")',
      ...RULESETS.map(
        (r) =>
          `ruleset(name="${r}") { action(type="omfile" file="${dir}/${r}.log" template="fields" asyncWriting="off" flushOnTXEnd="on") }`,
      ),
      `input(type="imrelp" port="${ports.plain}" ruleset="plain")`,
      [
        `input(type="imrelp" port="${ports.tls}" ruleset="tls" tls="on"`,
        `tls.caCert="${pki.caFile}" tls.myCert="${pki.server.certFile}" tls.myPrivKey="${pki.server.keyFile}"`,
        `tls.authMode="name" tls.permittedPeer=["${CLIENT_CN}"])`,
      ].join(" "),
      "",
    ].join("\n"),
  );
  rsyslog = rsyslogProcess(rsyslogd, dir, configFile, [ports.plain, ports.tls]);
  await rsyslog.start();
  sim = await createSimulator({ seed: 35 });
  detections = [...sim.generate(20, { from: Date.now() - 10 * 60_000, to: Date.now() - 1_000 })];
  hostile = sampleDetection(Date.now() - 500);
  sim.add([hostile]);
  detections.push(hostile);
});

after(async () => {
  await rsyslog?.stop();
  await sim?.close();
  pki?.cleanup();
  stranger?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("rsyslog's imrelp takes every detection, plain and over mutual TLS, every field intact", {
  skip,
}, async (t) => {
  assert.ok(sim && pki?.client);
  const stateDir = mkdtempSync(join(dir, "state-"));
  const common = {
    format: "cef",
    protocol: "relp",
    host: "127.0.0.1",
    hostname: HOSTNAME,
    facility: "local4",
  };
  const raw = rawConfig({
    sim,
    receiverPort: ports.plain,
    stateDir,
    destination: { ...common, name: "plain" },
    extraDestinations: [
      {
        ...common,
        name: "tls",
        port: ports.tls,
        tls: {
          ca_file: pki.caFile,
          cert_file: pki.client.certFile,
          key_file: pki.client.keyFile,
          server_name: "localhost",
        },
      },
    ],
  });
  const config = configSchema.parse(raw);
  const forwarder = buildForwarder(config, { log: silentLogger() });
  t.after(() => forwarder.close());
  const polls = await forwarder.pipeline.pollOnce();
  assert.equal(polls[0]?.result.status, "ok");
  assert.equal(await forwarder.pipeline.drainUntilEmpty(2), true);

  const severityOf: Record<string, number> = { High: 3, Medium: 4, Low: 5, Informational: 6 };
  for (const name of RULESETS) {
    const destination = config.destinations.find((d) => d.name === name);
    assert.ok(destination);
    const formatter = createFormatter(buildFormatConfig(destination));
    const expected = new Map(
      detections.map((d) => {
        const text = formatter.format(d).bytes.toString("utf8");
        return [String(d.FullId), text.slice(text.indexOf("CEF:"))];
      }),
    );
    // Acknowledged means written: no waiting for the file.
    const lines = linesOf(name);
    assert.equal(
      lines.length,
      expected.size,
      `${name}: one line per detection, as soon as the outbox drained`,
    );
    const seen = new Set<string>();
    for (const line of lines) {
      const [pri, time, host, app, procid, msgid, sd, ...rest] = line.split("|");
      const msg = rest.join("|");
      const fullId = parseCef(msg).extension.get("cs3") ?? "";
      seen.add(fullId);
      const detection = detections.find((d) => d.FullId === fullId);
      assert.ok(detection, `${name}: unknown FullId ${fullId}`);
      assert.equal(Number(pri), 20 * 8 + (severityOf[String(detection.Severity)] ?? 5), `${name}: PRI`);
      assert.match(time ?? "", /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/, `${name}: timestamp parsed`);
      assert.equal(host, HOSTNAME, `${name}: HOSTNAME`);
      assert.equal(app, "mde-forwarder", `${name}: APP-NAME`);
      assert.deepEqual([procid, msgid, sd], ["-", "-", "-"]);
      assert.equal(msg, expected.get(fullId), `${name}: the CEF message arrived byte for byte`);
    }
    assert.equal(seen.size, expected.size, `${name}: every detection arrived once`);
  }
  const hostileLine = linesOf("tls").find((l) => l.includes(String(hostile?.FullId))) ?? "";
  const cef = parseCef(hostileLine.split("|").slice(7).join("|"));
  assert.equal(cef.extension.get("msg"), "Line one\nline two\r\nkey=value tab | pipe \\ backslash, 日本語 ✓");
  assert.equal(cef.extension.get("suser"), "jürgen.müller");
});

test("imrelp over TLS refuses a client without a certificate; we refuse a receiver certificate we cannot verify", {
  skip,
}, async (t) => {
  assert.ok(pki?.client && stranger);
  const base = {
    name: "refused",
    protocol: "relp" as const,
    host: "127.0.0.1",
    port: ports.tls,
    framing: "lf" as const,
    tls_enabled: true,
    window_size: 128,
    connect_timeout: 5_000,
    write_timeout: 5_000,
  };
  const message = "<134>1 2026-01-01T00:00:00Z host mde - - - refused";
  const noCert = createSink(
    { ...base, tls: { ca_file: pki.caFile, server_name: "localhost", reject_unauthorized: true } },
    { log: silentLogger(), events: createEvents({ metrics: createMetrics({ defaultMetrics: false }) }) },
  );
  t.after(() => noCert.close(100));
  await assert.rejects(noCert.send([message]), (err: unknown) => {
    const e = err as { code?: string; message?: string };
    assert.equal(e.code, "E_SINK_TLS", String(err));
    assert.match(e.message ?? "", /dropped by the receiver right after the handshake/);
    assert.match(e.message ?? "", /none is configured \(tls\.cert_file, tls\.key_file\)/);
    return true;
  });
  const untrusted = createSink(
    {
      ...base,
      tls: {
        ca_file: stranger.caFile,
        cert_file: pki.client.certFile,
        key_file: pki.client.keyFile,
        server_name: "localhost",
        reject_unauthorized: true,
      },
    },
    { log: silentLogger(), events: createEvents({ metrics: createMetrics({ defaultMetrics: false }) }) },
  );
  t.after(() => untrusted.close(100));
  await assert.rejects(untrusted.send([message]), (err: unknown) => {
    const e = err as { code?: string; message?: string };
    assert.equal(e.code, "E_SINK_TLS", String(err));
    assert.match(e.message ?? "", /certificate/);
    return true;
  });
  assert.ok(!linesOf("tls").some((l) => l.endsWith(" refused")), "nothing got through");
});

test("docs/siem-relay.md's recipe, as written: forwarder -> rsyslog (imrelp, disk-assisted queue, omfwd) -> the SIEM", {
  skip,
}, async (t) => {
  assert.ok(rsyslogd && sim);
  const section = readFileSync(join(ROOT, "docs/siem-relay.md"), "utf8");
  assert.match(section, /^# Acknowledged delivery to an rsyslog relay \(RELP\)$/m, "the relay recipe's page");
  const blocks = [...section.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)];
  const yamlBlock = blocks.find((b) => b[1] === "yaml")?.[2];
  const relayBlock = blocks.find((b) => b[1] === "")?.[2];
  assert.ok(yamlBlock && relayBlock, "the recipe has the forwarder's YAML and the relay's rsyslog config");

  // The stand-in for ArcSight: a plain TCP syslog receiver (LF framing, as omfwd sends).
  const siem = await startReceiver({ protocol: "tcp" });
  t.after(() => siem.close());
  const relayDir = mkdtempSync(join(dir, "relay-"));
  const relayPort = await freeTcpPort();
  let relayConfig = relayBlock;
  for (const [from, to] of [
    ['workDirectory="/var/spool/rsyslog"', `workDirectory="${relayDir}"`],
    ['target="arcsight-connector.example.com" port="514"', `target="127.0.0.1" port="${siem.port}"`],
    ['input(type="imrelp" port="2514"', `input(type="imrelp" port="${relayPort}"`],
  ] as const) {
    assert.ok(relayConfig.includes(from), `the recipe still has ${from}`);
    relayConfig = relayConfig.replace(from, to);
  }
  writeFileSync(join(relayDir, "relay.conf"), relayConfig);
  const relay = rsyslogProcess(rsyslogd, relayDir, join(relayDir, "relay.conf"), [relayPort]);
  t.after(() => relay.stop());
  await relay.start();

  const recipe = parse(yamlBlock) as { destinations: Array<{ protocol?: unknown }> };
  const destination = { ...recipe.destinations[0], host: "127.0.0.1", port: relayPort, hostname: HOSTNAME };
  assert.equal(destination.protocol, "relp");
  const config = configSchema.parse(
    rawConfig({ sim, receiverPort: relayPort, stateDir: mkdtempSync(join(dir, "state-")), destination }),
  );
  const forwarder = buildForwarder(config, { log: silentLogger() });
  t.after(() => forwarder.close());
  await forwarder.pipeline.pollOnce();
  assert.equal(await forwarder.pipeline.drainUntilEmpty(2), true);

  await siem.waitForMessages(detections.length, 15_000);
  const formatter = createFormatter(
    buildFormatConfig(config.destinations[0] ?? assert.fail("no destination")),
  );
  const expected = new Map(
    detections.map((d) => {
      const text = formatter.format(d).bytes.toString("utf8");
      return [String(d.FullId), text];
    }),
  );
  const seen = new Set<string>();
  for (const message of siem.messages) {
    const cef = message.slice(message.indexOf("CEF:"));
    const fullId = parseCef(cef).extension.get("cs3") ?? "";
    const sent = expected.get(fullId);
    assert.ok(sent, `unknown FullId ${fullId}`);
    seen.add(fullId);
    // RSYSLOG_SyslogProtocol23Format rebuilds the RFC 5424 header from what rsyslog parsed out of ours.
    const [head, , host, app, procid, msgid, sd] = message.split(" ");
    assert.equal(head, sent.split(" ")[0], "PRI and version passed on");
    assert.deepEqual([host, app, procid, msgid, sd], [HOSTNAME, "mde-forwarder", "-", "-", "-"]);
    assert.equal(cef, sent.slice(sent.indexOf("CEF:")), "the CEF message passed on byte for byte");
  }
  assert.equal(seen.size, expected.size, "every detection reached the SIEM through the relay");
});
