import assert from "node:assert/strict";
import path from "node:path";
import { after, test } from "node:test";
import Database from "better-sqlite3";
import fc from "fast-check";
import { ForwarderError } from "../../../src/errors.js";
import { silentLogger } from "../../../src/log.js";
import { toDetectionRecord } from "../../../src/record.js";
import { openStateDatabase } from "../../../src/state/db.js";
import { createSqliteStore, QUARANTINE_MAX_ROWS, type Store } from "../../../src/state/store.js";
import { DAY, detection, fakeClock, openStore, tempDir, ts } from "./helpers.js";

const tmp = tempDir();
after(tmp.remove);

let fileCounter = 0;
function newFile(): string {
  fileCounter++;
  return path.join(tmp.dir, `state-${fileCounter}.db`);
}

/** Opens a store and closes it when the test ends, even on failure. */
function storeFor(t: { after: (fn: () => void) => void }, file = newFile(), options = {}): Store {
  const store = openStore(file, options);
  t.after(() => store.close());
  return store;
}

/** Reads the file through a second connection, as an outside observer. */
function rows(file: string, sql: string): unknown[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(sql).all();
  } finally {
    db.close();
  }
}

function count(file: string, table: string): number {
  const [row] = rows(file, `SELECT count(*) AS n FROM ${table}`) as Array<{ n: number }>;
  return row?.n ?? -1;
}

test("ingest stores new detections once per destination, in the given order", (t) => {
  const file = newFile();
  const store = storeFor(t, file);
  const records = [detection("a", 1), detection("b", 2), detection("c", 3)];

  const { stored, ...result } = store.ingest("contoso", records, ts(3));

  assert.deepEqual(result, {
    inserted: 3,
    duplicates: 0,
    queued: new Map([
      ["siem-a", 3],
      ["siem-b", 3],
    ]),
    checkpoint: ts(3),
    quarantined: new Map(),
  });
  for (const destination of ["siem-a", "siem-b"]) {
    const events = store.next(destination, 0, 10);
    assert.deepEqual(
      events.map((e) => e.body),
      records.map((r) => r.body),
    );
    assert.ok(events.every((e) => e.tenant === "contoso"));
    assert.deepEqual(
      events.map((e) => e.id),
      [...events.map((e) => e.id)].sort((x, y) => x - y),
    );
  }
  // What it stored, as the pipeline hands it to the drains: ids, record indexes and body sizes.
  assert.deepEqual(
    stored.map((e) => [e.id, e.index, e.bytes]),
    store.next("siem-a", 0, 10).map((e, i) => [e.id, i, Buffer.byteLength(e.body)]),
  );
  assert.equal(count(file, "outbox"), 6);
  assert.equal(count(file, "event"), 3, "one body shared by both destinations");
});

test("duplicates are dropped across calls and within a batch, per tenant", (t) => {
  const store = storeFor(t);

  const { stored, ...first } = store.ingest(
    "contoso",
    [detection("a"), detection("b"), detection("a")],
    undefined,
  );
  assert.deepEqual(
    stored.map((e) => e.index),
    [0, 1],
    "the second a is not stored",
  );
  assert.deepEqual(first, {
    inserted: 2,
    duplicates: 1,
    queued: new Map([
      ["siem-a", 2],
      ["siem-b", 2],
    ]),
    checkpoint: undefined,
    quarantined: new Map(),
  });
  const again = store.ingest("contoso", [detection("b"), detection("c")], undefined);
  assert.equal(again.inserted, 1);
  assert.equal(again.duplicates, 1);
  // The same FullId under another tenant is another detection.
  assert.equal(store.ingest("fabrikam", [detection("a")], undefined).inserted, 1);
  assert.deepEqual(
    store.next("siem-a", 0, 10).map((e) => [e.tenant, JSON.parse(e.body).FullId]),
    [
      ["contoso", "a"],
      ["contoso", "b"],
      ["contoso", "c"],
      ["fabrikam", "a"],
    ],
  );
});

