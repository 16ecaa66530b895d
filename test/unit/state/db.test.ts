import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, test } from "node:test";
import Database from "better-sqlite3";
import { ForwarderError } from "../../../src/errors.js";
import { silentLogger } from "../../../src/log.js";
import {
  APPLICATION_ID,
  MIGRATIONS,
  openStateDatabase,
  PAGE_SIZE,
  SCHEMA_VERSION,
} from "../../../src/state/db.js";
import { createSqliteStore, STORE_SQL } from "../../../src/state/store.js";
import { DAY, detection, fakeClock, openStore, tempDir, ts } from "./helpers.js";

const tmp = tempDir();
after(tmp.remove);

let dirCounter = 0;
function newDir(): string {
  dirCounter++;
  const dir = path.join(tmp.dir, `case-${dirCounter}`);
  fs.mkdirSync(dir);
  return dir;
}

function isStateError(code: string, ...fragments: Array<string | RegExp>) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof ForwarderError, `expected a ForwarderError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    for (const f of fragments) {
      if (typeof f === "string") assert.ok(err.message.includes(f), `"${err.message}" should mention "${f}"`);
      else assert.match(err.message, f);
    }
    return true;
  };
}

/** A state file with some content, closed again. */
function makeState(file: string, records = 1): void {
  const store = openStore(file);
  store.ingest(
    "contoso",
    Array.from({ length: records }, (_, i) => detection(`d${i}`, 1, { Pad: "p".repeat(200) })),
    ts(1),
  );
  store.close();
}

function pragma(file: string, name: string): unknown {
  const db = new Database(file, { readonly: true });
  try {
    return db.pragma(name, { simple: true });
  } finally {
    db.close();
  }
}

test("creates missing directories and a migrated WAL database", () => {
  const file = path.join(newDir(), "nested", "deeper", "state.db");
  const db = openStateDatabase({ path: file }, { log: silentLogger() });
  try {
    assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
    assert.equal(
      db.pragma("synchronous", { simple: true }),
      1,
      "NORMAL: atomic, durable across process crashes",
    );
    assert.equal(db.pragma("foreign_keys", { simple: true }), 1);
    assert.equal(db.pragma("busy_timeout", { simple: true }), 5000);
    assert.equal(db.pragma("user_version", { simple: true }), SCHEMA_VERSION);
    assert.equal(db.pragma("application_id", { simple: true }), APPLICATION_ID);
  } finally {
    db.close();
  }
  // Reopening an up-to-date file migrates nothing and keeps the data.
  makeState(file);
  const again = openStore(file);
  try {
    assert.equal(again.getCheckpoint("contoso"), ts(1));
  } finally {
    again.close();
  }
});

/**
 * A state as release `version` wrote it: that release's migrations (MIGRATIONS is append-only, so its first
 * `version` are the ones it shipped), then rows written with its statements (seen keyed by the FullId text,
 * as before version 5): for tenant contoso, FullIds d0..d{events-1} stored at `receivedAt` and queued for
 * siem-a and siem-b, and `delivered` more whose keys alone remain; checkpoint ts(1).
 */
function makeStateAtVersion(
  file: string,
  version: number,
  options: {
    events: number;
    delivered?: number;
    receivedAt?: number;
    extra?: (db: Database.Database) => void;
  },
): void {
  const db = new Database(file);
  try {
    db.pragma(`page_size = ${PAGE_SIZE}`);
    db.pragma("journal_mode = WAL");
    for (const m of MIGRATIONS.slice(0, version)) db.exec(m.sql);
    db.pragma(`user_version = ${version}`);
    const at = options.receivedAt ?? Date.now();
    const seen = db.prepare("INSERT INTO seen (tenant, key, seen_at) VALUES (?, ?, ?)");
    const event = db.prepare(
      "INSERT INTO event (tenant, key, body, last_processed, received_at) VALUES (?, ?, ?, ?, ?)",
    );
    const outbox = db.prepare("INSERT INTO outbox (destination, event_id) VALUES (?, ?)");
    db.transaction(() => {
      for (let i = 0; i < (options.delivered ?? 0); i++) seen.run("contoso", `sent${i}`, at);
      for (let i = 0; i < options.events; i++) {
        const r = detection(`d${i}`, 1);
        seen.run("contoso", r.key, at);
        const id = event.run("contoso", r.key, r.body, r.lastProcessed ?? null, at).lastInsertRowid;
        for (const d of ["siem-a", "siem-b"]) outbox.run(d, id);
      }
      for (const d of ["siem-a", "siem-b"])
        db.prepare("INSERT INTO outbox_depth (destination, events) VALUES (?, ?)").run(d, options.events);
      db.prepare("INSERT INTO checkpoint (tenant, last_processed, updated_at) VALUES (?, ?, ?)").run(
        "contoso",
        ts(1),
        at,
      );
      options.extra?.(db);
    })();
  } finally {
    db.close();
  }
}

test("a version 2 state is migrated to event_by_age and keeps its checkpoint, outbox and dedupe", () => {
  const file = path.join(newDir(), "state.db");
  makeStateAtVersion(file, 2, { events: 3 });

  const store = openStore(file);
  try {
    assert.equal(store.getCheckpoint("contoso"), ts(1));
    assert.equal(store.next("siem-a", 0, 10).length, 3);
    const again = store.ingest("contoso", [detection("d0", 1), detection("d3", 1)], undefined);
    assert.deepEqual([again.inserted, again.duplicates], [1, 1]);
  } finally {
    store.close();
  }
  assert.equal(pragma(file, "user_version"), SCHEMA_VERSION);
  const db = new Database(file, { readonly: true });
  try {
    const indexes = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'event'")
      .all()
      .map((r) => (r as { name: string }).name);
    assert.ok(indexes.includes("event_by_age"), indexes.join(", "));
    assert.ok(!indexes.includes("event_by_key"), indexes.join(", "));
  } finally {
    db.close();
  }
});

test("issue 16: a version 4 state's text dedupe keys are rehashed; dedupe, pending events, forgetting and pruning hold", () => {
  const file = path.join(newDir(), "state.db");
  const clock = fakeClock();
  const at = clock.now();
  makeStateAtVersion(file, 4, {
    events: 3,
    delivered: 2,
    receivedAt: at,
    extra: (db) => {
      // Another tenant's key, and a quarantined item's (kept under `quarantine:<hash>`).
      db.prepare("INSERT INTO seen (tenant, key, seen_at) VALUES (?, ?, ?)").run("fabrikam", "d0", at);
      db.prepare("INSERT INTO seen (tenant, key, seen_at) VALUES (?, ?, ?)").run(
        "fabrikam",
        "quarantine:h1",
        at,
      );
    },
  });

  const store = openStore(file, { clock: clock.now });
  try {
    assert.equal(pragma(file, "user_version"), SCHEMA_VERSION);
    // Every old key is known: all duplicates; the tenant still scopes a key.
    const again = store.ingest(
      "contoso",
      [
        detection("d0", 1),
        detection("d1", 1),
        detection("d2", 1),
        detection("sent0", 1),
        detection("sent1", 1),
      ],
      undefined,
    );
    assert.deepEqual([again.inserted, again.duplicates], [0, 5]);
    const fab = store.ingest("fabrikam", [detection("d0", 1), detection("d1", 1)], undefined, [
      { hash: "h1", reason: "not_an_object", raw: "[1]", bytes: 3, kind: "siem" },
    ]);
    assert.deepEqual([fab.inserted, fab.duplicates], [1, 2], "fabrikam's d0 and quarantined h1 are known");

    // Forgetting since the migrated keys' time frees the delivered ones only, never a pending event's.
    const reset = store.resetCheckpoint("contoso", ts(0), { forgetSeenSince: at });
    assert.equal(reset.forgotten, 2);
    const reread = store.ingest("contoso", [detection("d0", 1), detection("sent0", 1)], undefined);
    assert.deepEqual([reread.inserted, reread.duplicates], [1, 1]);

    // The pending events drain, in order, with their bodies.
    for (const d of ["siem-a", "siem-b"]) {
      const events = store.next(d, 0, 10);
      assert.deepEqual(
        events.map((e) => JSON.parse(e.body).FullId),
        ["d0", "d1", "d2", "d1", "sent0"],
        `${d}: the three migrated events first, then fabrikam's d1 and the re-read sent0`,
      );
      store.ack(
        d,
        events.map((e) => e.id),
      );
    }
    assert.deepEqual([...store.outboxDepths().values()], [0, 0]);

    // Retention still prunes by age: everything is delivered, so past the retention every key goes.
    clock.advance(8 * DAY);
    assert.equal(store.pruneSeen(), 7);
    assert.equal(store.ingest("contoso", [detection("d0", 1)], undefined).inserted, 1);
  } finally {
    store.close();
  }
  assert.equal(pragma(file, "quick_check"), "ok");
});

