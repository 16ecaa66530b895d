import assert from "node:assert/strict";
import { test } from "node:test";
import { createFormatter, fitsBytes, formatConfigFrom } from "../../../src/format/index.js";
import { loadDetection } from "./fixtures.js";

test("fitsBytes counts UTF-8 bytes, not UTF-16 units, at the limit and around it", () => {
  assert.equal(fitsBytes("abc", 3), true);
  assert.equal(fitsBytes("abcd", 3), false);
  // 100 units of 3 bytes: 300 bytes; the length alone (100) cannot tell.
  const euros = "€".repeat(100);
  assert.equal(fitsBytes(euros, 300), true);
  assert.equal(fitsBytes(euros, 299), false);
  // A pair: 2 units, 4 bytes; a lone surrogate becomes U+FFFD, 3 bytes.
  assert.equal(fitsBytes("😀", 4), true);
  assert.equal(fitsBytes("😀", 3), false);
  assert.equal(fitsBytes("\ud800", 3), true);
  assert.equal(fitsBytes("\ud800", 2), false);
});

test("a formatted message's text and bytes are the same message, every format", () => {
  for (const name of ["microsoft-example", "hostile"]) {
    const detection = loadDetection(name);
    for (const format of ["cef", "leef", "json"] as const) {
      const formatter = createFormatter(formatConfigFrom({ format }), {
        hostname: "host",
        clock: () => new Date(0),
      });
      const message = formatter.format(detection);
      assert.deepEqual(message.bytes, Buffer.from(message.text, "utf8"), `${name} ${format}`);
      assert.equal(message.bytes, message.bytes, "converted once");
    }
  }
});

test("max_message_bytes is judged on UTF-8 bytes: a message of 3-byte characters is cut to fit", () => {
  const detection = { ...loadDetection("microsoft-example"), Description: "€".repeat(400) };
  const max = 1500;
  const formatter = createFormatter(formatConfigFrom({ format: "cef", max_message_bytes: max }), {
    hostname: "host",
    clock: () => new Date(0),
  });
  const message = formatter.format(detection);
  assert.ok(message.text.length <= max, "its length alone would fit");
  assert.ok(message.bytes.length <= max, `${message.bytes.length} bytes`);
  assert.equal(message.tooLarge, false);
  assert.ok(message.truncated > 0);
});
