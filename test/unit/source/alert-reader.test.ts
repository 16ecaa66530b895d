import assert from "node:assert/strict";
import { test } from "node:test";
import { ForwarderError } from "../../../src/errors.js";
import { type Detection, EVIDENCE_INDEX_FIELD, toDetectionRecord } from "../../../src/record.js";
import { readByKeyset, readByNextLink, splitEvidence } from "../../../src/source/alert-reader.js";
import type { AlertsPageQuery } from "../../../src/source/alerts-api.js";
import type { GraphApi } from "../../../src/source/graph-api.js";
import { formatTimestamp, parseTimestamp, type Ticks } from "../../../src/timestamp.js";

const T0 = parseTimestamp("2026-11-30T00:00:00Z") ?? 0n;
const time = (d: Detection) => parseTimestamp(d.lastUpdateTime);
const id = (d: Detection) => String(d.id);

/** The Alerts API's documented query semantics, in memory: ge filter, ascending order, $top, $skip. */
function alertsApi(alerts: Array<{ id: string; at: Ticks }>) {
  const store = alerts.map((a) => ({ id: a.id, lastUpdateTime: formatTimestamp(a.at) }));
  const queries: AlertsPageQuery[] = [];
  const fetch = async (q: AlertsPageQuery): Promise<Detection[]> => {
    queries.push(q);
    return store
      .filter((a) => (time(a) ?? 0n) >= q.since)
      .sort((a, b) =>
        a.lastUpdateTime < b.lastUpdateTime
          ? -1
          : a.lastUpdateTime > b.lastUpdateTime
            ? 1
            : a.id < b.id
              ? -1
              : 1,
      )
      .slice(q.skip, q.skip + q.top);
  };
  return { store, queries, fetch };
}

async function collect(gen: AsyncGenerator<{ alerts: Detection[] }>) {
  const pages: Detection[][] = [];
  for await (const p of gen) pages.push(p.alerts);
  return pages;
}

test("keyset paging reads every alert once in time order, $skip only across one instant", async () => {
  const alerts = [
    ...Array.from({ length: 250 }, (_, i) => ({ id: `a${i}`, at: T0 + BigInt(i) * 10_000n })),
    // 120 alerts on one instant: more than a page.
    ...Array.from({ length: 120 }, (_, i) => ({
      id: `same${String(i).padStart(3, "0")}`,
      at: T0 + 5_000_000n,
    })),
  ];
  const api = alertsApi(alerts);
  const pages = await collect(readByKeyset(T0, 50, api.fetch, time, id));
  const ids = pages.flat().map(id);
  assert.equal(new Set(ids).size, 370, "every alert");
  assert.equal(ids.length, 370, "none twice");
  const times = pages.flat().map((a) => String(a.lastUpdateTime));
  assert.deepEqual(times, [...times].sort(), "oldest first");
  assert.ok(
    api.queries.some((q) => q.skip >= 50),
    "an instant holding more than a page was paged with $skip",
  );
  assert.ok(
    api.queries.every((q, i) => i === 0 || q.since >= (api.queries[i - 1]?.since ?? 0n)),
    "the cursor only moves forward",
  );
});

test("an alert updated while paging moves to the end and is read as its new version; nothing is skipped", async () => {
  const api = alertsApi(
    Array.from({ length: 100 }, (_, i) => ({ id: `a${i}`, at: T0 + BigInt(i) * 10_000n })),
  );
  const seen: string[] = [];
  let updated = false;
  for await (const page of readByKeyset(T0, 30, api.fetch, time, id)) {
    for (const a of page.alerts) seen.push(toDetectionRecord(a, "alerts").key);
    if (!updated) {
      // Update an alert already read: offset-based paging would now skip an unread one.
      const a5 = api.store.find((a) => a.id === "a5");
      if (a5) a5.lastUpdateTime = formatTimestamp(T0 + 5_000_000n);
      updated = true;
    }
  }
  const ids = new Set(seen.map((k) => k.split("@")[0]));
  assert.equal(ids.size, 100, "no alert skipped");
  assert.equal(seen.filter((k) => k.startsWith("a5@")).length, 2, "two versions of the updated alert");
});

