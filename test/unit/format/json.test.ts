import assert from "node:assert/strict";
import { test } from "node:test";
import { ForwarderError } from "../../../src/errors.js";
import { encodeJson } from "../../../src/format/json.js";
import { loadDetection } from "./fixtures.js";
import { assertOneLine } from "./oracle.js";

test("the detection as received, compact, parses back to the same object", () => {
  for (const name of ["microsoft-example", "hostile"]) {
    const d = loadDetection(name);
    const { text, truncated } = encodeJson(d);
    assert.equal(truncated, 0);
    assert.deepEqual(JSON.parse(text), d);
    assert.ok(text.startsWith('{"AlertTime":"'), "compact, keys in the order received");
    assertOneLine(Buffer.from(text, "utf8"));
  }
});

test("controls and lone surrogates are escaped, so the message stays one line of valid UTF-8", () => {
  const { text } = encodeJson({ a: "x\r\ny\0z\t", b: "lone \ud800 and \udfff", c: "😀" });
  assertOneLine(Buffer.from(text, "utf8"));
  assert.ok(text.includes("x\\r\\ny\\u0000z\\t"), text);
  assert.ok(text.includes("lone \\ud800 and \\udfff"), text);
  assert.ok(text.includes("😀"));
  assert.equal((JSON.parse(text) as { b: string }).b, "lone \ud800 and \udfff");
});

test("a detection that cannot be serialised is a permanent E_FORMAT error", () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.throws(
    () => encodeJson(cyclic),
    (err: unknown) => err instanceof ForwarderError && err.code === "E_FORMAT" && err.permanent,
  );
});

test("each line separator alone is escaped, also after plain values and in a Latin-1-only text", () => {
  // The check looks for each separator on its own: every one must be found by itself.
  for (const separator of ["\u0085", "\u2028", "\u2029"]) {
    const escaped = `\\u${separator.charCodeAt(0).toString(16).padStart(4, "0")}`;
    const { text } = encodeJson({ a: "plain", b: "café", c: `x${separator}y`, d: "plain again" });
    assert.doesNotMatch(text, /[\u0085\u2028\u2029]/);
    assert.ok(text.includes(`"c":"x${escaped}y"`), text);
    assert.deepEqual(JSON.parse(text), { a: "plain", b: "café", c: `x${separator}y`, d: "plain again" });
  }
  // None at all: the text is JSON.stringify's, untouched.
  const plain = { a: "é ü ß", b: "\u0084\u0086 and \u2027\u202a (neighbours, not separators)" };
  assert.equal(encodeJson(plain).text, JSON.stringify(plain));
});