test("issue 16: seen keys go in in key order, yet events keep the records' order and the first of two equal keys wins", (t) => {
  const store = storeFor(t);
  const records = [
    detection("z", 1, { Title: "first z" }),
    detection("a", 2),
    detection("z", 3, { Title: "second z" }),
    detection("m", 4),
  ];

  const result = store.ingest("contoso", records, ts(4));

  assert.deepEqual(
    result.stored.map((e) => e.index),
    [0, 1, 3],
  );
  const ids = result.stored.map((e) => e.id);
  assert.deepEqual(
    ids,
    [...ids].sort((a, b) => a - b),
    "ids follow the records' order",
  );
  assert.equal(result.duplicates, 1);
  assert.deepEqual(
    store.next("siem-a", 0, 10).map((e) => [e.id, JSON.parse(e.body).Title]),
    [
      [ids[0], "first z"],
      [ids[1], "detection a"],
      [ids[2], "detection m"],
    ],
  );
  assert.equal(
    store.ingest("contoso", [detection("a"), detection("m"), detection("z")], undefined).inserted,
    0,
  );
});

test("a malformed detection dedupes on its content key", (t) => {
  const store = storeFor(t);
  const malformed = toDetectionRecord({ Title: "no id", Severity: "High" });
  const sameContentOtherOrder = toDetectionRecord({ Severity: "High", Title: "no id" });
  assert.ok(malformed.malformed);
  assert.match(malformed.key, /^sha256:[0-9a-f]{64}$/);

  assert.equal(store.ingest("contoso", [malformed], undefined).inserted, 1);
  const second = store.ingest("contoso", [sameContentOtherOrder], undefined);
  assert.deepEqual([second.inserted, second.duplicates], [0, 1]);
  assert.equal(store.next("siem-a", 0, 10).length, 1);
});

test("the checkpoint only moves forward, also with an empty batch", (t) => {
  const store = storeFor(t);
  assert.equal(store.getCheckpoint("contoso"), undefined);

  assert.equal(store.ingest("contoso", [], ts(10)).checkpoint, ts(10));
  assert.equal(store.getCheckpoint("contoso"), ts(10));

  const back = store.ingest("contoso", [detection("late", 5)], ts(5));
  assert.equal(back.inserted, 1, "the records are still stored");
  assert.equal(back.checkpoint, ts(10), "a smaller checkpoint is ignored");
  assert.equal(store.ingest("contoso", [], undefined).checkpoint, ts(10), "no checkpoint: unchanged");
  assert.equal(store.ingest("contoso", [], ts(20)).checkpoint, ts(20));
  assert.equal(store.getCheckpoint("fabrikam"), undefined, "checkpoints are per tenant");
});

test("a non-canonical checkpoint is refused and nothing is written", (t) => {
  const store = storeFor(t);
  assert.throws(
    () => store.ingest("contoso", [detection("a")], "2024-05-01T10:00:00Z"),
    (err: unknown) => err instanceof ForwarderError && err.code === "E_INTERNAL",
  );
  assert.equal(store.getCheckpoint("contoso"), undefined);
  assert.equal(
    store.ingest("contoso", [detection("a")], undefined).inserted,
    1,
    "the key was not marked seen",
  );
});

test("a batch that fails half-way writes nothing and leaves the checkpoint (disk full)", (t) => {
  const file = newFile();
  const db = openStateDatabase({ path: file }, { log: silentLogger() });
  const store = createSqliteStore(
    db,
    { path: file, retention: 7 * DAY, destinations: ["siem-a", "siem-b"] },
    { log: silentLogger() },
  );
  t.after(() => store.close());
  store.ingest("contoso", [detection("first", 1)], ts(1));

  // Caps the file a few pages above its size: the batch below fills them and hits SQLITE_FULL mid-way.
  const pages = Number(db.pragma("page_count", { simple: true }));
  db.pragma(`max_page_count = ${pages + 4}`);
  const batch = Array.from({ length: 200 }, (_, i) => detection(`big-${i}`, 30, { Pad: "x".repeat(2_000) }));

  assert.throws(
    () => store.ingest("contoso", batch, ts(59)),
    (err: unknown) =>
      err instanceof ForwarderError &&
      err.code === "E_STATE_WRITE" &&
      err.message.includes(file) &&
      err.cause instanceof Database.SqliteError &&
      err.cause.code === "SQLITE_FULL",
  );
  assert.equal(store.getCheckpoint("contoso"), ts(1));
  assert.deepEqual(
    store.next("siem-a", 0, 500).map((e) => JSON.parse(e.body).FullId),
    ["first"],
  );
  assert.deepEqual(
    store.outboxDepths(),
    new Map([
      ["siem-a", 1],
      ["siem-b", 1],
    ]),
  );

  // With room again the same batch goes in whole: none of its keys were left marked as seen.
  db.pragma("max_page_count = 1073741823");
  const { stored, ...result } = store.ingest("contoso", batch, ts(59));
  assert.equal(stored.length, 200);
  assert.deepEqual(result, {
    inserted: 200,
    duplicates: 0,
    queued: new Map([
      ["siem-a", 200],
      ["siem-b", 200],
    ]),
    checkpoint: ts(59),
    quarantined: new Map(),
  });
});