/** A state as the releases before issue 16 wrote it: 4 kB pages (SQLite's default), the same schema. */
function makeOldState(file: string): void {
  const raw = new Database(file);
  raw.pragma("page_size = 4096");
  raw.pragma("journal_mode = WAL"); // writes the header: the page size is fixed from here on
  raw.close();
  const store = openStore(file);
  try {
    // ~2 kB bodies as real detections are; some delivered to one destination, one to both.
    const records = Array.from({ length: 40 }, (_, i) =>
      detection(`da63845${i}_1:${"k".repeat(40)}`, 1 + (i % 50), {
        Pad: `${i}`.repeat(2000 / `${i}`.length),
      }),
    );
    store.ingest("contoso", records, ts(30));
    store.ingest("fabrikam", [detection("fab-1", 2)], ts(2), [
      { hash: "h1", reason: "not_an_object", raw: "[1]", bytes: 3, kind: "siem" },
    ]);
    const firstTen = store.next("siem-a", 0, 10).map((e) => e.id);
    store.ack("siem-a", firstTen);
    store.ack("siem-b", [firstTen[0] as number]);
    store.recordDelivery("siem-a", { ok: true });
  } finally {
    store.close();
  }
  assert.equal(pragma(file, "page_size"), 4096);
}

function snapshot(file: string) {
  const store = openStore(file, { readonly: true });
  try {
    return {
      checkpoints: [store.getCheckpoint("contoso"), store.getCheckpoint("fabrikam")],
      siemA: store.next("siem-a", 0, 1000).map(({ receivedAt: _, ...e }) => e),
      siemB: store.next("siem-b", 0, 1000).map(({ receivedAt: _, ...e }) => e),
      quarantined: store.quarantined(0, 10).map((q) => [q.tenant, q.reason, q.raw]),
      depths: [...store.outboxDepths()],
    };
  } finally {
    store.close();
  }
}

