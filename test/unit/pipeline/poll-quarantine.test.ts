// Issue 11, finding 2: a detection that cannot be keyed, routed or serialised is that detection's problem:
// it goes to the quarantine (unstorable), the others of its part are stored, and the poll succeeds. The
// bounded parser makes this unreachable for API data; a detection holding a BigInt (JSON.stringify throws)
// stands in for whatever might get past it.
import assert from "node:assert/strict";
import path from "node:path";
import { test } from "node:test";
import { silentLogger } from "../../../src/log.js";
import { createMetrics } from "../../../src/metrics/definitions.js";
import { createPoller } from "../../../src/pipeline/poll.js";
import type { Detection } from "../../../src/record.js";
import { counterValue } from "../../support/source.js";
import { openStore, tempDir } from "../state/helpers.js";
import { partsSource } from "./parts-source.js";

test("issue 11 finding 2: a detection that cannot be keyed or serialised is quarantined as unstorable; the poll goes on", async (t) => {
  const { dir, remove } = tempDir();
  const store = openStore(path.join(dir, "state.db"), { destinations: ["siem"] });
  t.after(() => {
    store.close();
    remove();
  });
  const metrics = createMetrics({ defaultMetrics: false });
  const time = new Date(Date.now() - 60_000).toISOString();
  const good = { FullId: "good", LastProcessedTimeUtc: time, Title: "fine" };
  // No FullId: its content hash cannot be computed. With a FullId: keyed, but its body cannot be stored.
  const unkeyable = { LastProcessedTimeUtc: time, Title: "no id", n: 10n } as unknown as Detection;
  const unserialisable = { FullId: "big", LastProcessedTimeUtc: time, n: 10n } as unknown as Detection;
  const poller = createPoller(
    partsSource([[good, unkeyable, unserialisable]]),
    { maxOutbox: 1_000 },
    { log: silentLogger(), metrics, store },
  );

  const result = await poller.poll();
  assert.equal(result.status, "ok", JSON.stringify(result));
  assert.deepEqual(
    store.next("siem", 0, 10).map((e) => JSON.parse(e.body).FullId),
    ["good"],
  );
  const rows = store.quarantined(0, 10);
  assert.deepEqual(rows.map((r) => r.reason).sort(), ["unstorable", "unstorable"]);
  // What could be kept of the unkeyable one: its top-level scalars.
  assert.ok(rows.some((r) => r.raw === JSON.stringify({ LastProcessedTimeUtc: time, Title: "no id" })));
  assert.equal(
    await counterValue(metrics, "mde_detections_quarantined_total", { tenant: "t", reason: "unstorable" }),
    2,
  );

  // Read again (the overlap): neither is quarantined twice.
  assert.equal((await poller.poll()).status, "ok");
  assert.equal(store.quarantined(0, 10).length, 2);
});