test("next pages by id, oldest first", (t) => {
  const store = storeFor(t);
  store.ingest(
    "contoso",
    Array.from({ length: 5 }, (_, i) => detection(`d${i}`, i)),
    undefined,
  );

  const first = store.next("siem-a", 0, 2);
  assert.deepEqual(
    first.map((e) => JSON.parse(e.body).FullId),
    ["d0", "d1"],
  );
  const rest = store.next("siem-a", first.at(-1)?.id ?? 0, 10);
  assert.deepEqual(
    rest.map((e) => JSON.parse(e.body).FullId),
    ["d2", "d3", "d4"],
  );
  assert.deepEqual(store.next("siem-a", rest.at(-1)?.id ?? 0, 10), []);
  assert.deepEqual(store.next("siem-a", 0, 0), []);
  assert.deepEqual(store.next("unknown", 0, 10), []);
});

test("ack removes only that destination's rows; the body goes when no destination needs it", (t) => {
  const file = newFile();
  const store = storeFor(t, file);
  store.ingest("contoso", [detection("a"), detection("b"), detection("c")], undefined);
  const [a, b, c] = store.next("siem-a", 0, 10).map((e) => e.id);
  assert.ok(a !== undefined && b !== undefined && c !== undefined);

  store.ack("siem-a", [a, b]);
  assert.deepEqual(
    store.next("siem-a", 0, 10).map((e) => e.id),
    [c],
  );
  assert.deepEqual(
    store.next("siem-b", 0, 10).map((e) => e.id),
    [a, b, c],
    "the other destination still has them",
  );
  assert.equal(count(file, "event"), 3, "bodies kept while siem-b needs them");

  store.ack("siem-b", [a]);
  assert.deepEqual(rows(file, "SELECT id FROM event ORDER BY id"), [{ id: b }, { id: c }]);

  store.ack("siem-a", [a, b, 999_999]); // already acked and unknown ids are ignored
  store.ack("siem-a", []);
  assert.deepEqual(
    store.outboxDepths(),
    new Map([
      ["siem-a", 1],
      ["siem-b", 2],
    ]),
  );
  assert.equal(count(file, "event"), 2);
});

test("ids are never reused after the outbox empties, so afterId paging sees new events", (t) => {
  const store = storeFor(t);
  store.ingest("contoso", [detection("a"), detection("b")], undefined);
  const ids = store.next("siem-a", 0, 10).map((e) => e.id);
  store.ack("siem-a", ids);
  store.ack("siem-b", ids);
  const lastSeen = Math.max(...ids);

  store.ingest("contoso", [detection("c")], undefined);
  const fresh = store.next("siem-a", lastSeen, 10);
  assert.deepEqual(
    fresh.map((e) => JSON.parse(e.body).FullId),
    ["c"],
  );
});

