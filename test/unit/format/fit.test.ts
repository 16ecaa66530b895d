// max_message_bytes: a message that fits is left alone; one that does not has its longest values cut
// first (water-filling), never below the floor, never in the header or a constant; when even that is
// not enough it is flagged tooLarge.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { FormatOptionsInput } from "../../../src/format/config.js";
import { FIT_FLOOR_BYTES, fitLevels, waterLevel } from "../../../src/format/fit.js";
import type { Detection } from "../../../src/record.js";
import { parseCef } from "../../support/cef-parser.js";
import { parseLeef } from "../../support/leef-parser.js";
import { fixedDeps, loadDetection, makeFormatter } from "./fixtures.js";
import { assertOneLine, cefValueBytes, jsonStringBytes } from "./oracle.js";

test("waterLevel: the highest level that removes enough, longest first, never below the floor", () => {
  // 1000 alone would go to 300, below 500: both go to 400; 50 is untouched.
  assert.equal(waterLevel([50, 1000, 500], 700), 400);
  assert.equal(waterLevel([1000, 500, 50], 100), 900);
  assert.equal(waterLevel([1000, 1000], 1), 999);
  assert.equal(waterLevel([1000, 1000], 2), 999);
  assert.equal(waterLevel([1000, 1000], 3), 998);
  assert.equal(waterLevel([100], 0), Number.POSITIVE_INFINITY);
  // Values at or under the floor give nothing.
  assert.equal(waterLevel([10, 16, 100], 84), 16);
  assert.equal(waterLevel([10, 16, 100], 85), undefined);
  assert.equal(waterLevel([], 1), undefined);
  assert.equal(waterLevel([40, 40], 48, 16), 16);
  assert.equal(FIT_FLOOR_BYTES, 16);
});

test("fitLevels: expendable values first (longest first, to the floor if need be), then the rest", () => {
  const inf = Number.POSITIVE_INFINITY;
  // None expendable: waterLevel for all.
  assert.deepEqual(fitLevels([50, 1000, 500], [false, false, false], 700), [400, 400, 400]);
  assert.deepEqual(fitLevels([50, 1000], [false, false], 0), [inf, inf]);
  // Enough in the expendable ones: the others untouched.
  assert.deepEqual(fitLevels([1000, 300, 200], [false, true, true], 150), [inf, 175, 175]);
  // Not enough: the expendable ones at the floor, the rest water-filled for what is still missing.
  assert.deepEqual(fitLevels([1000, 116, 16], [false, true, true], 400), [700, 16, 16]);
  // Not even then: everything at the floor.
  assert.deepEqual(fitLevels([20, 116], [false, true], 5000), [16, 16]);
});

const none = { syslog_header: "none" } as const;
const make = (options: FormatOptionsInput) => makeFormatter(options, fixedDeps);

test("a message that fits is exactly the message without a limit", () => {
  for (const format of ["cef", "leef", "json"] as const) {
    for (const name of ["microsoft-example", "hostile"]) {
      const d = loadDetection(name);
      const free = make({ format }).format(d);
      const limited = make({ format, max_message_bytes: free.bytes.length }).format(d);
      assert.ok(limited.bytes.equals(free.bytes), `${format} ${name}`);
      assert.equal(limited.truncated, free.truncated);
      assert.equal(limited.tooLarge, false);
    }
  }
});

test("CEF: the longest values are cut down to a common level, shorter ones untouched", () => {
  const d: Detection = {
    AlertTitle: "t",
    Description: "d".repeat(1000),
    CommandLine: "c".repeat(3000),
    Actor: "a".repeat(50),
  };
  const formatter = (max?: number) => make({ format: "cef", ...none, max_message_bytes: max });
  const full = formatter().format(d).bytes.length;
  const message = formatter(full - 2600).format(d);
  assert.equal(message.tooLarge, false);
  assert.equal(message.bytes.length, full - 2600);
  const e = parseCef(assertOneLine(message.bytes)).extension;
  assert.equal(e.get("msg"), "d".repeat(700));
  assert.equal(e.get("cs2"), "c".repeat(700));
  assert.equal(e.get("cs4"), "a".repeat(50));
  assert.equal(message.truncated, 2);
});

test("a value already cut to its dictionary length and cut again counts once", () => {
  const d: Detection = { AlertTitle: "t", Description: "d".repeat(2000), CommandLine: "c".repeat(900) };
  const free = make({ format: "cef", ...none }).format(d);
  assert.equal(free.truncated, 1); // msg at 1023
  const message = make({ format: "cef", ...none, max_message_bytes: free.bytes.length - 500 }).format(d);
  const e = parseCef(message.bytes.toString()).extension;
  assert.equal(e.get("msg")?.length, e.get("cs2")?.length);
  assert.equal(message.truncated, 2);
});

test("cuts never split an escape pair or a character, and trailing spaces are trimmed", () => {
  const d: Detection = { AlertTitle: "t", Description: "\\=".repeat(300), CommandLine: "中 ".repeat(300) };
  for (let max = 300; max < 700; max += 37) {
    const message = make({ format: "cef", ...none, max_message_bytes: max }).format(d);
    assert.ok(message.bytes.length <= max);
    const e = parseCef(assertOneLine(message.bytes)).extension;
    assert.ok("\\=".repeat(300).startsWith(e.get("msg") ?? ""));
    assert.ok("中 ".repeat(300).startsWith(e.get("cs2") ?? ""));
    assert.ok(!(e.get("cs2") ?? "").endsWith(" "));
  }
});

