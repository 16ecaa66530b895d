// Store.lastEventId, Store.storedAfter and IngestResult.stored (issue 16): what one ingest stored, read back without the bodies,
// so the pipeline can hand those events to its drains in memory (src/pipeline/hot-tail.ts).
import assert from "node:assert/strict";
import path from "node:path";
import { after, test } from "node:test";
import Database from "better-sqlite3";
import { STORE_SQL } from "../../../src/state/store.js";
import { detection, openStore, tempDir, ts } from "./helpers.js";

const tmp = tempDir();
after(tmp.remove);

test("storedAfter(lastEventId before an ingest) lists exactly the events that ingest stored, in id order", (t) => {
  const file = path.join(tmp.dir, "stored-after.db");
  const store = openStore(file);
  t.after(() => store.close());
  assert.equal(store.lastEventId(), 0, "none yet");
  store.ingest("t1", [detection("a", 1), detection("b", 2)], ts(2));
  const before = store.lastEventId();
  assert.ok(before >= 2);
  // A duplicate (a), one new twice in the batch (c), one new (d): c and d are stored.
  const result = store.ingest(
    "t1",
    [detection("a", 1), detection("c", 3), detection("c", 3), detection("d", 4)],
    ts(4),
  );
  assert.equal(result.inserted, 2);
  const stored = store.storedAfter(before);
  assert.deepEqual(
    stored.map((r) => r.key),
    ["c", "d"],
  );
  assert.deepEqual(
    stored.map((r) => r.id),
    [before + 1, before + 2],
  );
  for (const r of stored) {
    const [row] = store.next("siem-a", r.id - 1, 1);
    assert.equal(r.bytes, Buffer.byteLength(row?.body ?? ""), "bytes: the stored body's size");
  }
  assert.equal(store.lastEventId(), before + 2);
  // The ingest's own answer names the same events (the pipeline uses it: no read-back), by record index.
  assert.deepEqual(
    result.stored.map((e) => [e.id, e.index, e.bytes]),
    stored.map((r, i) => [r.id, [1, 3][i], r.bytes]),
  );
  assert.deepEqual(store.ingest("t1", [detection("c", 3)], ts(4)).stored, [], "a duplicate stores nothing");

  // Acknowledged everywhere, the events leave; ids are not reused, and lastEventId never goes back past them.
  for (const destination of ["siem-a", "siem-b"]) store.ack(destination, [before + 1, before + 2]);
  assert.deepEqual(store.storedAfter(before), []);
  store.ingest("t1", [detection("e", 5)], ts(5));
  assert.deepEqual(
    store.storedAfter(before).map((r) => [r.key, r.id > before + 2]),
    [["e", true]],
  );
});

test("lastEventId and storedAfter are index searches, never a table scan", (t) => {
  const file = path.join(tmp.dir, "plans.db");
  openStore(file).close();
  const db = new Database(file, { readonly: true });
  t.after(() => db.close());
  for (const sql of [STORE_SQL.lastEventId, STORE_SQL.storedAfter]) {
    // Placeholders must be bound even to explain; the values do not change the plan.
    const params = Array.from(sql.matchAll(/\?/g), () => 1);
    const plan = db
      .prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .all(...params)
      .map((r) => String((r as { detail: string }).detail));
    for (const step of plan) assert.doesNotMatch(step, /^SCAN |TEMP B-TREE/, `${sql}: ${plan.join(" | ")}`);
  }
});
