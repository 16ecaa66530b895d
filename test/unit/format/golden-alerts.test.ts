// Golden files for alerts from the Defender Alerts API and Microsoft Graph alerts_v2 (several evidence
// kinds, one item split per evidence, a Sentinel alert with its own product) and for a Graph incident: the
// exact bytes on the wire in CEF, LEEF 2.0 and JSON. They are the contract. Regenerate with `UPDATE_GOLDEN=1 node test/run.mjs format/golden`, then read the diff by eye.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { test } from "node:test";
import type { FormatOptionsInput } from "../../../src/format/config.js";
import type { FormattedMessage } from "../../../src/format/index.js";
import { ALERT_EXTRA_FIELDS } from "../../../src/format/normalized-fields.js";
import type { SourceKind } from "../../../src/record.js";
import { parseCef } from "../../support/cef-parser.js";
import { fixedDeps, formatOptions, loadDetection, makeFormatter, TEST_DIR } from "./fixtures.js";

const UPDATE = process.env.UPDATE_GOLDEN === "1";

const ALERT_ONLY_KEY = new RegExp(`^MicrosoftDefender(?:${ALERT_EXTRA_FIELDS.join("|")})$`);

const FIXTURES: ReadonlyArray<[string, SourceKind]> = [
  ["alerts-api-alert", "alerts"],
  ["graph-alert", "graph"],
  ["graph-alert-split", "graph"],
  ["graph-alert-sentinel", "graph"],
  ["graph-incident", "incidents"],
];

const VARIANTS: ReadonlyArray<{ file: string; options: FormatOptionsInput }> = [
  { file: "cef/{name}.rfc5424.txt", options: formatOptions({ format: "cef", syslog_header: "rfc5424" }) },
  {
    file: "leef/{name}.leef2.rfc5424.txt",
    options: formatOptions({ format: "leef", leef_version: "2.0", syslog_header: "rfc5424" }),
  },
  { file: "json/{name}.rfc5424.txt", options: formatOptions({ format: "json", syslog_header: "rfc5424" }) },
];

function checkGolden(file: string, message: FormattedMessage): void {
  const path = `${TEST_DIR}golden/${file}`;
  if (UPDATE) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, message.bytes);
  }
  assert.ok(existsSync(path), `${path} is missing: run UPDATE_GOLDEN=1 node test/run.mjs format/golden`);
  const golden = readFileSync(path);
  assert.equal(message.bytes.toString("utf8"), golden.toString("utf8"));
  assert.ok(message.bytes.equals(golden));
}

for (const [name, kind] of FIXTURES) {
  for (const variant of VARIANTS) {
    const file = variant.file.replace("{name}", name);
    test(`golden ${file}`, () => {
      const message = makeFormatter(variant.options, fixedDeps).format(loadDetection(name), kind);
      checkGolden(file, message);
      assert.equal(message.truncated, 0);
      assert.equal(message.tooLarge, false);
    });
  }
}

// UDP-sized (2048 bytes): the alert-only keys are cut first, longest (Evidence) first; SIEM fields after.
test("golden cef/alerts-api-alert.max2048.rfc5424.txt: only the alert-only keys are cut", () => {
  const options = formatOptions({ format: "cef", syslog_header: "rfc5424", max_message_bytes: 2048 });
  const alert = loadDetection("alerts-api-alert");
  const message = makeFormatter(options, fixedDeps).format(alert, "alerts");
  checkGolden("cef/alerts-api-alert.max2048.rfc5424.txt", message);
  assert.equal(message.tooLarge, false);
  assert.ok(message.bytes.length <= 2048);
  const free = parseCef(
    makeFormatter(formatOptions({ format: "cef" }), fixedDeps)
      .format(alert, "alerts")
      .bytes.toString(),
  );
  const cut = parseCef(message.bytes.toString());
  const changed = [...free.extension]
    .filter(([key, value]) => cut.extension.get(key) !== value)
    .map(([k]) => k);
  assert.ok(changed.includes("MicrosoftDefenderEvidence"));
  for (const key of changed) assert.match(key, ALERT_ONLY_KEY, key);
  assert.equal(message.truncated, changed.length);
});

// A Graph alert with seven evidence entities does not fit 2048 bytes on its alert-only keys alone.
test("golden cef/graph-alert.max2048.rfc5424.txt", () => {
  const options = formatOptions({ format: "cef", syslog_header: "rfc5424", max_message_bytes: 2048 });
  const message = makeFormatter(options, fixedDeps).format(loadDetection("graph-alert"), "graph");
  checkGolden("cef/graph-alert.max2048.rfc5424.txt", message);
  assert.equal(message.tooLarge, false);
  assert.ok(message.bytes.length <= 2048);
  assert.ok(message.truncated >= 1);
  const cut = parseCef(message.bytes.toString());
  assert.equal(cut.extension.get("cs3"), "da638412947112345678_-1830244912@2024-01-15T09:02:13.4500000Z");
  assert.equal(cut.extension.get("externalId"), "da638412947112345678_-1830244912");
});
