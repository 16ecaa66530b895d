// The bounded parser of API responses (issue 11, findings 2 and 3): items located and measured before
// anything is built; deep, large and non-object items kept aside as raw text; responses over the item or
// value budget refused whole; everything else exactly what JSON.parse gives.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import fc from "fast-check";
import { type Detection, MAX_QUARANTINE_RAW_BYTES, rejectionOf } from "../../../src/record.js";
import {
  DEFAULT_JSON_LIMITS,
  JsonBoundsError,
  type JsonLimits,
  parseBoundedJson,
  takeItemText,
} from "../../../src/source/bounded-json.js";

const parse = (text: string, limits?: Partial<JsonLimits>) =>
  parseBoundedJson(Buffer.from(text, "utf8"), { ...DEFAULT_JSON_LIMITS, ...limits });

const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

function rejection(value: unknown) {
  return typeof value === "object" && value !== null ? rejectionOf(value as Detection) : undefined;
}

const throwsBounds = (kind: "syntax" | "too_large", message?: RegExp) => (err: unknown) =>
  err instanceof JsonBoundsError && err.kind === kind && (message === undefined || message.test(err.message));

test("a root array of detections comes back as JSON.parse gives it", () => {
  const text = '[{"FullId":"a","x":[1,2,{"y":"z \\" ] } ["}]},{"FullId":"b","n":-1.5e3,"t":true,"f":null}]';
  assert.deepEqual(parse(text), JSON.parse(text));
  assert.deepEqual(parse(" [ ] "), []);
  assert.deepEqual(parse(`\ufeff[{"a":1}]`), [{ a: 1 }], "a byte order mark is tolerated");
});

test("an OData object: the `value` items are parsed one by one, the other members kept", () => {
  const text =
    '{"@odata.context":"ctx","value":[{"id":"1"},{"id":"2","evidence":[{"a":{"b":1}}]}],"@odata.nextLink":"https://x/next"}';
  assert.deepEqual(parse(text), JSON.parse(text));
  assert.deepEqual(parse('{"value":[]}'), { value: [] });
  assert.deepEqual(parse('{"error":{"code":"x"}}'), { error: { code: "x" } });
  assert.deepEqual(parse("{}"), {});
});

test("issue 11 finding 2: an item nested deeper than 64 levels is rejected as raw text, unparsed; the others are kept", () => {
  const ok = `{"k":${nested(63)}}`;
  const deep = `{"k":${nested(6_000)}}`;
  const result = parse(`[${ok},${deep},{"after":true}]`) as unknown[];
  assert.equal(result.length, 3);
  assert.deepEqual(result[0], JSON.parse(ok), "64 levels are fine");
  assert.deepEqual(result[2], { after: true });
  const r = rejection(result[1]);
  assert.deepEqual(r, { reason: "too_deep", raw: deep, bytes: deep.length, hash: sha256(deep) });
  assert.deepEqual(Object.keys(result[1] as object), [], "an empty object to every other reader");
});

test("items that are not objects, or larger than one detection may be, are rejected; raw text bounded to 64 KiB", () => {
  const big = `{"s":"${"x".repeat(5_000_000)}"}`;
  const result = parse(`[1,"two",null,[3],${big}]`) as unknown[];
  assert.deepEqual(
    result.slice(0, 4).map((item) => [rejection(item)?.reason, rejection(item)?.raw]),
    [
      ["not_an_object", "1"],
      ["not_an_object", '"two"'],
      ["not_an_object", "null"],
      ["not_an_object", "[3]"],
    ],
  );
  const r = rejection(result[4]);
  assert.equal(r?.reason, "too_large");
  assert.equal(r?.bytes, big.length);
  assert.equal(r?.raw, big.slice(0, MAX_QUARANTINE_RAW_BYTES));
  assert.equal(r?.hash, sha256(big));
});

test("issue 11 finding 3: more items than maxItems, or more values than the budget, refuse the whole response", () => {
  assert.throws(
    () => parse(`[${"{},".repeat(999_999)}{}]`),
    throwsBounds("too_large", /more than 100000 items/),
  );
  // 2 million small values in one item: 6 MB of text, under the item and byte caps, over the budget.
  const many = `[{"v":[${"1,".repeat(2_000_000)}1]}]`;
  assert.throws(
    () => parse(many, { maxUnits: 1_000_000, maxItemBytes: 10_000_000 }),
    throwsBounds("too_large"),
  );
  // A rejected item costs nothing: it is never built.
  const deepArray = `[${"[".repeat(400_000)}${"]".repeat(400_000)}]`;
  const result = parse(deepArray, { maxUnits: 1_000, maxItemBytes: 10_000_000 }) as unknown[];
  assert.equal(rejection(result[0])?.reason, "not_an_object");
});

test("a body that is not JSON, cut, or followed by garbage fails as syntax", () => {
  for (const text of [
    "",
    "<html>error</html>",
    '[{"a":1},{"b":',
    '[{"a":"unterminated',
    '[{"a":1}',
    '[{"a":1}] trailing',
    '[{"a":tru}]',
    '[{"a":1} {"b":2}]',
    '{"value":[{"a":1}',
    '{"value":[{"a":1}]',
    "]",
  ]) {
    assert.throws(() => parse(text), throwsBounds("syntax"), text);
  }
});

