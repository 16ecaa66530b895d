// The escaping fast paths (issue 16): a value with nothing special goes out as it is, one with only
// characters to escape is escaped by stepping a regular expression from one to the next, anything else
// goes through the loop. Each must give what the documented rules (oracle.ts) say, in any order.
import assert from "node:assert/strict";
import { test } from "node:test";
import { escapeCefHeader, escapeCefValue, sanitizeLeef } from "../../../src/format/escape.js";
import { encodeCef } from "../../../src/format/index.js";
import { cefHeaderText, cefValueText, leefValueText } from "./oracle.js";

const cefEscape = (text: string): string =>
  text
    .replace(/[\\=]/g, (c) => `\\${c}`)
    .replace(/\r/g, "\\r")
    .replace(/\n/g, "\\n");
const cefExpected = (value: string): string => cefEscape(cefValueText(value)).replace(/ +$/, "");

const VALUES = [
  "plain",
  "a=b",
  "C:\\Windows\\System32",
  "https://x.example/?a=1&b=2",
  "base64==",
  "a=b\nc\rd",
  "tab\there=",
  "x\u0080y\u009fz", // C1 characters caught by the wide range of the check, kept
  "nel\u0085=",
  "ls\u2028ps\u2029\\",
  "pair 😀 =",
  "lone \ud800 =",
  "trailing = \\   ",
  "del\u007f=",
];

test("CEF values: every mix of specials gives the documented escaping, whatever came before", () => {
  const counter = { truncated: 0 };
  // Each value after every other one: the fast paths keep no state from one value to the next.
  for (const before of VALUES) {
    for (const value of VALUES) {
      escapeCefValue(before, 4000, counter);
      assert.equal(escapeCefValue(value, 4000, counter), cefExpected(value), JSON.stringify(value));
    }
  }
  assert.equal(counter.truncated, 0);
});

test("CEF header and LEEF values: the same paths, their own rules", () => {
  const counter = { truncated: 0 };
  for (const value of VALUES) {
    const header = cefHeaderText(value).replace(/[\\|]/g, (c) => `\\${c}`);
    assert.equal(escapeCefHeader(`${value}|`, 4000, counter), `${header}\\|`, JSON.stringify(value));
    assert.equal(sanitizeLeef(value, 4000, counter, "value"), leefValueText(value), JSON.stringify(value));
  }
});

test("a value needing escaping right after values that do not, in a whole message", () => {
  const text = encodeCef({
    AlertTitle: "Title",
    Category: "Malware",
    Severity: "High",
    MachineName: "host1",
    FilePath: "C:\\a\\b",
    FileName: "plain.exe",
    Description: "x=y\nz",
    Source: "EDR",
  }).text;
  assert.ok(text.includes("fname=plain.exe"), text);
  assert.ok(text.includes("filePath=C:\\\\a\\\\b"), text);
  assert.ok(text.includes("msg=x\\=y\\nz"), text);
});