test("issue 16: a state with 4 kB pages is rewritten with 16 kB pages at open, keeping every row", () => {
  const file = path.join(newDir(), "state.db");
  makeOldState(file);
  const before = snapshot(file);
  assert.equal(before.siemA.length, 31);
  assert.equal(before.siemB.length, 40);

  const store = openStore(file);
  try {
    // Dedupe still knows every key: the whole first batch again is all duplicates.
    const again = store.ingest(
      "contoso",
      Array.from({ length: 40 }, (_, i) => detection(`da63845${i}_1:${"k".repeat(40)}`, 1)),
      undefined,
    );
    assert.deepEqual([again.inserted, again.duplicates], [0, 40]);
  } finally {
    store.close();
  }
  assert.equal(pragma(file, "page_size"), PAGE_SIZE);
  assert.equal(pragma(file, "journal_mode"), "wal");
  assert.equal(pragma(file, "user_version"), SCHEMA_VERSION);
  assert.equal(pragma(file, "quick_check"), "ok");
  assert.deepEqual(snapshot(file), before, "checkpoints, outbox bodies, depths and quarantine unchanged");
});

test("issue 16: a large 4 kB state keeps its pages, and a reader holding the file postpones the rewrite", () => {
  const file = path.join(newDir(), "state.db");
  makeOldState(file);
  const before = snapshot(file);
  const log = silentLogger();
  // Too large to rewrite at open (smallStateBytes 0 stands for a backlog of 1M events).
  openStateDatabase({ path: file, smallStateBytes: 0 }, { log }).close();
  assert.equal(pragma(file, "page_size"), 4096);

  // A reader (the status command) has the file open: the journal cannot leave WAL mode, the open goes on.
  const reader = new Database(file, { readonly: true });
  try {
    reader.prepare("SELECT count(*) FROM event").get();
    const store = openStore(file);
    try {
      assert.equal(store.getCheckpoint("contoso"), ts(30));
    } finally {
      store.close();
    }
  } finally {
    reader.close();
  }
  assert.equal(pragma(file, "page_size"), 4096);
  assert.equal(pragma(file, "journal_mode"), "wal");

  // The next start finds it alone and rewrites it.
  openStore(file).close();
  assert.equal(pragma(file, "page_size"), PAGE_SIZE);
  assert.deepEqual(snapshot(file), before);
});

