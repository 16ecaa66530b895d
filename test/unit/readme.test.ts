// The README is part of the contract: its error-code table and metric list must follow the code, and its
// configuration section must lead to the generated reference. This fails when a code or metric is added
// without documenting it (or the reverse).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { parse } from "yaml";
import { ERROR_CODES } from "../../src/errors.js";
import { API_STATUSES, ERROR_STAGES } from "../../src/events/index.js";
import { createMetrics } from "../../src/metrics/definitions.js";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

function section(title: string): string {
  const start = readme.indexOf(`\n## ${title}\n`);
  assert.ok(start !== -1, `README has a "## ${title}" section`);
  const end = readme.indexOf("\n## ", start + 4);
  return readme.slice(start, end === -1 ? undefined : end);
}

test("every error code is in the README's table with its class, and nothing else is", () => {
  const table = section("Error codes");
  const documented = new Map(
    [...table.matchAll(/^\| `(E_[A-Z_]+)`\s*\| (\w+)\s*\|/gm)].map((m) => [m[1] ?? "", m[2] ?? ""]),
  );
  for (const [code, cls] of Object.entries(ERROR_CODES)) {
    assert.equal(documented.get(code), cls, `${code} documented as ${cls}`);
  }
  assert.deepEqual([...documented.keys()].sort(), Object.keys(ERROR_CODES).sort());
});

test("every mde_ metric is in the README's metric table with its type", async () => {
  const table = section("Metrics and health");
  const metrics = createMetrics({ defaultMetrics: false });
  const all = await metrics.registry.getMetricsAsJSON();
  const ours = all.filter((m) => m.name.startsWith("mde_"));
  assert.ok(ours.length >= 14);
  for (const m of ours) {
    const row = new RegExp(`^\\| \`${m.name}\`\\s*\\| ${m.type}\\s*\\|`, "m");
    assert.match(table, row, `${m.name} (${m.type}) documented`);
  }
  const documented = [...table.matchAll(/^\| `(mde_[a-z_]+)`\s*\|/gm)].map((m) => m[1]);
  assert.deepEqual(documented.sort(), ours.map((m) => m.name).sort());
});

test("the README's stage list of mde_errors_total is the events' stages, its statuses the declared ones", () => {
  const table = section("Metrics and health");
  const row = (metric: string): string => {
    const line = table.split("\n").find((l) => l.startsWith(`| \`${metric}\``));
    assert.ok(line, `a row for ${metric}`);
    return line;
  };
  const stages = /stage is ((?:`[a-z]+`(?:, | or ))*`[a-z]+`)/.exec(row("mde_errors_total"))?.[1] ?? "";
  assert.deepEqual(
    [...stages.matchAll(/`([a-z]+)`/g)].map((m) => m[1]),
    [...ERROR_STAGES],
  );
  const statuses =
    /\); ((?:\d{3}, )+\d{3} and `error`) exist at 0/.exec(row("mde_api_requests_total"))?.[1] ?? "";
  assert.deepEqual(
    [...statuses.matchAll(/(\d{3})|`(error)`/g)].map((m) => m[1] ?? m[2]),
    [...API_STATUSES],
  );
});

// The configuration reference itself is generated from the schema: test/unit/config/docs.test.ts checks
// that docs/configuration.md and config/forwarder.reference.yaml are current and name every key.
test("the README's configuration reference points to the generated one, which has every section", () => {
  const table = section("Configuration reference");
  assert.match(table, /\(docs\/configuration\.md\)/);
  assert.match(table, /\(config\/forwarder\.reference\.yaml\)/);
  const reference = parse(
    readFileSync(new URL("../../config/forwarder.reference.yaml", import.meta.url), "utf8"),
  ) as object;
  const docs = readFileSync(new URL("../../docs/configuration.md", import.meta.url), "utf8");
  for (const top of Object.keys(reference)) {
    assert.match(docs, new RegExp(`^## \`${top}(\\[\\])?\``, "m"), `section ${top}`);
  }
});

test("the README's first screen gives the two commands", () => {
  const head = readme.split("\n").slice(0, 12).join("\n");
  assert.match(head, /npm ci && npm run demo/);
  assert.match(head, /npm ci && npm test/);
});
