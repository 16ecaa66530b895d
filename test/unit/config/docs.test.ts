// The configuration reference is generated from the schema (src/config/docs.ts, `npm run docs`): these
// tests fail when a generated file falls behind the schema, when a key has no description, and when what
// the reference says about a key (the sources it applies to) differs from what the schema enforces.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { stringify } from "yaml";
import { GENERATED } from "../../../src/config/docs.js";
import { keyDocs } from "../../../src/config/key-doc.js";
import { parseConfig } from "../../../src/config/load.js";
import { configSchema, SECRET_KEYS } from "../../../src/config/schema.js";
import { allKeys, elementOf } from "../../../src/config/schema-walk.js";
import { ConfigError } from "../../../src/errors.js";
import type { SourceKind } from "../../../src/record.js";
import { SOURCES } from "../../../src/source/clouds.js";

const read = (path: string) => readFileSync(new URL(`../../../${path}`, import.meta.url), "utf8");

for (const { path, render } of GENERATED) {
  test(`${path} is what \`npm run docs\` makes from the schema`, () => {
    // Compared as text, so the first differing line says what is stale.
    assert.equal(read(path), render(), `${path} is stale: run npm run docs and commit the result`);
  });
}

test("every key of the schema has a description, and the reference names it", () => {
  const markdown = read("docs/configuration.md");
  const yaml = read("config/forwarder.reference.yaml");
  const keys = allKeys(configSchema);
  assert.ok(keys.length > 80, `${keys.length} keys`);
  for (const { path, key, doc, schema } of keys) {
    const where = path.join(".");
    // A list section (tenants, destinations) is documented by its items' schema.
    const documented = doc ?? keyDocs.get(elementOf(schema) ?? schema);
    assert.ok(documented !== undefined && documented.description.trim() !== "", `${where} has a description`);
    // In the Markdown as `key` (nested: `parent.key`, a section as its heading); in the YAML as `key:`.
    const label =
      path
        .filter((p) => p !== "[]")
        .slice(1)
        .join(".") || key;
    assert.ok(markdown.includes(`\`${label}\``), `docs/configuration.md documents ${where}`);
    assert.match(yaml, new RegExp(`^\\s*(# )?(- )?${key}:`, "m"), `the reference YAML shows ${where}`);
  }
});

test("the reference reads well in a terminal: no line of docs/configuration.md is over 180 characters", () => {
  const long = read("docs/configuration.md")
    .split("\n")
    .filter((line) => line.length > 180);
  assert.deepEqual(long, []);
});

test("secret keys are the ones the schema marks, and the reference says how to put them in a file", () => {
  assert.deepEqual([...SECRET_KEYS].sort(), ["client_secret", "password"]);
  const yaml = read("config/forwarder.reference.yaml");
  for (const key of SECRET_KEYS) assert.match(yaml, new RegExp(`# ${key}_file: `), key);
});

/** A tenant of `source` that validates, as YAML lines. */
function tenantOf(source: SourceKind): string[] {
  return [
    "  - name: t",
    `    source: ${source}`,
    "    tenant_id: t",
    "    client_id: c",
    "    client_secret: s",
    ...(source === "siem" ? ["    region: eu"] : []),
  ];
}

function issuesOf(tenant: string[]): Array<{ path: string; message: string }> {
  const text = ["tenants:", ...tenant, "destinations:", "  - name: d", "    host: 127.0.0.1", ""].join("\n");
  try {
    parseConfig(text, "t.yaml", {});
    return [];
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.issues.map((i) => ({ path: i.path, message: i.message }));
  }
}

test("a tenant key documented for some sources is refused with the others, and accepted with its own", () => {
  const restricted = allKeys(configSchema).filter((k) => k.path[0] === "tenants" && k.doc?.sources);
  assert.ok(restricted.length >= 6, restricted.map((k) => k.key).join(", "));
  for (const { key, doc } of restricted) {
    const sources = doc?.sources ?? [];
    const value = stringify(doc?.example, { collectionStyle: "flow" }).trim();
    for (const source of SOURCES) {
      const issues = issuesOf([
        ...tenantOf(source).filter((l) => !l.startsWith(`    ${key}:`)),
        `    ${key}: ${value}`,
      ]);
      const named = issues.filter((i) => i.path === `tenants[0].${key}`);
      if (sources.includes(source)) assert.deepEqual(issues, [], `${key} with source ${source}`);
      else assert.equal(named.length, 1, `${key} with source ${source}: ${JSON.stringify(issues)}`);
    }
  }
});
