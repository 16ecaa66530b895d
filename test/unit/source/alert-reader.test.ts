import assert from "node:assert/strict";
import { test } from "node:test";
import { ForwarderError } from "../../../src/errors.js";
import { type Detection, EVIDENCE_INDEX_FIELD, toDetectionRecord } from "../../../src/record.js";
import { readByKeyset, readGraph, splitEvidence } from "../../../src/source/alert-reader.js";
import type { AlertsPageQuery } from "../../../src/source/alerts-api.js";
import { type GraphApi, type GraphPage, serviceFilter } from "../../../src/source/graph-api.js";
import { formatTimestamp, parseTimestamp, type Ticks } from "../../../src/timestamp.js";

const T0 = parseTimestamp("2026-11-30T00:00:00Z") ?? 0n;
const time = (d: Detection) => parseTimestamp(d.lastUpdateTime);
const graphTime = (d: Detection) => parseTimestamp(d.lastUpdateDateTime);
const id = (d: Detection) => String(d.id);

interface MemAlert {
  id: string;
  at: Ticks;
  /** Creation order: the tie order of a range query, which is not the id order. */
  seq: number;
}

/**
 * The Alerts API's query semantics, in memory: a range (ge/gt, oldest first, ties in creation order, not by
 * id) and an instant (eq, by id, `id gt`), $top. `beforeRequest(n)` runs before the n-th request (from 1).
 */
function alertsApi(alerts: Array<{ id: string; at: Ticks }>, beforeRequest?: (n: number) => void) {
  const store: MemAlert[] = alerts.map((a, seq) => ({ ...a, seq }));
  const queries: AlertsPageQuery[] = [];
  const render = (a: MemAlert): Detection => ({ id: a.id, lastUpdateTime: formatTimestamp(a.at) });
  const fetch = async (q: AlertsPageQuery): Promise<Detection[]> => {
    queries.push(q);
    beforeRequest?.(queries.length);
    if (q.kind === "range") {
      return store
        .filter((a) => (q.strict ? a.at > q.since : a.at >= q.since))
        .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.seq - b.seq))
        .slice(0, q.top)
        .map(render);
    }
    return store
      .filter((a) => a.at === q.at && (q.afterId === undefined || a.id > q.afterId))
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .slice(0, q.top)
      .map(render);
  };
  /** An update: a new lastUpdateTime, later than every other. */
  const update = (alertId: string, at: Ticks) => {
    const a = store.find((x) => x.id === alertId);
    if (a) a.at = at;
  };
  return { store, queries, fetch, update };
}

async function collect(gen: AsyncGenerator<{ alerts: Detection[] }>) {
  const pages: Detection[][] = [];
  for await (const p of gen) pages.push(p.alerts);
  return pages;
}

const versionKeys = (pages: Detection[][], kind: "alerts" | "graph") =>
  pages.flat().map((a) => toDetectionRecord(a, kind).key);

test("keyset paging reads every alert in time order, an instant larger than a page by id, never $skip", async () => {
  const alerts = [
    ...Array.from({ length: 250 }, (_, i) => ({ id: `a${i}`, at: T0 + BigInt(i) * 10_000n })),
    // 120 alerts on one instant: more than a page; created in an order that is not their id order.
    ...Array.from({ length: 120 }, (_, i) => ({
      id: `same${String((i * 37) % 120).padStart(3, "0")}`,
      at: T0 + 5_000_000n,
    })),
  ];
  const api = alertsApi(alerts);
  const pages = await collect(readByKeyset(T0, 50, api.fetch, time));
  const ids = new Set(pages.flat().map(id));
  assert.equal(ids.size, 370, "every alert");
  const times = pages.flat().map((a) => String(a.lastUpdateTime));
  assert.deepEqual(times, [...times].sort(), "oldest first");
  assert.ok(
    api.queries.some((q) => q.kind === "instant" && q.afterId !== undefined),
    "the instant holding more than a page was paged by id",
  );
  const ranges = api.queries.filter((q) => q.kind === "range");
  assert.ok(
    ranges.every((q, i) => i === 0 || q.since > (ranges[i - 1]?.since ?? 0n)),
    "the range cursor only moves forward",
  );
});

test("issue 12: alerts of one instant updated between page requests are all read (the $skip race)", async () => {
  // 130 alerts at one instant, pages of 50; before each later request, alerts already read are updated.
  // With $skip paging each update moves an unread alert across the page boundary, and it is never read.
  const at = T0 + 1_000_000n;
  const alerts = Array.from({ length: 130 }, (_, i) => ({ id: `x${String(i).padStart(3, "0")}`, at }));
  let clock = T0 + 10_000_000n;
  const updated: string[] = [];
  const api = alertsApi(alerts, (n) => {
    if (n < 2 || n > 4) return;
    // Alerts of the first page (the range query's first 50, in creation order) have been read by then.
    for (const k of [0, 10, 20].map((j) => j + n)) {
      const alertId = `x${String(k).padStart(3, "0")}`;
      clock += 1_000n;
      api.update(alertId, clock);
      updated.push(`${alertId}@${formatTimestamp(clock)}`);
    }
  });
  const pages = await collect(readByKeyset(T0, 50, api.fetch, time));
  const keys = new Set(versionKeys(pages, "alerts"));
  for (const a of alerts)
    assert.ok(keys.has(`${a.id}@${formatTimestamp(at)}`), `${a.id} at the instant read`);
  for (const key of updated) assert.ok(keys.has(key), `update ${key} read`);
  assert.equal(updated.length, 9);
});