test("a path under a regular file is E_STATE_OPEN naming the path and errno", () => {
  const dir = newDir();
  const blocker = path.join(dir, "not-a-dir");
  fs.writeFileSync(blocker, "x");
  for (const file of [path.join(blocker, "state.db"), path.join(blocker, "sub", "state.db")]) {
    assert.throws(() => openStore(file), isStateError("E_STATE_OPEN", blocker, "ENOTDIR"));
  }
  assert.equal(fs.readFileSync(blocker, "utf8"), "x");
});

test("issue 14, finding 8: state.path naming a directory, or a path under a file, says so in words (no bare errno, no code twice)", () => {
  const dir = newDir();
  for (const readonly of [false, true]) {
    assert.throws(
      () => openStore(dir, { readonly }),
      isStateError("E_STATE_OPEN", `state.path ${dir} is a directory. Fix: set state.path to a file in it`),
    );
  }
  const blocker = path.join(dir, "not-a-dir");
  fs.writeFileSync(blocker, "x");
  const under = path.join(blocker, "state.db");
  assert.throws(
    () => openStore(under, { readonly: true }),
    (err: unknown) =>
      isStateError("E_STATE_OPEN", `no state at ${under}: a file is in the way`, "(ENOTDIR)")(err) &&
      !/ENOTDIR: ENOTDIR|access '/.test((err as Error).message),
  );
  assert.equal(fs.readFileSync(blocker, "utf8"), "x");
});

test("a read-only directory or file is E_STATE_OPEN naming the path and errno", (t) => {
  if (process.getuid?.() === 0) {
    t.skip("running as root: chmod does not restrict root (the ENOTDIR test covers the path)");
    return;
  }
  const dir = newDir();
  fs.chmodSync(dir, 0o500);
  t.after(() => fs.chmodSync(dir, 0o700));
  assert.throws(() => openStore(path.join(dir, "state.db")), isStateError("E_STATE_OPEN", dir, "EACCES"));

  // A read-only file in a writable directory: SQLite alone would fail only at the first write.
  const file = path.join(newDir(), "state.db");
  makeState(file);
  fs.chmodSync(file, 0o400);
  assert.throws(() => openStore(file), isStateError("E_STATE_OPEN", file, "EACCES"));
});

test("a file that is not a database is E_STATE_CORRUPT and left untouched", () => {
  const dir = newDir();
  const file = path.join(dir, "state.db");
  const garbage = Buffer.alloc(16_384);
  for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919 + 13) % 251;
  fs.writeFileSync(file, garbage);

  assert.throws(
    () => openStore(file),
    (err: unknown) =>
      isStateError("E_STATE_CORRUPT", file, "NOT reset")(err) &&
      err instanceof ForwarderError &&
      err.cause instanceof Database.SqliteError,
  );
  assert.ok(fs.readFileSync(file).equals(garbage), "same bytes afterwards");
  // The lock file (taken before the state is opened) holds no data; nothing was added to the state itself.
  assert.deepEqual(
    fs.readdirSync(dir).filter((f) => f !== "state.db.lock"),
    ["state.db"],
    "no -wal or -shm created",
  );
});

test("a damaged database is E_STATE_CORRUPT, not reset", () => {
  const file = path.join(newDir(), "state.db");
  makeState(file, 300);
  const bytes = fs.readFileSync(file);
  const pageSize = Number(pragma(file, "page_size"));
  assert.ok(bytes.length >= pageSize * 6, "enough pages to damage");
  // Overwrite the headers of pages 3..6 (page 1, the file header, stays valid).
  for (let page = 2; page < 6; page++) bytes.fill(0xff, page * pageSize, page * pageSize + 16);
  fs.writeFileSync(file, bytes);

  assert.throws(() => openStore(file), isStateError("E_STATE_CORRUPT", file, "NOT reset"));
  assert.ok(fs.readFileSync(file).equals(bytes), "left as it was");
});