test("checkpoint, seen keys, outbox and status survive a close and reopen", () => {
  const file = newFile();
  const clock = fakeClock();
  const first = openStore(file, { clock: clock.now });
  first.ingest("contoso", [detection("a", 1), detection("b", 2)], ts(2));
  first.ack("siem-a", [first.next("siem-a", 0, 1)[0]?.id ?? -1]);
  first.recordPoll("contoso", { ok: true });
  first.recordDelivery("siem-b", { ok: false, code: "E_SINK_CONNECT", message: "connection refused" });
  first.close();
  first.close(); // idempotent

  const second = openStore(file, { clock: clock.now });
  try {
    assert.equal(second.getCheckpoint("contoso"), ts(2));
    assert.equal(second.ingest("contoso", [detection("a", 1)], undefined).duplicates, 1);
    assert.deepEqual(
      second.next("siem-a", 0, 10).map((e) => JSON.parse(e.body).FullId),
      ["b"],
    );
    assert.deepEqual(
      second.next("siem-b", 0, 10).map((e) => JSON.parse(e.body).FullId),
      ["a", "b"],
    );
    const status = second.status();
    assert.equal(status.tenants[0]?.lastSuccessAt, clock.now());
    assert.equal(
      status.destinations.find((d) => d.destination === "siem-b")?.lastErrorCode,
      "E_SINK_CONNECT",
    );
  } finally {
    second.close();
  }
  assert.throws(
    () => second.getCheckpoint("contoso"),
    (err: unknown) => err instanceof ForwarderError && /closed/.test(err.message),
  );
});

test("pruneSeen forgets old keys but never those of events still in the outbox", (t) => {
  const clock = fakeClock();
  const store = storeFor(t, newFile(), { clock: clock.now, retention: 7 * DAY });
  const deliver = (ids: number[]) => {
    store.ack("siem-a", ids);
    store.ack("siem-b", ids);
  };

  store.ingest("contoso", [detection("old-delivered")], undefined);
  deliver(store.next("siem-a", 0, 10).map((e) => e.id));
  clock.advance(3_600_000);
  store.ingest("contoso", [detection("old-pending"), detection("old-delivered-later")], undefined);
  const [pendingId, laterId] = store.next("siem-a", 0, 10).map((e) => e.id);
  assert.ok(pendingId !== undefined && laterId !== undefined);
  deliver([laterId]);
  clock.advance(5 * DAY);
  store.ingest("contoso", [detection("recent")], undefined);
  clock.advance(3 * DAY); // the first three are 8 days old now, "recent" 3 days

  // Pending events are protected by time: nothing recorded at or after the oldest pending one goes, so
  // "old-delivered-later" (same ingest as "old-pending") stays until "old-pending" is delivered.
  assert.equal(store.pruneSeen(), 1);
  assert.equal(store.pruneSeen(), 0);

  const again = store.ingest(
    "contoso",
    [
      detection("old-delivered"),
      detection("old-pending"),
      detection("old-delivered-later"),
      detection("recent"),
    ],
    undefined,
  );
  assert.deepEqual([again.inserted, again.duplicates], [1, 3], "only the pruned key is new again");
  assert.deepEqual(
    store.next("siem-b", 0, 10).map((e) => JSON.parse(e.body).FullId),
    ["old-pending", "recent", "old-delivered"],
    "the pending event was kept by retention",
  );

  deliver([pendingId]);
  assert.equal(store.pruneSeen(), 2, "once delivered, the old keys go");
});

test("outboxDepths covers every configured destination; maxOutboxDepth is the largest", (t) => {
  const store = storeFor(t, newFile(), { destinations: ["siem-a", "siem-b", "siem-c"] });
  assert.deepEqual(
    store.outboxDepths(),
    new Map([
      ["siem-a", 0],
      ["siem-b", 0],
      ["siem-c", 0],
    ]),
  );
  assert.equal(store.maxOutboxDepth(), 0);

  store.ingest("contoso", [detection("a"), detection("b"), detection("c")], undefined);
  store.ack(
    "siem-b",
    store.next("siem-b", 0, 2).map((e) => e.id),
  );
  store.ack(
    "siem-c",
    store.next("siem-c", 0, 3).map((e) => e.id),
  );
  assert.deepEqual(
    store.outboxDepths(),
    new Map([
      ["siem-a", 3],
      ["siem-b", 1],
      ["siem-c", 0],
    ]),
  );
  assert.equal(store.maxOutboxDepth(), 3);
});

