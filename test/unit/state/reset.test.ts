// The operator's store operations: resetCheckpoint (backward, delete, forget dedupe keys) and the receive
// time that `state export-outbox` prints.
import assert from "node:assert/strict";
import path from "node:path";
import { after, test } from "node:test";
import Database from "better-sqlite3";
import { addStateFunctions } from "../../../src/state/db.js";
import { STORE_SQL, type Store } from "../../../src/state/store.js";
import { detection, fakeClock, openStore, tempDir, ts } from "./helpers.js";

const tmp = tempDir();
after(tmp.remove);

let fileCounter = 0;
function newFile(): string {
  fileCounter++;
  return path.join(tmp.dir, `state-${fileCounter}.db`);
}

function storeFor(t: { after: (fn: () => void) => void }, options = {}): Store {
  const store = openStore(newFile(), options);
  t.after(() => store.close());
  return store;
}

test("resetCheckpoint moves the checkpoint backward, or deletes it, and reports the previous one", (t) => {
  const store = storeFor(t);
  store.ingest("contoso", [detection("a", 30)], ts(30));

  assert.deepEqual(store.resetCheckpoint("contoso", ts(10)), { previous: ts(30), forgotten: 0 });
  assert.equal(store.getCheckpoint("contoso"), ts(10), "backward: the point of a reset");
  // Polls go on moving it forward from there.
  store.ingest("contoso", [], ts(20));
  assert.equal(store.getCheckpoint("contoso"), ts(20));

  assert.deepEqual(store.resetCheckpoint("contoso", undefined), { previous: ts(20), forgotten: 0 });
  assert.equal(store.getCheckpoint("contoso"), undefined, "the next poll starts from lookback");
  assert.deepEqual(store.resetCheckpoint("fabrikam", ts(5)), { previous: undefined, forgotten: 0 });
  assert.equal(store.getCheckpoint("fabrikam"), ts(5));
  assert.equal(store.getCheckpoint("contoso"), undefined, "other tenants untouched");
});

test("without forgetSeenSince, detections read again are still duplicates", (t) => {
  const store = storeFor(t);
  const records = [detection("a", 1), detection("b", 2)];
  store.ingest("contoso", records, ts(2));
  for (const d of ["siem-a", "siem-b"])
    store.ack(
      d,
      store.next(d, 0, 10).map((e) => e.id),
    );
  store.resetCheckpoint("contoso", ts(0));
  assert.deepEqual(store.ingest("contoso", records, ts(2)).duplicates, 2);
});

test("forgetSeenSince forgets the tenant's keys recorded since then, never an outbox event's nor another tenant's", (t) => {
  const clock = fakeClock();
  const store = storeFor(t, { clock: clock.now });
  store.ingest("contoso", [detection("old", 1)], ts(1));
  clock.advance(60_000);
  const since = clock.now();
  store.ingest("contoso", [detection("sent", 2), detection("waiting", 3)], ts(3));
  store.ingest("fabrikam", [detection("sent", 2)], ts(2));
  // "old" and "sent" are delivered everywhere; "waiting" is still in the outbox.
  for (const d of ["siem-a", "siem-b"]) {
    const ids = store
      .next(d, 0, 10)
      .filter((e) => !e.body.includes('"waiting"'))
      .map((e) => e.id);
    store.ack(d, ids);
  }

  const result = store.resetCheckpoint("contoso", ts(2), { forgetSeenSince: since });
  assert.deepEqual(result, { previous: ts(3), forgotten: 1 });

  const again = store.ingest(
    "contoso",
    [detection("old", 1), detection("sent", 2), detection("waiting", 3)],
    ts(3),
  );
  assert.equal(again.inserted, 1, "only 'sent' is new again");
  assert.deepEqual(
    store.next("siem-a", 0, 10).map((e) => JSON.parse(e.body).FullId),
    ["waiting", "sent"],
    "'waiting' is queued once, not twice",
  );
  assert.equal(store.ingest("fabrikam", [detection("sent", 2)], undefined).duplicates, 1);
});

test("a non-canonical checkpoint is refused, and so is a reset through a read-only store", (t) => {
  const file = newFile();
  const store = openStore(file);
  t.after(() => store.close());
  assert.throws(() => store.resetCheckpoint("contoso", "2024-05-01T10:00:00Z"), /not a canonical timestamp/);
  store.ingest("contoso", [detection("a", 1)], ts(1));
  store.close();
  const reader = openStore(file, { readonly: true });
  t.after(() => reader.close());
  assert.throws(() => reader.resetCheckpoint("contoso", ts(0)), /read-only/);
  assert.equal(reader.getCheckpoint("contoso"), ts(1));
});

test("next() gives the time each event was received", (t) => {
  const clock = fakeClock(1_700_000_000_000);
  const store = storeFor(t, { clock: clock.now });
  store.ingest("contoso", [detection("a", 1)], undefined);
  clock.advance(5_000);
  store.ingest("contoso", [detection("b", 2)], undefined);
  assert.deepEqual(
    store.next("siem-a", 0, 10).map((e) => [e.tenant, e.receivedAt]),
    [
      ["contoso", 1_700_000_000_000],
      ["contoso", 1_700_000_005_000],
    ],
  );
});

test("the reset's statements search an index, never scan a table", (t) => {
  const file = newFile();
  openStore(file).close();
  const db = new Database(file, { readonly: true });
  t.after(() => db.close());
  addStateFunctions(db);
  for (const name of ["deleteCheckpoint", "forgetSeen"] as const) {
    const sql = STORE_SQL[name];
    const plan = db
      .prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .all(...Array.from(sql.matchAll(/\?/g), () => 1))
      .map((row) => String((row as { detail: string }).detail));
    for (const step of plan) assert.doesNotMatch(step, /^SCAN /, `${name}: ${plan.join(" | ")}`);
  }
});