test("an Alerts API that ignores `id gt` or $orderby is caught instead of looping or skipping", async () => {
  const same = Array.from({ length: 10 }, (_, i) => ({ id: `s${i}`, lastUpdateTime: formatTimestamp(T0) }));
  const ignoresId = async (q: AlertsPageQuery) => same.slice(0, q.top);
  await assert.rejects(
    collect(readByKeyset(T0, 5, ignoresId, time)),
    (e: unknown) => e instanceof ForwarderError && e.code === "E_API_BAD_RESPONSE",
  );
  const newestFirst = Array.from({ length: 5 }, (_, i) => ({
    id: `d${i}`,
    lastUpdateTime: formatTimestamp(T0 + BigInt(10 - i) * 1_000n),
  }));
  await assert.rejects(collect(readByKeyset(T0, 5, async () => newestFirst, time)), /not oldest first/);
});

/**
 * Graph with an offset nextLink (what Microsoft may well do behind `$skiptoken`): ge filter, oldest first,
 * `$top`, the next link carrying the offset of the query it continues.
 */
function offsetGraph(items: Array<{ id: string; at: Ticks }>, beforeRequest?: (n: number) => void) {
  const store = items.map((a, seq) => ({ ...a, seq }));
  const requests: string[] = [];
  const page = (since: Ticks, top: number, skip: number): GraphPage => {
    const all = store
      .filter((a) => a.at >= since)
      .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.seq - b.seq));
    const slice = all.slice(skip, skip + top);
    return {
      items: slice.map((a) => ({ id: a.id, lastUpdateDateTime: formatTimestamp(a.at) })),
      next: skip + top < all.length ? `https://g/?since=${since}&top=${top}&skip=${skip + top}` : undefined,
    };
  };
  const api: GraphApi = {
    first: async (since, top) => {
      requests.push("first");
      beforeRequest?.(requests.length);
      return page(since, top, 0);
    },
    page: async (url) => {
      requests.push("next");
      beforeRequest?.(requests.length);
      const q = new URL(url).searchParams;
      return page(BigInt(q.get("since") ?? "0"), Number(q.get("top")), Number(q.get("skip")));
    },
  };
  const update = (itemId: string, at: Ticks) => {
    const a = store.find((x) => x.id === itemId);
    if (a) a.at = at;
  };
  return { api, requests, update };
}

test("issue 12: Graph items updated between page requests are all read, even if nextLink is an offset", async () => {
  const items = Array.from({ length: 200 }, (_, i) => ({ id: `g${i}`, at: T0 + BigInt(i) * 1_000n }));
  let clock = T0 + 10_000_000n;
  const updated: string[] = [];
  const g = offsetGraph(items, (n) => {
    if (n < 2) return;
    // The first item of the previous page changes: an offset would now skip one unread item.
    const target = `g${(n - 2) * 30}`;
    clock += 1_000n;
    g.update(target, clock);
    updated.push(`${target}@${formatTimestamp(clock)}`);
  });
  const pages = await collect(readGraph(T0, 30, g.api, graphTime));
  const keys = new Set(versionKeys(pages, "graph"));
  for (const a of items) assert.ok(keys.has(`${a.id}@${formatTimestamp(a.at)}`), `${a.id} read`);
  for (const key of updated) assert.ok(keys.has(key), `update ${key} read`);
  assert.ok(
    g.requests.every((r, i) => i === 0 || r === "first"),
    "each page is a new query from the newest time",
  );
});

test("Graph: a nextLink is followed while whole pages sit on one instant, and a looping one is refused", async () => {
  const items = [
    ...Array.from({ length: 70 }, (_, i) => ({ id: `s${i}`, at: T0 })),
    ...Array.from({ length: 10 }, (_, i) => ({ id: `l${i}`, at: T0 + BigInt(i + 1) * 1_000n })),
  ];
  const g = offsetGraph(items);
  const pages = await collect(readGraph(T0, 30, g.api, graphTime));
  assert.equal(new Set(pages.flat().map(id)).size, 80, "every item");
  assert.deepEqual(g.requests.slice(0, 3), ["first", "next", "next"], "the instant by its nextLinks");

  const looping: GraphApi = {
    first: async () => ({
      items: [{ id: "a", lastUpdateDateTime: formatTimestamp(T0) }],
      next: "https://g/p1",
    }),
    page: async () => ({
      items: [{ id: "a", lastUpdateDateTime: formatTimestamp(T0) }],
      next: "https://g/p1",
    }),
  };
  await assert.rejects(collect(readGraph(T0, 1, looping, graphTime)), /loops/);
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

test("service_sources as Graph's $filter: one eq, or several joined by or in parentheses", () => {
  assert.equal(serviceFilter(undefined), undefined);
  assert.equal(serviceFilter(["microsoftSentinel"]), "serviceSource eq 'microsoftSentinel'");
  assert.equal(
    serviceFilter(["microsoftSentinel", "microsoftDefenderForCloud", "microsoftSentinel"]),
    "(serviceSource eq 'microsoftSentinel' or serviceSource eq 'microsoftDefenderForCloud')",
  );
  assert.equal(serviceFilter(["o'brien"]), "serviceSource eq 'o''brien'");
});
