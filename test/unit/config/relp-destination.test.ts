// The destination keys of protocol relp: defaults (port 2514, window 128, TLS only with a tls block), and
// the keys that belong to other protocols refused with their path.
import assert from "node:assert/strict";
import { test } from "node:test";
import { effectiveConfig } from "../../../src/cli/check-config.js";
import { parseConfig } from "../../../src/config/load.js";
import { ConfigError } from "../../../src/errors.js";
import { usesTls } from "../../../src/sink/config.js";

function withDestination(lines: string): string {
  return `
tenants:
  - name: contoso
    tenant_id: t
    client_id: c
    client_secret: s
    region: eu
destinations:
  - name: relay
    host: relay.example.com
${lines
  .split("\n")
  .map((l) => `    ${l}`)
  .join("\n")}
`;
}

function issuesOf(text: string): string[] {
  try {
    parseConfig(text, "test.yaml", {});
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.issues.map((i) => `${i.path}: ${i.message}`);
  }
  assert.fail("expected a ConfigError");
}

test("relp: port 2514, window 128, no TLS without a tls block; the effective config says so", () => {
  const loaded = parseConfig(withDestination("protocol: relp"), "m", {});
  const d = loaded.config.destinations[0];
  assert.ok(d);
  assert.equal(d.port, 2514);
  assert.equal(d.window_size, 128);
  assert.equal(d.tls_enabled, false);
  assert.equal(usesTls(d), false);
  const shown = effectiveConfig(loaded) as { destinations: Array<Record<string, unknown>> };
  assert.equal(shown.destinations[0]?.tls_enabled, false);
  assert.equal(shown.destinations[0]?.window_size, 128);
});

test("relp: a tls block turns TLS on, even an empty one; window_size is kept", () => {
  const empty = parseConfig(withDestination("protocol: relp\nport: 20514\ntls: {}"), "m", {}).config;
  assert.equal(empty.destinations[0]?.tls_enabled, true);
  assert.equal(empty.destinations[0]?.port, 20514);
  const full = parseConfig(
    withDestination(
      "protocol: relp\nwindow_size: 512\ntls:\n  ca_file: /ca.pem\n  cert_file: /c.pem\n  key_file: /k.pem",
    ),
    "m",
    {},
  ).config.destinations[0];
  assert.ok(full);
  assert.equal(usesTls(full), true);
  assert.equal(full.window_size, 512);
  assert.equal(full.tls.ca_file, "/ca.pem");
});

test("the keys of other protocols are refused with their path; window_size only for relp", () => {
  assert.deepEqual(issuesOf(withDestination("protocol: relp\nframing: lf")), [
    "destinations[0].framing: applies to tcp and tls only",
  ]);
  assert.deepEqual(issuesOf(withDestination("protocol: tcp\nwindow_size: 64")), [
    "destinations[0].window_size: applies to relp only",
  ]);
  assert.deepEqual(issuesOf(withDestination("protocol: tcp\ntls:\n  ca_file: /ca.pem")), [
    "destinations[0].tls: is set but protocol is not tls or relp",
  ]);
  const bounds = issuesOf(withDestination("protocol: relp\nwindow_size: 0"));
  assert.deepEqual(bounds, ["destinations[0].window_size: must be at least 1"]);
  assert.match(issuesOf(withDestination("protocol: relpx")).join("\n"), /must be one of udp, tcp, tls, relp/);
  // A tls block with only defaults stays harmless on tcp, as before (the reference config has one).
  assert.equal(
    parseConfig(withDestination("protocol: tcp\ntls:\n  reject_unauthorized: true"), "m", {}).config
      .destinations[0]?.tls_enabled,
    undefined,
  );
});
