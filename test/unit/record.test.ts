import assert from "node:assert/strict";
import { test } from "node:test";
import { toDetectionRecord } from "../../src/record.js";

/** A detection whose every JSON encoding is counted (JSON.stringify calls toJSON). */
function counted(fields: Record<string, unknown>) {
  const counter = { encodings: 0 };
  const detection = {
    ...fields,
    toJSON() {
      counter.encodings++;
      return fields;
    },
  };
  return { detection, counter };
}

test("a record's body is encoded only when read, as compact JSON of the detection, and not kept", () => {
  for (const [kind, fields] of [
    ["siem", { FullId: "da1_2:abc", LastProcessedTimeUtc: "2026-11-30T10:00:00.1234567Z", Title: "a|b" }],
    ["alerts", { id: "da1", lastUpdateTime: "2026-11-30T10:00:00Z", title: "t" }],
    ["graph", { id: "da2", lastUpdateDateTime: "2026-11-30T10:00:00Z", title: "t" }],
  ] as const) {
    const { detection, counter } = counted(fields);
    const record = toDetectionRecord(detection, kind);
    assert.ok(record.key.length > 0);
    assert.equal(counter.encodings, 0, `${kind}: key and time need no encoding`);
    assert.equal(record.body, JSON.stringify(fields));
    assert.equal(counter.encodings, 1, `${kind}: encoded when read`);
    // Not cached: a part's bodies kept until the part is stored would double what a large response costs
    // (the store reads each body once, and only for new detections).
    assert.equal(record.body, JSON.stringify(fields));
    assert.equal(counter.encodings, 2, `${kind}: encoded again, not kept`);
  }
});
