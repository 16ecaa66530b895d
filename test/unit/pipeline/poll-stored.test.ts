// The poller tells the pipeline which events each ingest stored, paired with their parsed detections (for
// the drains' hot tails, src/pipeline/hot-tail.ts): duplicates, doubles within a part and unstorable
// detections are left out, ids and outbox rows match, and routing is carried along.
import assert from "node:assert/strict";
import path from "node:path";
import { test } from "node:test";
import { silentLogger } from "../../../src/log.js";
import { createMetrics } from "../../../src/metrics/definitions.js";
import { createPoller, type StoredDetection } from "../../../src/pipeline/poll.js";
import type { Detection } from "../../../src/record.js";
import { openStore, tempDir } from "../state/helpers.js";
import { partsSource } from "./parts-source.js";

test("onStored: each stored event with its detection, outbox id and destinations; duplicates left out", async (t) => {
  const { dir, remove } = tempDir();
  const store = openStore(path.join(dir, "state.db"), { destinations: ["a", "b"] });
  t.after(() => {
    store.close();
    remove();
  });
  const at = (s: number) => new Date(Date.now() - 600_000 + s * 1000).toISOString();
  const d = (id: string, s: number, extra: Record<string, unknown> = {}): Detection => ({
    FullId: id,
    LastProcessedTimeUtc: at(s),
    ...extra,
  });
  const unserialisable = { FullId: "big", LastProcessedTimeUtc: at(3), n: 10n } as unknown as Detection;
  const calls: Array<readonly StoredDetection[] | undefined> = [];
  const poller = createPoller(
    // Part 2 repeats x (a duplicate) and holds y twice; newest first within a part, as the API answers.
    partsSource([
      [d("x", 2, { to: "b" }), unserialisable, d("w", 1)],
      [d("y", 5), d("x", 2, { to: "b" }), d("y", 5), d("z", 4)],
    ]),
    { maxOutbox: 1_000, router: (det) => (det.to === "b" ? ["b"] : ["a", "b"]) },
    {
      log: silentLogger(),
      metrics: createMetrics({ defaultMetrics: false }),
      store,
      onStored: (s) => calls.push(s),
    },
  );
  assert.equal((await poller.poll()).status, "ok");
  assert.equal(calls.length, 2, "one call per part that stored events");
  const [first, second] = calls;
  assert.deepEqual(
    first?.map((e) => [e.detection.FullId, e.destinations]),
    [
      ["w", ["a", "b"]],
      ["x", ["b"]],
    ],
    "oldest first; the unstorable one is not among them",
  );
  assert.deepEqual(
    second?.map((e) => e.detection.FullId),
    ["z", "y"],
    "x (seen) and the second y are not stored again",
  );
  const all = [...(first ?? []), ...(second ?? [])];
  // The ids are the outbox's: what store.next returns for each destination, in the same order.
  for (const destination of ["a", "b"]) {
    const outbox = store.next(destination, 0, 100);
    const mine = all.filter((e) => e.destinations?.includes(destination) ?? true);
    assert.deepEqual(
      mine.map((e) => [e.id, JSON.stringify(e.detection), e.bytes, e.tenant, e.kind]),
      outbox.map((r) => [r.id, r.body, Buffer.byteLength(r.body), r.tenant, r.kind]),
      destination,
    );
  }

  // Read again (the overlap): nothing new is stored, so nothing is told.
  assert.equal((await poller.poll()).status, "ok");
  assert.equal(calls.length, 2);
});