test("a database that fails quick_check is E_STATE_CORRUPT, not reset", () => {
  const file = path.join(newDir(), "state.db");
  makeState(file, 3);
  // Append a page no b-tree uses and count it in the header: SQLite opens the file fine, but
  // quick_check reports "Page N: never used" (a row, not an exception).
  const original = fs.readFileSync(file);
  const pageSize = original.readUInt16BE(16);
  const bytes = Buffer.concat([original, Buffer.alloc(pageSize)]);
  bytes.writeUInt32BE(original.readUInt32BE(28) + 1, 28);
  fs.writeFileSync(file, bytes);

  assert.throws(() => openStore(file), isStateError("E_STATE_CORRUPT", file, "NOT reset", "never used"));
  assert.ok(fs.readFileSync(file).equals(bytes), "left as it was");
});

/** Overwrites the header of the root page of `table` (its b-tree can no longer be read). */
function damageRoot(file: string, table: string): void {
  const rootPage = Number(
    (() => {
      const db = new Database(file, { readonly: true });
      try {
        return db.prepare("SELECT rootpage FROM sqlite_schema WHERE name = ?").pluck().get(table);
      } finally {
        db.close();
      }
    })(),
  );
  const bytes = fs.readFileSync(file);
  const pageSize = bytes.readUInt16BE(16) === 1 ? 65_536 : bytes.readUInt16BE(16);
  bytes.fill(0xff, (rootPage - 1) * pageSize, (rootPage - 1) * pageSize + 12);
  fs.writeFileSync(file, bytes);
}

test("issue 16: a large state checks its small tables at open; damage in a big one is E_STATE_CORRUPT at use", () => {
  // smallStateBytes 0 stands for a state too large for the full quick_check at open (a 1M backlog).
  const log = silentLogger();
  const damagedEvents = path.join(newDir(), "state.db");
  makeState(damagedEvents, 300);
  damageRoot(damagedEvents, "event");
  const before = fs.readFileSync(damagedEvents);
  // The full check at open catches it when the state is small...
  assert.throws(() => openStore(damagedEvents), isStateError("E_STATE_CORRUPT", "NOT reset"));
  // ...and a large one opens at once, then the first read of the damaged table fails, never resets.
  const db = openStateDatabase({ path: damagedEvents, smallStateBytes: 0 }, { log });
  const store = createSqliteStore(
    db,
    { path: damagedEvents, retention: 86_400_000, destinations: ["siem-a"] },
    { log },
  );
  try {
    assert.equal(store.getCheckpoint("contoso"), ts(1), "the checkpoint is intact and readable");
    assert.throws(() => store.next("siem-a", 0, 10), isStateError("E_STATE_CORRUPT", "NOT reset"));
  } finally {
    store.close();
  }
  assert.ok(fs.readFileSync(damagedEvents).subarray(0, 100).equals(before.subarray(0, 100)));

  // Damage to a small table (the checkpoints) is caught at open however large the state.
  const damagedCheckpoint = path.join(newDir(), "state.db");
  makeState(damagedCheckpoint, 300);
  damageRoot(damagedCheckpoint, "checkpoint");
  assert.throws(
    () => openStateDatabase({ path: damagedCheckpoint, smallStateBytes: 0 }, { log }),
    isStateError("E_STATE_CORRUPT", damagedCheckpoint, "NOT reset"),
  );
});

test("a database from a newer version is refused with E_STATE_OPEN", () => {
  const file = path.join(newDir(), "state.db");
  makeState(file);
  const raw = new Database(file);
  raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  raw.close();
  const before = fs.readFileSync(file);

  assert.throws(() => openStore(file), isStateError("E_STATE_OPEN", file, "created by a newer version"));
  assert.throws(
    () => openStore(file, { readonly: true }),
    isStateError("E_STATE_OPEN", "created by a newer version"),
  );
  assert.ok(fs.readFileSync(file).equals(before));
});

