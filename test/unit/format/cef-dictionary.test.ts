// The CEF dictionary data: ranges expanded, types and lengths as the standard gives them, consumer keys
// apart, labels found for exactly the custom fields.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CEF_DICTIONARY, cefLabelKey, isCefLabelKey } from "../../../src/format/cef-dictionary.js";
import { CEF_RULES } from "../../../src/format/mapping.js";

const entry = (key: string) => CEF_DICTIONARY.get(key);

test("ranges are expanded, one entry per key, with type, length and audience", () => {
  for (let i = 1; i <= 6; i++) {
    assert.deepEqual(entry(`cs${i}`), {
      key: `cs${i}`,
      type: "string",
      maxBytes: 4000,
      audience: "producer",
    });
    assert.deepEqual(entry(`cs${i}Label`), {
      key: `cs${i}Label`,
      type: "string",
      maxBytes: 1023,
      audience: "producer",
    });
  }
  for (let i = 1; i <= 3; i++) assert.equal(entry(`cn${i}`)?.audience, "producer");
  for (let i = 1; i <= 4; i++)
    assert.deepEqual(entry(`cfp${i}`), { key: `cfp${i}`, type: "double", audience: "producer" });
  assert.equal(entry("cs7"), undefined);
  assert.equal(entry("cn4"), undefined);
  assert.deepEqual(entry("flexString2Label"), {
    key: "flexString2Label",
    type: "string",
    maxBytes: 128,
    audience: "producer",
  });
  assert.deepEqual(entry("deviceCustomDate2"), {
    key: "deviceCustomDate2",
    type: "timestamp",
    audience: "producer",
  });
  assert.deepEqual(entry("externalId"), {
    key: "externalId",
    type: "string",
    maxBytes: 40,
    audience: "producer",
  });
  assert.deepEqual(entry("dvchost"), { key: "dvchost", type: "string", maxBytes: 100, audience: "producer" });
  assert.deepEqual(entry("threatAttackID"), {
    key: "threatAttackID",
    type: "string",
    maxBytes: 32,
    audience: "both",
  });
  assert.deepEqual(entry("customerKey"), { key: "customerKey", type: "integer", audience: "both" });
  assert.deepEqual(entry("c6a2"), { key: "c6a2", type: "ipv6", audience: "producer" });
  for (const consumer of ["agt", "rawEvent", "eventId", "art", "ahost", "slat", "sourceZoneURI"]) {
    assert.deepEqual(entry(consumer), { key: consumer, audience: "consumer" });
  }
  // Keys are case-sensitive.
  assert.equal(entry("Msg"), undefined);
});

test("labels exist for exactly the custom fields", () => {
  const labelled = [...CEF_DICTIONARY.keys()].filter((k) => cefLabelKey(k) !== undefined).sort();
  assert.deepEqual(
    labelled,
    [
      "c6a1",
      "c6a2",
      "c6a3",
      "c6a4",
      "cfp1",
      "cfp2",
      "cfp3",
      "cfp4",
      "cn1",
      "cn2",
      "cn3",
      "cs1",
      "cs2",
      "cs3",
      "cs4",
      "cs5",
      "cs6",
      "deviceCustomDate1",
      "deviceCustomDate2",
      "flexDate1",
      "flexString1",
      "flexString2",
    ].sort(),
  );
  assert.equal(isCefLabelKey("cs1Label"), true);
  assert.equal(isCefLabelKey("flexDate1Label"), true);
  assert.equal(isCefLabelKey("cs1"), false);
  assert.equal(isCefLabelKey("fooLabel"), false);
});

test("every key of the default mapping is a producer key of the dictionary, within its length", () => {
  for (const rule of CEF_RULES) {
    for (const key of [rule.key, rule.ipv6Key]) {
      if (key === undefined) continue;
      const e = entry(key);
      assert.ok(e !== undefined && e.audience !== "consumer", `${rule.field} -> ${key}`);
      if (e.type === "string") assert.equal(rule.maxBytes, e.maxBytes, `${rule.field} -> ${key} length`);
      if (rule.label !== undefined || (key === rule.ipv6Key && rule.ipv6Label !== undefined)) {
        assert.ok(cefLabelKey(key) !== undefined, `${key} has a label`);
      }
    }
  }
});
