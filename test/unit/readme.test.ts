// The README and the docs/ pages are part of the contract: the error-code table (docs/runbook.md) and the
// metric table (docs/monitoring.md) must follow the code, the README's configuration section must lead to
// the generated reference, and the examples must show what the program does. This fails when a code or
// metric is added without documenting it (or the reverse).
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { parse } from "yaml";
import { CLOCK_SKEW_MS } from "../../src/cli/state.js";
import { ERROR_CODES } from "../../src/errors.js";
import { API_STATUSES, ERROR_STAGES } from "../../src/events/index.js";
import { createLogger } from "../../src/log.js";
import { createMetrics } from "../../src/metrics/definitions.js";

function read(path: string): string {
  return readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");
}

/** The `## title` section of a page, up to the next `## ` heading. */
function section(path: string, title: string): string {
  const text = read(path);
  const start = text.indexOf(`\n## ${title}\n`);
  assert.ok(start !== -1, `${path} has a "## ${title}" section`);
  const end = text.indexOf("\n## ", start + 4);
  return text.slice(start, end === -1 ? undefined : end);
}

test("every error code is in docs/runbook.md's table with its class, and nothing else is", () => {
  const table = section("docs/runbook.md", "Error codes");
  const documented = new Map(
    [...table.matchAll(/^\| `(E_[A-Z_]+)`\s*\| (\w+)\s*\|/gm)].map((m) => [m[1] ?? "", m[2] ?? ""]),
  );
  for (const [code, cls] of Object.entries(ERROR_CODES)) {
    assert.equal(documented.get(code), cls, `${code} documented as ${cls}`);
  }
  assert.deepEqual([...documented.keys()].sort(), Object.keys(ERROR_CODES).sort());
});

test("every mde_ metric is in docs/monitoring.md's metric table with its type", async () => {
  const table = section("docs/monitoring.md", "Metrics and health");
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

test("docs/monitoring.md's stage list of mde_errors_total is the events' stages, its statuses the declared ones", () => {
  const text = section("docs/monitoring.md", "Metrics and health");
  const stages = /`stage` is ((?:`[a-z]+`(?:, | or ))*`[a-z]+`)/.exec(text)?.[1] ?? "";
  assert.deepEqual(
    [...stages.matchAll(/`([a-z]+)`/g)].map((m) => m[1]),
    [...ERROR_STAGES],
  );
  const statuses = /Per tenant, ((?:\d{3}, )+\d{3} and `error`) exist at 0/.exec(text)?.[1] ?? "";
  assert.deepEqual(
    [...statuses.matchAll(/(\d{3})|`(error)`/g)].map((m) => m[1] ?? m[2]),
    [...API_STATUSES],
  );
});

// The configuration reference itself is generated from the schema: test/unit/config/docs.test.ts checks
// that docs/configuration.md and config/forwarder.reference.yaml are current and name every key.
test("the README's configuration section points to the generated reference, which has every section", () => {
  const table = section("README.md", "Configuration");
  assert.match(table, /\(docs\/configuration\.md\)/);
  assert.match(table, /\(config\/forwarder\.reference\.yaml\)/);
  const reference = parse(read("config/forwarder.reference.yaml")) as object;
  const docs = read("docs/configuration.md");
  for (const top of Object.keys(reference)) {
    assert.match(docs, new RegExp(`^## \`${top}(\\[\\])?\``, "m"), `section ${top}`);
  }
});

test("finding 9: the log example in docs/operations.md is what the program prints for a poll", () => {
  const example = /^ {2}(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z) (.*Poll finished\..*)$/m.exec(
    read("docs/operations.md"),
  );
  assert.ok(example, "docs/operations.md shows a terminal log line");
  const writes: string[] = [];
  const log = createLogger({
    level: "info",
    format: "pretty",
    color: false,
    destination: { write: (s: string) => writes.push(s) },
  });
  // As src/pipeline/poll.ts logs it: the root logger's child for the poll component.
  log.child({ component: "poll", tenant: "contoso" }).info({ received: 12, new: 3 }, "Poll finished.");
  assert.equal(writes[0]?.replace(/^\S+ /, "").trimEnd(), example[2]);
});

test("finding 9: --forget-seen is documented with the clock margin the code subtracts", () => {
  const text = section("docs/operations.md", "Commands");
  const minutes = CLOCK_SKEW_MS / 60_000;
  assert.match(text, new RegExp(`TIME − \`poll\\.overlap\` − ${minutes} minutes`));
});

test("finding 9: the example's arcsight destination uses the header and framing docs/siem-arcsight.md gives", () => {
  const page = read("docs/siem-arcsight.md");
  const block = /```yaml\n([\s\S]*?)```/.exec(page)?.[1];
  assert.ok(block, "the ArcSight page has its destination block");
  type Destination = { name: string; syslog_header?: string; framing?: string; format?: string };
  const recommended = (parse(block) as { destinations: Destination[] }).destinations[0];
  const example = (parse(read("config/forwarder.example.yaml")) as { destinations: Destination[] })
    .destinations;
  const arcsight = example.find((d) => d.name === "arcsight");
  assert.ok(recommended && arcsight);
  assert.equal(recommended.syslog_header, "rfc3164");
  assert.equal(arcsight.syslog_header, recommended.syslog_header);
  assert.equal(arcsight.framing, recommended.framing);
  assert.equal(arcsight.format, "cef");
});

test("finding 9: the docs never call a bare mde-forwarder command, which npm ci does not put on PATH", () => {
  const pages = ["README.md", ...docsPages()];
  for (const path of pages) {
    const text = read(path);
    // A command line or inline command that starts with the bin name (not the program's own help text).
    const bare =
      /(^|`|\$ )mde-forwarder (run|once|check-config|status|send-test|state|simulate|demo)\b/m.exec(text);
    assert.equal(bare, null, `${path}: "${bare?.[0]}": write node dist/cli/main.js`);
  }
});

function docsPages(): string[] {
  const dir = new URL("../../docs/", import.meta.url);
  return readdirSync(dir)
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`);
}