test("another application's SQLite file is refused, not altered", () => {
  const file = path.join(newDir(), "other.db");
  const raw = new Database(file);
  raw.exec("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('keep me');");
  raw.close();
  const before = fs.readFileSync(file);

  assert.throws(() => openStore(file), isStateError("E_STATE_OPEN", file, "not a forwarder state"));
  assert.ok(fs.readFileSync(file).equals(before));

  // Same if it carries a user_version but not our application_id.
  const versioned = new Database(file);
  versioned.pragma("user_version = 1");
  versioned.close();
  assert.throws(() => openStore(file), isStateError("E_STATE_OPEN", "not a forwarder state"));
});

test("readonly: status works on an existing state and writes are refused", () => {
  const file = path.join(newDir(), "state.db");
  makeState(file, 2);
  const store = openStore(file, { readonly: true, destinations: ["siem-a"] });
  try {
    const status = store.status();
    assert.deepEqual(status.tenants, [{ tenant: "contoso", checkpoint: ts(1) }]);
    assert.deepEqual(
      status.destinations.map((d) => [d.destination, d.outbox]),
      [
        ["siem-a", 2],
        ["siem-b", 2],
      ],
      "destinations found in the file are shown too",
    );
    assert.deepEqual(store.outboxDepths(), new Map([["siem-a", 2]]));
    assert.throws(() => store.ingest("contoso", [detection("x")], undefined), /read-only/);
    assert.throws(() => store.recordPoll("contoso", { ok: true }), /read-only/);
  } finally {
    store.close();
  }
  const writer = openStore(file);
  try {
    assert.equal(
      writer.ingest("contoso", [detection("x")], undefined).inserted,
      1,
      "nothing was marked seen",
    );
  } finally {
    writer.close();
  }
});

test("readonly: a missing state is E_STATE_OPEN and nothing is created", () => {
  const dir = path.join(newDir(), "absent");
  const file = path.join(dir, "state.db");
  assert.throws(
    () => openStore(file, { readonly: true }),
    isStateError("E_STATE_OPEN", `no state at ${file}`),
  );
  assert.equal(fs.existsSync(dir), false);

  // An empty file is not a state either, and read-only mode will not initialise it.
  fs.mkdirSync(dir);
  fs.writeFileSync(file, "");
  assert.throws(
    () => openStore(file, { readonly: true }),
    isStateError("E_STATE_OPEN", "start the forwarder once"),
  );
  assert.equal(fs.statSync(file).size, 0);
});

test("every hot query is an index search, never a table scan or a sort", () => {
  const file = path.join(newDir(), "state.db");
  makeState(file, 50);
  const db = new Database(file, { readonly: true });
  // No ANALYZE: the planner's defaults are what a fresh install gets.
  const hot = [
    // The INSERT ... ON CONFLICT statements have no plan to show: their conflict check is a primary-key probe.
    "getCheckpoint",
    "next",
    "deleteOutboxRun",
    "deleteEventsIfUnused",
    "deleteDestinationOutbox",
    "deleteEventIfUnused",
    "deleteDepth",
    "pruneSeen",
  ] as const;
  try {
    for (const name of hot) {
      const plan = queryPlan(db, STORE_SQL[name]);
      for (const step of plan) {
        assert.doesNotMatch(step, /^SCAN |TEMP B-TREE/, `${name}: ${plan.join(" | ")}`);
      }
      if (name === "next") {
        assert.ok(
          plan.some((p) => /SEARCH o USING PRIMARY KEY \(destination=\? AND event_id>\?\)/.test(p)),
          `next is an outbox range scan: ${plan.join(" | ")}`,
        );
      }
      if (name === "pruneSeen") {
        assert.ok(
          plan.some((p) => /seen_by_age \(seen_at<\?\)/.test(p)),
          plan.join(" | "),
        );
      }
    }
    // outboxDepths reads the small per-destination table only, never event or outbox.
    const depthPlan = queryPlan(db, STORE_SQL.depths);
    assert.ok(
      depthPlan.every((p) => /outbox_depth/.test(p)),
      depthPlan.join(" | "),
    );
  } finally {
    db.close();
  }
});

function queryPlan(db: Database.Database, sql: string): string[] {
  const stmt = db.prepare(`EXPLAIN QUERY PLAN ${sql}`);
  // Placeholders must be bound even to explain; the values do not change the plan.
  const params = sql.includes("@id") ? [{ id: 1 }] : Array.from(sql.matchAll(/\?/g), () => 1);
  return stmt.all(...params).map((row) => String((row as { detail: string }).detail));
}
