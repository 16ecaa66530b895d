// The README is part of the contract: its error-code table, metric list and config reference must follow
// the code. This fails when a code, metric or key is added without documenting it (or the reverse).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { parse } from "yaml";
import { ERROR_CODES } from "../../src/errors.js";
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

test("every key of the reference config is in the README's configuration reference", () => {
  const reference = parse(
    readFileSync(new URL("../../config/forwarder.reference.yaml", import.meta.url), "utf8"),
  );
  const table = section("Configuration reference");
  const keys = new Set<string>();
  const sections = Object.keys(reference as object);
  for (const top of sections)
    assert.match(table, new RegExp(`^### \`${top}(\\[\\])?\``, "m"), `section ${top}`);
  // Keys of a section or list item are documented as `key`; keys of an object nested in one (tls, include,
  // exclude) as `parent.key`.
  const walk = (value: unknown, path: string, depth: number) => {
    if (Array.isArray(value)) {
      for (const item of value) walk(item, path, depth);
    } else if (value !== null && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) {
        const nested = v !== null && typeof v === "object" && !Array.isArray(v);
        const key = depth >= 2 ? `${path}.${k}` : k;
        if (depth >= 1 && !(depth === 1 && nested)) keys.add(key);
        walk(v, depth >= 2 ? key : k, depth + 1);
      }
    }
  };
  walk(reference, "", 0);
  for (const key of keys) assert.ok(table.includes(`\`${key}\``), `config key ${key} documented`);
});

test("the README's first screen gives the two commands", () => {
  const head = readme.split("\n").slice(0, 12).join("\n");
  assert.match(head, /npm ci && npm run demo/);
  assert.match(head, /npm ci && npm test/);
});
