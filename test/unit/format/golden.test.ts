// Golden files: the exact bytes on the wire for two detections in every format and header style, and
// for the per-destination options: header and mapping overrides, LEEF delimiters, max_message_bytes.
// They are the contract. Regenerate with `UPDATE_GOLDEN=1 node test/run.mjs format`, then read
// the diff by eye before keeping it.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { test } from "node:test";
import type { FormatOptions, FormatOptionsInput } from "../../../src/format/config.js";
import type { FormattedMessage } from "../../../src/format/index.js";
import { fixedDeps, formatOptions, loadDetection, makeFormatter, TEST_DIR } from "./fixtures.js";

const UPDATE = process.env.UPDATE_GOLDEN === "1";

interface Variant {
  readonly file: string;
  readonly options: Partial<FormatOptions>;
}

const VARIANTS: readonly Variant[] = [
  { file: "cef/{name}.rfc5424.txt", options: { format: "cef", syslog_header: "rfc5424" } },
  { file: "cef/{name}.rfc3164.txt", options: { format: "cef", syslog_header: "rfc3164" } },
  { file: "cef/{name}.none.txt", options: { format: "cef", syslog_header: "none" } },
  {
    file: "leef/{name}.leef2.rfc5424.txt",
    options: { format: "leef", leef_version: "2.0", syslog_header: "rfc5424" },
  },
  {
    file: "leef/{name}.leef1.none.txt",
    options: { format: "leef", leef_version: "1.0", syslog_header: "none" },
  },
  { file: "json/{name}.rfc5424.txt", options: { format: "json", syslog_header: "rfc5424" } },
];

/** Truncations per fixture and format: the hostile one cuts Name, cs2, externalId and act. */
const TRUNCATED: Record<string, Record<FormatOptions["format"], number>> = {
  "microsoft-example": { cef: 0, leef: 0, json: 0 },
  hostile: { cef: 4, leef: 0, json: 0 },
};

function checkGolden(file: string, options: FormatOptionsInput, name: string): FormattedMessage {
  const message = makeFormatter(options, fixedDeps).format(loadDetection(name));
  const path = `${TEST_DIR}golden/${file}`;
  if (UPDATE) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, message.bytes);
  }
  assert.ok(existsSync(path), `${path} is missing: run UPDATE_GOLDEN=1 node test/run.mjs format`);
  const golden = readFileSync(path);
  // Compare as text first for a readable diff, then byte for byte.
  assert.equal(message.bytes.toString("utf8"), golden.toString("utf8"));
  assert.ok(message.bytes.equals(golden));
  return message;
}

for (const name of ["microsoft-example", "hostile"]) {
  for (const variant of VARIANTS) {
    const file = variant.file.replace("{name}", name);
    test(`golden ${file}`, () => {
      const options = formatOptions(variant.options);
      const message = checkGolden(file, options, name);
      assert.equal(message.truncated, TRUNCATED[name]?.[options.format]);
      assert.equal(message.tooLarge, false);
    });
  }
}

/** Header and mapping overrides: rename, drop, constant, label, user-defined key, typed key. */
const OVERRIDES: FormatOptionsInput = {
  format: "cef",
  syslog_header: "rfc5424",
  header: { vendor: "Acme|Security", product: "MDE \\ Bridge", version: "3.1" },
  mapping: {
    fields: {
      Md5: "MicrosoftDefenderMd5",
      MachineGroup: "cs5",
      Actor: null,
      IocName: null,
      AlertTime: "deviceCustomDate1",
      ComputerDnsName: "dhost",
    },
    labels: { cs5: "Machine group", cs3: "Full ID = dedupe key" },
    constants: { dvchost: "mde-forwarder-01", AcmeTenantName: "Contoso EU" },
    user_defined_keys: ["MicrosoftDefenderMd5", "AcmeTenantName"],
  },
};

/** Goldens for one fixture and one set of options each, with their expected truncation count. */
const SPECIAL: ReadonlyArray<{
  file: string;
  name: string;
  options: FormatOptionsInput;
  truncated: number;
}> = [
  {
    file: "cef/microsoft-example.overrides.rfc5424.txt",
    name: "microsoft-example",
    options: OVERRIDES,
    truncated: 0,
  },
  { file: "cef/hostile.overrides.rfc5424.txt", name: "hostile", options: OVERRIDES, truncated: 4 },
  {
    file: "cef/hostile-delimiters.overrides.rfc5424.txt",
    name: "hostile-delimiters",
    options: OVERRIDES,
    truncated: 0,
  },
  {
    file: "leef/hostile-delimiters.leef2-caret.rfc5424.txt",
    name: "hostile-delimiters",
    options: { format: "leef", leef_delimiter: "^", syslog_header: "rfc5424" },
    truncated: 0,
  },
  {
    file: "leef/hostile-delimiters.leef2-x3B.none.txt",
    name: "hostile-delimiters",
    options: { format: "leef", leef_delimiter: "x3B", syslog_header: "none" },
    truncated: 0,
  },
  // UDP-sized: the hostile detection in 2048 bytes, its longest values cut first.
  {
    file: "cef/hostile.max2048.rfc5424.txt",
    name: "hostile",
    options: { format: "cef", max_message_bytes: 2048 },
    // Name, cs2, externalId and act at their own limits; filePath, flexString1 and cs3 to fit.
    truncated: 7,
  },
  {
    file: "leef/hostile.leef2.max2048.rfc5424.txt",
    name: "hostile",
    options: { format: "leef", max_message_bytes: 2048 },
    truncated: 2,
  },
  {
    file: "json/hostile.max2048.rfc5424.txt",
    name: "hostile",
    options: { format: "json", max_message_bytes: 2048 },
    truncated: 2,
  },
];

// Issue 11, finding 6: U+0085, U+2028 and U+2029 passed raw, and receivers that end lines on them split
// the event. A fixture full of them, in each format.
const SEPARATORS: ReadonlyArray<{ file: string; options: FormatOptionsInput }> = [
  { file: "cef/line-separators.rfc5424.txt", options: { format: "cef", syslog_header: "rfc5424" } },
  { file: "leef/line-separators.leef2.rfc5424.txt", options: { format: "leef", syslog_header: "rfc5424" } },
  { file: "json/line-separators.rfc5424.txt", options: { format: "json", syslog_header: "rfc5424" } },
];

for (const { file, options } of SEPARATORS) {
  test(`issue 11 finding 6: line separators become a space (CEF, LEEF) or an escape (JSON): golden ${file}`, () => {
    const message = checkGolden(file, formatOptions(options as Partial<FormatOptions>), "line-separators");
    const text = message.bytes.toString("utf8");
    assert.doesNotMatch(text, /[\u0085\u2028\u2029\n\r]/);
    if (options.format === "json") {
      const body = JSON.parse(text.slice(text.indexOf("{"))) as Record<string, unknown>;
      assert.equal(body.Description, loadDetection("line-separators").Description);
      assert.match(text, /Line one\\u2028Line two\\u2029Line three\\u0085end/);
    } else {
      assert.match(text, /Line one Line two Line three end/);
    }
  });
}

for (const { file, name, options, truncated } of SPECIAL) {
  test(`golden ${file}`, () => {
    const message = checkGolden(file, options, name);
    assert.equal(message.truncated, truncated);
    assert.equal(message.tooLarge, false);
    if (options.max_message_bytes !== undefined)
      assert.ok(message.bytes.length <= Number(options.max_message_bytes));
  });
}