test("a root that is neither an array nor an object is parsed whole for the caller to refuse", () => {
  assert.equal(parse('"a string"'), "a string");
  assert.equal(parse(" 42 "), 42);
  assert.equal(parse("null"), null);
});

const jsonItem = fc.jsonValue({ maxDepth: 4 });

test("property: any JSON array parses as JSON.parse would, non-objects as rejected items with their exact text", () => {
  fc.assert(
    fc.property(fc.array(jsonItem, { maxLength: 20 }), fc.boolean(), (items, odata) => {
      const text = odata ? JSON.stringify({ value: items, "@odata.nextLink": "n" }) : JSON.stringify(items);
      const parsed = parse(text);
      const got = (odata ? (parsed as { value: unknown[] }).value : parsed) as unknown[];
      assert.equal(got.length, items.length);
      items.forEach((item, i) => {
        const isObject = typeof item === "object" && item !== null && !Array.isArray(item);
        if (isObject) assert.deepEqual(got[i], JSON.parse(JSON.stringify(item)));
        else assert.equal(rejection(got[i])?.raw, JSON.stringify(item));
      });
    }),
    { numRuns: Number(process.env.FC_RUNS ?? 300) },
  );
});

test("property: any JSON value at the root, and any text, either parses as JSON.parse would or is refused", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.jsonValue().map((v) => JSON.stringify(v)),
        fc.string(),
      ),
      (text) => {
        let expected: unknown;
        try {
          expected = JSON.parse(text);
        } catch {
          expected = undefined;
        }
        let got: unknown;
        try {
          got = parse(text);
        } catch (err) {
          assert.ok(err instanceof JsonBoundsError, String(err));
          // Refused only what JSON.parse refuses too.
          assert.equal(expected, undefined, `refused valid JSON: ${text}`);
          return;
        }
        // Accepted: when it is JSON, the same value (items that are not objects aside).
        if (
          expected !== undefined &&
          !Array.isArray(expected) &&
          !(typeof expected === "object" && expected !== null && "value" in expected)
        ) {
          assert.deepEqual(got, expected);
        }
      },
    ),
    { numRuns: Number(process.env.FC_RUNS ?? 300) },
  );
});

test("an item parsed from compact JSON keeps its text (the body to store), once; one with white space between tokens does not", () => {
  const compact = '{"FullId":"a:1","n":[1,{"x":"a b, c: d"}],"t":true}';
  const spaced = '{"FullId": "b:2", "n": 1}';
  const items = parse(`[ ${compact} ,\n${spaced}, {"FullId":"c:3","deep":${nested(70)}} ]`) as unknown[];
  assert.equal(takeItemText(items[0]), compact);
  assert.equal(takeItemText(items[0]), undefined, "taken once");
  assert.deepEqual(JSON.parse(compact), items[0], "the text parses back to the item");
  assert.equal(takeItemText(items[1]), undefined, "not compact: encoded again when stored");
  assert.equal(takeItemText(items[2]), undefined, "a rejected item has no text to store");
  const odata = parse(`{"@odata.context":"x","value":[${compact}]}`) as { value: unknown[] };
  assert.equal(takeItemText(odata.value[0]), compact);
  assert.equal(takeItemText(odata), undefined);
});

test("item texts are exact whether the body is ASCII (slices of one decoded text) or not (byte offsets differ from characters)", () => {
  const ascii = ['{"FullId":"a:1","u":"x"}', '{"FullId":"b:2","v":[1,2]}'];
  const wide = [
    '{"FullId":"a:1","u":"Jos\u00e9 \u00e9t\u00e9 \ud83d\udd12"}',
    '{"FullId":"b:2","u":"\u4e2d\u6587"}',
  ].map((t) => JSON.stringify(JSON.parse(t)));
  for (const texts of [ascii, wide, [...wide, ...ascii]]) {
    const items = parse(`[${texts.join(",")}]`) as unknown[];
    assert.deepEqual(
      items.map((item) => takeItemText(item)),
      texts,
    );
  }
});

test("property: a compact item's text, when kept, is JSON.stringify of what it parses to", () => {
  fc.assert(
    fc.property(fc.array(fc.dictionary(fc.string(), fc.jsonValue()), { maxLength: 5 }), (objects) => {
      const items = parse(JSON.stringify(objects)) as unknown[];
      for (const [i, item] of items.entries()) {
        assert.equal(takeItemText(item), JSON.stringify(objects[i]));
      }
    }),
  );
});

test("item texts are kept up to 16 MiB per response: the largest response the bounds accept does not keep its text twice", () => {
  const item = JSON.stringify({ FullId: "x", pad: "p".repeat(1_048_576) });
  const items = parse(`[${Array.from({ length: 20 }, () => item).join(",")}]`) as unknown[];
  const kept = items.map((i) => takeItemText(i) !== undefined);
  assert.equal(kept.filter(Boolean).length, 15, "15 items of 1 MiB each fit in 16 MiB");
  assert.deepEqual(kept.slice(15), [false, false, false, false, false]);
});
