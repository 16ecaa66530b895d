// Issue 14, finding 8: a mistyped config key gets "did you mean" from the keys allowed at its path, and a
// mis-indented YAML line gives one message naming that line (not one or two per line below it).
import assert from "node:assert/strict";
import { test } from "node:test";
import { keysAt, parseConfig } from "../../../src/config/load.js";
import { configSchema } from "../../../src/config/schema.js";
import { ConfigError, type ConfigIssue } from "../../../src/errors.js";

const BASE = `tenants:
  - name: contoso
    tenant_id: t
    client_id: c
    client_secret: s
    source: graph
destinations:
  - name: arcsight
    host: 127.0.0.1
    port: 514
    tls:
      reject_unauthorized: true
metrics:
  port: 9464
`;

function issuesOf(text: string): readonly ConfigIssue[] {
  try {
    parseConfig(text, "c.yaml", {});
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.issues;
  }
  assert.fail("the config was accepted");
}

test("finding 8: an unknown key names the allowed key it most looks like, on its own line", () => {
  assert.doesNotThrow(() =>
    parseConfig(BASE.replace("port: 514", "port: 514\n    protocol: tls"), "c.yaml", {}),
  );
  const issues = issuesOf(
    BASE.replace("source: graph", "sorce: graph")
      .replace("port: 514", "port: 514\n    protocl: tcp\n    colour: blue")
      .replace("reject_unauthorized", "reject_unauthorised")
      .replace("metrics:", "metrcs:"),
  );
  const byKey = new Map(issues.map((i) => [/unknown key "([^"]+)"/.exec(i.message)?.[1], i]));
  assert.deepEqual(byKey.get("sorce"), {
    path: "tenants[0]",
    line: 6,
    message: 'unknown key "sorce"; did you mean "source"?',
  });
  assert.equal(byKey.get("protocl")?.message, 'unknown key "protocl"; did you mean "protocol"?');
  assert.equal(byKey.get("protocl")?.line, 11);
  assert.equal(byKey.get("colour")?.message, 'unknown key "colour"', "nothing close: no suggestion");
  assert.equal(byKey.get("colour")?.line, 12);
  assert.equal(
    byKey.get("reject_unauthorised")?.message,
    'unknown key "reject_unauthorised"; did you mean "reject_unauthorized"?',
  );
  assert.equal(byKey.get("reject_unauthorised")?.path, "destinations[0].tls");
  assert.equal(byKey.get("metrcs")?.message, 'unknown key "metrcs"; did you mean "metrics"?');
});

test("finding 8: the allowed keys are read from the schema at any path", () => {
  assert.ok(keysAt(configSchema, []).includes("destinations"));
  assert.ok(keysAt(configSchema, ["tenants", 0]).includes("service_sources"));
  assert.ok(keysAt(configSchema, ["destinations", 3, "tls"]).includes("ca_file"));
  assert.ok(keysAt(configSchema, ["poll"]).includes("lookback"));
  assert.deepEqual(keysAt(configSchema, ["poll", "lookback"]), []);
});

test("finding 8: one mis-indented line gives one message, with its own line", () => {
  const cases: Array<[string, string, number, string, RegExp]> = [
    // A key indented deeper than the one before it (which has a value): the parser blames line 3.
    [
      "    client_id: c",
      "      client_id: c",
      4,
      "tenants[0].client_id",
      /column 7 is deeper than the key on line 3/,
    ],
    // A key between two levels: the parser says "a quote or bracket is not closed".
    [
      "    port: 514",
      "   port: 514",
      10,
      "destinations[0].port",
      /no block above starts at column 4 \(its neighbours start at column 5\)/,
    ],
    // A list item's dash one column off: the parser gives two messages for each line of the item.
    [
      "  - name: arcsight",
      " - name: arcsight",
      8,
      "destinations[0]",
      /keys of this list item do not line up/,
    ],
    // A key at the column of the list's dashes.
    [
      "    client_id: c",
      "  client_id: c",
      4,
      "tenants[0].client_id",
      /indent it to column 5 with the item's other keys/,
    ],
    ["metrics:", " metrics:", 13, "metrics", /no block above starts at column 2/],
  ];
  for (const [from, to, line, path, message] of cases) {
    const text = BASE.replace(from, to);
    const issues = issuesOf(text);
    assert.equal(issues.length, 1, `${to}: ${JSON.stringify(issues)}`);
    assert.equal(issues[0]?.line, line, to);
    assert.equal(issues[0]?.path, path, to);
    assert.match(issues[0]?.message ?? "", /^YAML: wrong indentation: /);
    assert.match(issues[0]?.message ?? "", message);
  }
  // Other syntax errors keep the parser's own (single) message.
  const colon = issuesOf(BASE.replace("    host: 127.0.0.1", "    host 127.0.0.1"));
  assert.equal(colon.length, 1);
  assert.match(colon[0]?.message ?? "", /YAML: a key spans several lines/);
  const tab = issuesOf(BASE.replace("    host: 127.0.0.1", "\thost: 127.0.0.1"));
  assert.equal(tab.length, 1);
  assert.match(tab[0]?.message ?? "", /YAML: a tab used for indentation/);
});