test("purgeRemovedDestinations drops the outbox of destinations no longer configured", () => {
  const file = newFile();
  const first = openStore(file, { destinations: ["siem-a", "siem-b", "siem-c"] });
  first.ingest("contoso", [detection("a"), detection("b"), detection("c")], ts(3));
  const ids = first.next("siem-a", 0, 10).map((e) => e.id);
  first.ack("siem-b", ids.slice(0, 1));
  first.ack("siem-c", ids); // fully delivered before it was removed
  first.recordDelivery("siem-c", { ok: true });
  first.close();

  const second = openStore(file, { destinations: ["siem-a"] });
  try {
    assert.deepEqual(second.purgeRemovedDestinations(), [{ destination: "siem-b", events: 2 }]);
    assert.deepEqual(second.purgeRemovedDestinations(), []);
    assert.equal(count(file, "event"), 3, "siem-a still needs every body");
    assert.deepEqual(
      second.status().destinations.map((d) => d.destination),
      ["siem-a"],
    );
    assert.equal(second.getCheckpoint("contoso"), ts(3), "the checkpoint is untouched");
    // A new ingest writes rows for the configured destination only.
    second.ingest("contoso", [detection("d")], undefined);
    assert.equal(count(file, "outbox"), 4);
  } finally {
    second.close();
  }

  const third = openStore(file, { destinations: ["siem-z"] });
  try {
    assert.deepEqual(third.purgeRemovedDestinations(), [{ destination: "siem-a", events: 4 }]);
    assert.equal(count(file, "event"), 0, "no destination needs any body any more");
  } finally {
    third.close();
  }
});

test("recordPoll and recordDelivery feed status; errors are kept with their time", (t) => {
  const clock = fakeClock(1_000_000);
  const store = storeFor(t, newFile(), { clock: clock.now });
  store.ingest("contoso", [detection("a")], ts(1));

  store.recordPoll("contoso", { ok: true });
  clock.advance(60_000);
  store.recordPoll("contoso", { ok: false, code: "E_API_SERVER", message: "HTTP 500" });
  store.recordPoll("fabrikam", { ok: false, code: "E_AUTH_TOKEN", message: "x".repeat(5_000) });
  store.recordDelivery("siem-a", { ok: true });

  const status = store.status();
  assert.deepEqual(status.tenants[0], {
    tenant: "contoso",
    checkpoint: ts(1),
    lastPollAt: 1_060_000,
    lastSuccessAt: 1_000_000,
    lastErrorAt: 1_060_000,
    lastError: "HTTP 500",
    lastErrorCode: "E_API_SERVER",
  });
  assert.equal(status.tenants[1]?.tenant, "fabrikam");
  assert.equal(status.tenants[1]?.lastSuccessAt, undefined);
  assert.ok((status.tenants[1]?.lastError?.length ?? 0) <= 1_001, "long errors are truncated");
  assert.deepEqual(status.destinations, [
    { destination: "siem-a", outbox: 1, lastSuccessAt: 1_060_000 },
    { destination: "siem-b", outbox: 1 },
  ]);
});