test("a server that ignores $skip is caught instead of looping", async () => {
  const same = Array.from({ length: 10 }, (_, i) => ({ id: `s${i}`, lastUpdateTime: formatTimestamp(T0) }));
  const ignoresSkip = async (q: AlertsPageQuery) => same.slice(0, q.top);
  await assert.rejects(
    collect(readByKeyset(T0, 5, ignoresSkip, time, id)),
    (e: unknown) => e instanceof ForwarderError && e.code === "E_API_BAD_RESPONSE",
  );
});

test("nextLink paging follows the links and refuses a link that loops", async () => {
  const pages = [["a", "b"], ["c"], ["d"]];
  const api: GraphApi = {
    first: async () => ({ alerts: (pages[0] ?? []).map((x) => ({ id: x })), next: "https://g/p1" }),
    page: async (url) => {
      const n = Number(url.slice(-1));
      return {
        alerts: (pages[n] ?? []).map((x) => ({ id: x })),
        next: n < 2 ? `https://g/p${n + 1}` : undefined,
      };
    },
  };
  assert.deepEqual((await collect(readByNextLink(T0, 2, api))).flat().map(id), ["a", "b", "c", "d"]);
  const looping: GraphApi = { ...api, page: async () => ({ alerts: [], next: "https://g/p1" }) };
  await assert.rejects(collect(readByNextLink(T0, 2, looping)), /loops/);
});

test("split per evidence: one item per entity, each its own version key", () => {
  const alert = {
    id: "x",
    lastUpdateTime: "2026-11-30T00:00:00.5Z",
    evidence: [{ entityType: "File" }, { entityType: "User" }],
  };
  const items = splitEvidence(alert);
  assert.equal(items.length, 2);
  assert.deepEqual(items[1]?.evidence, [{ entityType: "User" }]);
  assert.equal(items[1]?.[EVIDENCE_INDEX_FIELD], 1);
  assert.deepEqual(
    items.map((i) => toDetectionRecord(i, "alerts").key),
    ["x@2026-11-30T00:00:00.5000000Z#0", "x@2026-11-30T00:00:00.5000000Z#1"],
  );
  assert.deepEqual(splitEvidence({ id: "y", evidence: [] }), [{ id: "y", evidence: [] }]);
});

test("records of the newer APIs: version keys and times; same version dedupes, an update does not", () => {
  const v1 = toDetectionRecord({ id: "g1", lastUpdateDateTime: "2026-11-30T10:00:00.1Z" }, "graph");
  const v1again = toDetectionRecord(
    { id: "g1", lastUpdateDateTime: "2026-11-30T10:00:00.1000000Z", status: "new" },
    "graph",
  );
  const v2 = toDetectionRecord({ id: "g1", lastUpdateDateTime: "2026-11-30T10:05:00Z" }, "graph");
  assert.equal(v1.key, v1again.key);
  assert.notEqual(v1.key, v2.key);
  assert.equal(v1.lastProcessed, "2026-11-30T10:00:00.1000000Z");
  assert.equal(v1.kind, "graph");
  assert.equal(v1.malformed, false);
  const broken = toDetectionRecord({ title: "no id" }, "alerts");
  assert.match(broken.key, /^sha256:/);
  assert.equal(broken.malformed, true);
});

test("split per evidence (Graph): items about a file or user keep the device entity second", () => {
  const device = {
    "@odata.type": "#microsoft.graph.security.deviceEvidence",
    deviceDnsName: "pc1",
    rbacGroupName: "UK",
  };
  const file = {
    "@odata.type": "#microsoft.graph.security.fileEvidence",
    fileDetails: { fileName: "x.exe" },
  };
  const items = splitEvidence({
    id: "g",
    lastUpdateDateTime: "2026-11-30T00:00:00Z",
    evidence: [device, file],
  });
  assert.deepEqual(items[0]?.evidence, [device], "the device item alone");
  assert.deepEqual(items[1]?.evidence, [file, device], "the file item names its machine");
  assert.equal(toDetectionRecord(items[1] ?? {}, "graph").key, "g@2026-11-30T00:00:00.0000000Z#1");
});
