// Golden files: the exact bytes on the wire for two detections in every format and header style.
// They are the contract. Regenerate with `UPDATE_GOLDEN=1 node test/run.mjs format`, then read
// the diff by eye before keeping it.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { test } from "node:test";
import type { FormatOptions } from "../../../src/format/config.js";
import { createFormatter } from "../../../src/format/index.js";
import { fixedDeps, formatOptions, loadDetection, TEST_DIR } from "./fixtures.js";

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

for (const name of ["microsoft-example", "hostile"]) {
  for (const variant of VARIANTS) {
    const file = variant.file.replace("{name}", name);
    test(`golden ${file}`, () => {
      const options = formatOptions(variant.options);
      const message = createFormatter(options, fixedDeps).format(loadDetection(name));
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
      assert.equal(message.truncated, TRUNCATED[name]?.[options.format]);
    });
  }
}