test("property: outbox depth, outbox rows and event rows stay consistent", () => {
  const destinations = ["siem-a", "siem-b"] as const;
  const op = fc.oneof(
    fc.record({
      kind: fc.constant("ingest" as const),
      keys: fc.array(fc.integer({ min: 0, max: 15 }), { maxLength: 6 }),
    }),
    fc.record({
      kind: fc.constant("ack" as const),
      destination: fc.constantFrom(...destinations),
      take: fc.integer({ min: 0, max: 5 }),
      skip: fc.integer({ min: 0, max: 3 }),
    }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 12 }), (ops) => {
      const file = newFile();
      const store = openStore(file, { destinations: [...destinations] });
      const model = new Map<string, Set<number>>(destinations.map((d) => [d, new Set()]));
      const seen = new Set<number>();
      let maxId = 0;
      try {
        for (const o of ops) {
          if (o.kind === "ingest") {
            const result = store.ingest(
              "contoso",
              o.keys.map((k) => detection(`k${k}`)),
              undefined,
            );
            const fresh = new Set(o.keys.filter((k) => !seen.has(k)));
            for (const k of o.keys) seen.add(k);
            assert.equal(result.inserted, fresh.size);
            assert.equal(result.duplicates, o.keys.length - fresh.size);
            // Ids only grow, so the new events are exactly those above the largest id seen so far.
            const added = store.next("siem-a", maxId, 1_000).map((e) => e.id);
            assert.equal(added.length, fresh.size);
            for (const id of added) maxId = Math.max(maxId, id);
            for (const d of destinations) for (const id of added) model.get(d)?.add(id);
          } else {
            const pending = [...(model.get(o.destination) ?? [])].sort((x, y) => x - y);
            const acked = pending.slice(o.skip, o.skip + o.take);
            store.ack(o.destination, acked);
            for (const id of acked) model.get(o.destination)?.delete(id);
          }
        }
        const depths = store.outboxDepths();
        for (const d of destinations) {
          assert.equal(depths.get(d), model.get(d)?.size);
          assert.deepEqual(
            store.next(d, 0, 1_000).map((e) => e.id),
            [...(model.get(d) ?? [])].sort((x, y) => x - y),
          );
        }
      } finally {
        store.close();
      }
      const needed = new Set([...model.values()].flatMap((ids) => [...ids]));
      assert.equal(count(file, "event"), needed.size, "an event row exists iff some outbox row needs it");
      assert.deepEqual(
        rows(file, "SELECT destination, events FROM outbox_depth WHERE events <> 0 ORDER BY destination"),
        rows(
          file,
          "SELECT destination, count(*) AS events FROM outbox GROUP BY destination ORDER BY destination",
        ),
      );
    }),
    { numRuns: 40 },
  );
});

test("a record routed to some destinations gets outbox rows only for those", (t) => {
  const store = storeFor(t);
  const routed = [
    { ...detection("both"), destinations: ["siem-a", "siem-b"] },
    { ...detection("only-b"), destinations: ["siem-b"] },
    { ...detection("none"), destinations: [] },
    { ...detection("unknown"), destinations: ["siem-z"] },
  ];
  const result = store.ingest("contoso", routed, ts(4));
  assert.equal(result.inserted, 4);
  assert.deepEqual(
    result.queued,
    new Map([
      ["siem-a", 1],
      ["siem-b", 2],
    ]),
  );
  assert.deepEqual(
    store.outboxDepths(),
    new Map([
      ["siem-a", 1],
      ["siem-b", 2],
    ]),
  );
  assert.deepEqual(
    store.next("siem-b", 0, 10).map((e) => JSON.parse(e.body).FullId),
    ["both", "only-b"],
  );
  // A filtered-out record is still remembered: it is not offered again by the next poll.
  assert.equal(
    store.ingest("contoso", [{ ...detection("none"), destinations: ["siem-a"] }], undefined).inserted,
    0,
  );
  assert.equal(store.getCheckpoint("contoso"), ts(4));
});

test("a duplicate's body is never read, so re-reading the overlap encodes nothing", (t) => {
  const store = storeFor(t);
  store.ingest("contoso", [detection("a")], undefined);
  const duplicate = {
    key: detection("a").key,
    lastProcessed: detection("a").lastProcessed,
    malformed: false,
    get body(): string {
      throw new Error("the body of a duplicate was read");
    },
  };
  const result = store.ingest("contoso", [duplicate], undefined);
  assert.equal(result.duplicates, 1);
});

const rejected = (hash: string, reason: "too_deep" | "not_an_object" = "too_deep") => ({
  reason,
  raw: `{"raw":"${hash}"}`,
  bytes: 12 + hash.length,
  hash,
  kind: "siem" as const,
});