test("header fields and constants are never cut to fit", () => {
  const d: Detection = {
    AlertTitle: "n".repeat(400),
    IoaDefinitionId: "i".repeat(300),
    Description: "d".repeat(900),
  };
  const options = {
    format: "cef",
    ...none,
    max_message_bytes: 1024,
    mapping: { constants: { dvchost: "h".repeat(100) } },
  } as const;
  const message = make(options).format(d);
  assert.equal(message.tooLarge, false);
  const cef = parseCef(message.bytes.toString());
  assert.equal(cef.name, "n".repeat(400));
  assert.equal(cef.classId, "i".repeat(300));
  assert.equal(cef.extension.get("dvchost"), "h".repeat(100));
  assert.ok((cef.extension.get("MicrosoftDefenderIoaDefinitionId")?.length ?? 0) < 300);
});

test("tooLarge: even with every value at the floor it does not fit; bytes hold that smallest message", () => {
  const d = loadDetection("microsoft-example");
  for (const format of ["cef", "leef", "json"] as const) {
    const message = make({ format, max_message_bytes: 256 }).format(d);
    assert.equal(message.tooLarge, true, format);
    assert.ok(message.bytes.length > 256);
    assertOneLine(message.bytes);
    const body = message.bytes
      .toString()
      .slice(message.bytes.indexOf(format === "json" ? "{" : format.toUpperCase()));
    if (format === "cef") {
      for (const [key, value] of parseCef(body).pairs) {
        if (key === "cs3" || key === "externalId") assert.equal(value, key === "cs3" ? d.FullId : d.AlertId);
        else if (!key.endsWith("Label"))
          assert.ok(cefValueBytes(value) <= FIT_FLOOR_BYTES, `${key}=${value}`);
      }
    } else if (format === "leef") {
      for (const [key, value] of parseLeef(body).attributes) {
        if (key === "FullId" || key === "AlertId") assert.equal(value, d[key], "identity kept whole");
        else assert.ok(Buffer.byteLength(value) <= FIT_FLOOR_BYTES, `${key}=${value}`);
      }
    } else {
      for (const [key, value] of Object.entries(JSON.parse(body) as Record<string, unknown>)) {
        if (key === "FullId" || key === "AlertId") assert.equal(value, d[key], "identity kept whole");
        else if (typeof value === "string") assert.ok(jsonStringBytes(value) <= FIT_FLOOR_BYTES, value);
      }
    }
  }
  // A syslog header alone over the limit.
  const long = makeFormatter(
    { format: "json", max_message_bytes: 256, app_name: "a".repeat(48) },
    { ...fixedDeps, hostname: "h".repeat(255) },
  ).format({});
  assert.equal(long.tooLarge, true);
});

test("JSON: the longest strings are shortened, the rest of the object and valid JSON kept", () => {
  const d: Detection = {
    Title: "t".repeat(500),
    Line: "x\n".repeat(400),
    Short: "short",
    Count: 12345,
    Nested: { deep: "n".repeat(300) },
    Flag: null,
  };
  const full = make({ format: "json", ...none }).format(d).bytes.length;
  const message = make({ format: "json", ...none, max_message_bytes: full - 900 }).format(d);
  assert.equal(message.tooLarge, false);
  assert.ok(message.bytes.length <= full - 900);
  const back = JSON.parse(message.bytes.toString()) as Record<string, unknown>;
  assert.deepEqual(Object.keys(back), Object.keys(d));
  assert.equal(back.Short, "short");
  assert.equal(back.Count, 12345);
  assert.deepEqual(back.Nested, d.Nested);
  assert.equal(back.Flag, null);
  const title = back.Title as string;
  const line = back.Line as string;
  assert.ok((d.Title as string).startsWith(title) && (d.Line as string).startsWith(line));
  // Both cut to about the same JSON length (an escape is never split).
  assert.ok(Math.abs(jsonStringBytes(title) - jsonStringBytes(line)) <= 1);
  assert.equal(message.truncated, 2);
});

test("JSON: lone surrogates and emoji are never split", () => {
  const d: Detection = { A: "😀\ud800".repeat(200) };
  for (let max = 100; max < 400; max += 23) {
    const message = make({ format: "json", ...none, max_message_bytes: Math.max(max, 256) }).format(d);
    const a = (JSON.parse(assertOneLine(message.bytes)) as { A: string }).A;
    assert.ok((d.A as string).startsWith(a));
    assert.ok(!/[\ud83d]$/.test(a), "no half of a surrogate pair at the end");
  }
});

test("LEEF: cut to fit with a configured delimiter; values stay free of it", () => {
  const d: Detection = { Description: "a^b ".repeat(500), CommandLine: "c".repeat(100) };
  const message = make({ format: "leef", leef_delimiter: "^", ...none, max_message_bytes: 600 }).format(d);
  assert.ok(message.bytes.length <= 600);
  const a = parseLeef(assertOneLine(message.bytes)).attributes;
  assert.ok("a b ".repeat(500).startsWith(a.get("Description") ?? "x"));
  assert.equal(a.get("CommandLine"), "c".repeat(100));
  assert.equal(message.truncated, 1);
});
