import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { loadConfigFile, parseConfig } from "../../../src/config/load.js";
import { parseDuration } from "../../../src/config/types.js";
import { ConfigError } from "../../../src/errors.js";

const dir = mkdtempSync(join(tmpdir(), "mde-config-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const ENV = { MDE_TENANT_ID: "tid", MDE_CLIENT_ID: "cid", MDE_CLIENT_SECRET: "s3cret" };

const MINIMAL = `
tenants:
  - name: contoso
    tenant_id: t
    client_id: c
    client_secret: s
    region: eu
destinations:
  - name: arcsight
    host: 127.0.0.1
`;

function issuesOf(text: string, env: Record<string, string> = {}) {
  try {
    parseConfig(text, "test.yaml", env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.issues;
  }
  assert.fail("expected a ConfigError");
}

test("the bundled example and reference configs load", () => {
  const example = loadConfigFile("config/forwarder.example.yaml", ENV).config;
  assert.equal(example.tenants[0]?.client_secret, "s3cret");
  assert.equal(example.destinations[0]?.port, 514);
  const reference = loadConfigFile("config/forwarder.reference.yaml", {}).config;
  // The reference documents the defaults: loading it must give the same values as leaving keys out.
  const defaults = parseConfig(MINIMAL, "minimal", {}).config;
  assert.deepEqual(reference.poll, defaults.poll);
  assert.deepEqual(reference.state, defaults.state);
  assert.deepEqual(reference.metrics, defaults.metrics);
  assert.deepEqual(reference.log, defaults.log);
  const { name: _a, host: _b, ...refDest } = reference.destinations[0] ?? { name: "", host: "" };
  const { name: _c, host: _d, ...defDest } = defaults.destinations[0] ?? { name: "", host: "" };
  assert.deepEqual(refDest, defDest);
});

test("defaults fill in and durations parse", () => {
  const { config } = parseConfig(MINIMAL, "m", {});
  assert.equal(config.poll.lookback, 2 * 3_600_000);
  assert.equal(config.poll.overlap, 5 * 60_000);
  assert.equal(config.poll.max_per_request, 5000);
  assert.equal(config.state.retention, 7 * 86_400_000);
  assert.equal(config.destinations[0]?.protocol, "tcp");
  assert.equal(config.destinations[0]?.framing, "lf");
  assert.equal(config.tenants[0]?.authority_host, "https://login.microsoftonline.com");
  assert.equal(parseDuration("250ms"), 250);
  assert.equal(parseDuration("7d"), 7 * 86_400_000);
  assert.equal(parseDuration("1.5h"), 5_400_000);
  assert.equal(parseDuration("5 minutes"), undefined);
});

test("tls defaults to port 6514 and octet counting", () => {
  const { config } = parseConfig(
    MINIMAL.replace("host: 127.0.0.1", "host: 127.0.0.1\n    protocol: tls"),
    "m",
    {},
  );
  assert.equal(config.destinations[0]?.port, 6514);
  assert.equal(config.destinations[0]?.framing, "octet-counting");
  assert.equal(config.destinations[0]?.tls.reject_unauthorized, true);
});

test("every problem is reported at once, with its key path and line", () => {
  const text = `tenants:
  - name: Contoso!
    tenant_id: t
    client_id: c
    client_secret: s
    api_url: http://wdatp.example.com
destinations:
  - name: arcsight
    host: 127.0.0.1
    port: 99999
    protocl: tcp
poll:
  overlap: soon
`;
  const issues = issuesOf(text);
  const byPath = new Map(issues.map((i) => [i.path, i]));
  assert.equal(byPath.get("tenants[0].name")?.line, 2);
  assert.match(byPath.get("tenants[0].name")?.message ?? "", /\[a-z0-9_-\]/);
  assert.equal(byPath.get("tenants[0].api_url")?.line, 6);
  assert.match(byPath.get("tenants[0].api_url")?.message ?? "", /loopback/);
  assert.equal(byPath.get("destinations[0].port")?.line, 10);
  assert.equal(byPath.get("destinations[0]")?.line, 11, "unknown key points at its own line");
  assert.match(byPath.get("destinations[0]")?.message ?? "", /unknown key "protocl"/);
  assert.equal(byPath.get("poll.overlap")?.line, 13);
  assert.ok(issues.length >= 5);
});

test("missing keys and a missing tenant list are named", () => {
  const issues = issuesOf("destinations:\n  - name: a\n");
  const paths = issues.map((i) => `${i.path}: ${i.message}`);
  assert.ok(paths.includes("tenants: is required"), paths.join("\n"));
  assert.ok(paths.includes("destinations[0].host: is required"), paths.join("\n"));
  const noRegion = issuesOf(MINIMAL.replace("    region: eu\n", ""));
  assert.equal(noRegion[0]?.path, "tenants[0].region");
  assert.match(noRegion[0]?.message ?? "", /region .* or api_url/);
});

test("duplicate names are rejected", () => {
  const text = `${MINIMAL}  - name: arcsight\n    host: 10.0.0.1\n`;
  const issues = issuesOf(text);
  assert.equal(issues[0]?.path, "destinations[1].name");
  assert.equal(issues[0]?.line, 11);
});

test("${VAR} and ${VAR:-default} expand; an unset variable is an error naming it", () => {
  const text = MINIMAL.replace("client_secret: s", "client_secret: ${SECRET}").replace(
    "host: 127.0.0.1",
    "host: ${HOST:-10.1.2.3}\n    port: ${PORT:-6514}",
  );
  const { config } = parseConfig(text, "m", { SECRET: "x$y" });
  assert.equal(config.tenants[0]?.client_secret, "x$y");
  assert.equal(config.destinations[0]?.host, "10.1.2.3");
  assert.equal(config.destinations[0]?.port, 6514);
  const issues = issuesOf(text);
  assert.equal(issues[0]?.path, "tenants[0].client_secret");
  assert.equal(issues[0]?.line, 6);
  assert.match(issues[0]?.message ?? "", /SECRET is not set/);
  assert.equal(
    parseConfig(MINIMAL.replace("client_secret: s", "client_secret: a$$b"), "m", {}).config.tenants[0]
      ?.client_secret,
    "a$b",
  );
});

test("client_secret_file reads the secret from a file; errors never show it", () => {
  const file = join(dir, "secret");
  writeFileSync(file, "from-file\n");
  const text = MINIMAL.replace("client_secret: s", `client_secret_file: ${file}`);
  const loaded = parseConfig(text, "m", {});
  assert.equal(loaded.config.tenants[0]?.client_secret, "from-file");
  assert.equal(loaded.secretFiles.get("tenants[0].client_secret"), file);
  const both = issuesOf(
    MINIMAL.replace("client_secret: s", `client_secret: s\n    client_secret_file: ${file}`),
  );
  assert.match(both[0]?.message ?? "", /either client_secret or client_secret_file/);
  const missing = issuesOf(MINIMAL.replace("client_secret: s", `client_secret_file: ${join(dir, "nope")}`));
  assert.match(missing[0]?.message ?? "", /ENOENT/);
});

test("a YAML syntax error names its line", () => {
  const issues = issuesOf("tenants:\n  - name: a\n   bad: [\n");
  assert.ok(issues[0]?.line !== undefined);
  assert.match(issues[0]?.message ?? "", /^YAML/);
});

test("an unreadable file is E_CONFIG_READ", () => {
  assert.throws(
    () => loadConfigFile(join(dir, "missing.yaml")),
    (err: unknown) =>
      err instanceof ConfigError && err.code === "E_CONFIG_READ" && /not found/.test(err.message),
  );
});

test("framing is refused for udp and an invalid cron schedule is named", () => {
  const issues = issuesOf(
    `${MINIMAL.replace("host: 127.0.0.1", "host: 127.0.0.1\n    protocol: udp\n    framing: lf")}poll:\n  schedule: "every minute"\n`,
  );
  const paths = issues.map((i) => i.path);
  assert.ok(paths.includes("destinations[0].framing"));
  assert.ok(paths.includes("poll.schedule"));
});