test("issue 11 finding 2: rejected items go to quarantine in the ingest transaction, once however often re-read", (t) => {
  const file = newFile();
  const store = storeFor(t, file);
  const first = store.ingest("contoso", [detection("a", 1)], ts(1), [
    rejected("h1"),
    rejected("h2", "not_an_object"),
  ]);
  assert.deepEqual(
    [first.inserted, first.duplicates, [...first.quarantined]],
    [
      1,
      0,
      [
        ["too_deep", 1],
        ["not_an_object", 1],
      ],
    ],
  );
  const again = store.ingest("contoso", [detection("a", 1)], ts(1), [rejected("h1"), rejected("h3")]);
  assert.deepEqual([again.inserted, again.duplicates, [...again.quarantined]], [0, 2, [["too_deep", 1]]]);
  const q = store.quarantined(0, 10);
  assert.deepEqual(
    q.map((r) => [r.id, r.tenant, r.reason, r.kind, r.destination, r.raw, r.rawBytes]),
    [
      [1, "contoso", "too_deep", "siem", null, '{"raw":"h1"}', 14],
      [2, "contoso", "not_an_object", "siem", null, '{"raw":"h2"}', 14],
      [3, "contoso", "too_deep", "siem", null, '{"raw":"h3"}', 14],
    ],
  );
  assert.deepEqual(
    store.quarantined(1, 1).map((r) => r.id),
    [2],
    "pages by id",
  );
  assert.deepEqual(store.quarantined(0, 10, "other"), []);
  const status = store.status().tenants.find((s) => s.tenant === "contoso");
  assert.equal(status?.quarantined, 3);
});

test("issue 11 finding 2: a record whose body cannot be serialised is quarantined (unstorable), not an E_STATE error", (t) => {
  const store = storeFor(t);
  const poison = {
    key: "poison",
    lastProcessed: ts(2),
    malformed: false,
    get body(): string {
      throw new RangeError("Maximum call stack size exceeded");
    },
  };
  const result = store.ingest("contoso", [detection("a", 1), poison, detection("b", 3)], ts(3));
  assert.deepEqual([result.inserted, [...result.quarantined]], [2, [["unstorable", 1]]]);
  assert.equal(store.getCheckpoint("contoso"), ts(3));
  assert.equal(store.next("siem-a", 0, 10).length, 2);
});

test("issue 11 finding 2: only what SQLite refuses is E_STATE_*; anything else thrown in a write is E_INTERNAL", (t) => {
  const store = storeFor(t);
  const unbindable = { key: {} as unknown as string, lastProcessed: ts(1), body: "{}", malformed: false };
  assert.throws(
    () => store.ingest("contoso", [unbindable], ts(1)),
    (err: unknown) => err instanceof ForwarderError && err.code === "E_INTERNAL",
  );
  assert.equal(store.getCheckpoint("contoso"), undefined, "nothing of the batch was kept");
});

test("a stored event a destination cannot encode leaves that destination's outbox for the quarantine, in one transaction", (t) => {
  const store = storeFor(t);
  store.ingest("contoso", [detection("a", 1, { Pad: "y".repeat(70_000) }), detection("b", 2)], ts(2));
  const [a] = store.next("siem-a", 0, 1);
  assert.ok(a);
  store.quarantine("siem-a", a, "unencodable");
  assert.deepEqual(
    store.next("siem-a", 0, 10).map((e) => JSON.parse(e.body).FullId),
    ["b"],
  );
  assert.equal(store.next("siem-b", 0, 10).length, 2, "the other destination still has it");
  assert.equal(store.outboxDepths().get("siem-a"), 1);
  const [row] = store.quarantined(0, 10);
  assert.equal(row?.destination, "siem-a");
  assert.equal(row?.reason, "unencodable");
  assert.equal(row?.rawBytes, Buffer.byteLength(a.body));
  assert.equal(Buffer.byteLength(row?.raw ?? ""), 65_536, "cut at 64 KiB");
  assert.ok(a.body.startsWith(row?.raw ?? "x"));
});

test("the quarantine keeps the newest QUARANTINE_MAX_ROWS records", (t) => {
  const store = storeFor(t);
  const batch = Array.from({ length: QUARANTINE_MAX_ROWS + 5 }, (_, i) => rejected(`k${i}`));
  store.ingest("contoso", [], undefined, batch);
  const all = [...store.quarantined(0, QUARANTINE_MAX_ROWS + 10)];
  assert.equal(all.length, QUARANTINE_MAX_ROWS);
  assert.equal(all[0]?.raw, '{"raw":"k5"}', "the oldest five went");
});
