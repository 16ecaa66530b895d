// Reading the newer APIs from a cursor: every item updated at or after `since`, oldest first, page by page.
// A page is a fully read part: every item updated before its newest lastUpdate time has been read (the
// newest instant itself may go on in the next pages, and the next poll reads it again from checkpoint -
// overlap), so the caller may store it and move the checkpoint to that newest time before reading on.
//
// No offset ($skip) ever decides what is read. With an offset, an item of the result that is updated
// between two page requests moves to the end of the result, every later item moves up one place, and the
// one that moved across the page boundary is never read; the checkpoint then passes it (issue 12). Here a
// page starts from a value instead: the newest lastUpdate time read, and within one instant the last id.
import { ForwarderError } from "../errors.js";
import { type Detection, EVIDENCE_INDEX_FIELD } from "../record.js";
import type { Ticks } from "../timestamp.js";
import type { AlertsPageQuery } from "./alerts-api.js";
import type { GraphApi } from "./graph-api.js";

export interface AlertPage {
  readonly alerts: Detection[];
  readonly requests: number;
}

/**
 * Keyset paging for the Alerts API, which offers `$top`/`$skip` and no server-driven paging. A range page
 * (`lastUpdateTime ge|gt T`, oldest first) that comes back full ends at some instant N whose alerts may go
 * on past the page; that instant is then read on its own (`lastUpdateTime eq N`) by id, `id gt '<last id>'`,
 * and the range goes on strictly after N. An update moves an alert out of the instant or range being read
 * (to a later time, read later) without shifting what is still unread.
 *
 * The one assumption beyond the documented filters is that the service honours `$orderby=id asc` with
 * `id gt '…'` in the same collation (an OData service does); a server that ignores `id gt` is caught (an
 * instant page holding only ids already read) instead of looping.
 */
export async function* readByKeyset(
  since: Ticks,
  pageSize: number,
  fetch: (query: AlertsPageQuery) => Promise<Detection[]>,
  timeOf: (alert: Detection) => Ticks | undefined,
): AsyncGenerator<AlertPage> {
  let cursor = since;
  let strict = false;
  for (;;) {
    const alerts = await fetch({ kind: "range", since: cursor, strict, top: pageSize });
    // Where the next page starts is settled before the caller sees (and may keep or change) this one.
    const full = alerts.length >= pageSize;
    const newest = newestTime(alerts, timeOf, "Alerts API");
    yield { alerts, requests: 1 };
    if (!full) return;
    if (newest === undefined || newest < cursor || (strict && newest === cursor)) {
      throw noProgress("Alerts API", "a full page that does not move past the cursor");
    }
    yield* readInstant(newest, pageSize, fetch);
    cursor = newest;
    strict = true;
  }
}

/** Every alert whose lastUpdateTime is exactly `at`, by id. */
async function* readInstant(
  at: Ticks,
  pageSize: number,
  fetch: (query: AlertsPageQuery) => Promise<Detection[]>,
): AsyncGenerator<AlertPage> {
  const read = new Set<string>();
  let afterId: string | undefined;
  for (;;) {
    const alerts = await fetch({ kind: "instant", at, afterId, top: pageSize });
    const ids = alerts.map((a) => (typeof a.id === "string" && a.id !== "" ? a.id : undefined));
    yield { alerts, requests: 1 };
    if (alerts.length < pageSize) return;
    const last = ids[ids.length - 1];
    if (last === undefined || ids.every((id) => id === undefined || read.has(id))) {
      throw noProgress(
        "Alerts API",
        "a full page of one instant without a new id ($orderby or `id gt` ignored?)",
      );
    }
    for (const id of ids) if (id !== undefined) read.add(id);
    afterId = last;
  }
}

/**
 * Graph (alerts_v2, incidents): the first page is `lastUpdateDateTime ge since`, oldest first. Graph pages
 * with @odata.nextLink, whose content Microsoft does not document: if it is an offset, it has the `$skip`
 * hole above. So a page that ends later than the cursor is not followed by its nextLink but by a new query
 * from its newest time (`ge`: the items of that instant read so far come again and are dropped as
 * duplicates). The nextLink is followed only while whole pages sit on the cursor's instant, where Graph
 * offers no other key (alerts_v2 cannot be filtered by id): the one window left open is an update, between
 * two page requests, of an alert among more than a page's worth (2,000) that share one 100-ns instant.
 */
export async function* readGraph(
  since: Ticks,
  pageSize: number,
  api: GraphApi,
  timeOf: (item: Detection) => Ticks | undefined,
  signal?: AbortSignal,
): AsyncGenerator<AlertPage> {
  let cursor = since;
  let page = await api.first(cursor, pageSize, signal);
  const visited = new Set<string>();
  for (;;) {
    const next = page.next;
    const newest = newestTime(page.items, timeOf, "Graph");
    yield { alerts: page.items, requests: 1 };
    if (next === undefined) return;
    if (newest !== undefined && newest > cursor) {
      cursor = newest;
      visited.clear();
      page = await api.first(cursor, pageSize, signal);
      continue;
    }
    if (visited.has(next)) {
      throw new ForwarderError("E_API_BAD_RESPONSE", "Graph paging loops (an @odata.nextLink came twice)");
    }
    visited.add(next);
    page = await api.page(next, signal);
  }
}

/**
 * The newest time of a page. Paging from it is only sound when the page is oldest first: a service that
 * ignored `$orderby` (Graph's default order is newest first) would have the reader jump over everything in
 * between, so a page out of order fails the read instead.
 */
function newestTime(
  items: readonly Detection[],
  timeOf: (item: Detection) => Ticks | undefined,
  api: string,
): Ticks | undefined {
  let newest: Ticks | undefined;
  for (const item of items) {
    const t = timeOf(item);
    if (t === undefined) continue;
    if (newest !== undefined && t < newest) {
      throw new ForwarderError(
        "E_API_BAD_RESPONSE",
        `${api} sent a page that is not oldest first ($orderby ignored?); the checkpoint stays`,
      );
    }
    newest = t;
  }
  return newest;
}

function noProgress(api: string, what: string): ForwarderError {
  return new ForwarderError("E_API_BAD_RESPONSE", `${api} paging makes no progress: ${what}`);
}

/**
 * One item per evidence entity (`events: evidence`): the alert with `evidence` holding that entity first and
 * its index under EVIDENCE_INDEX_FIELD. A Graph alert names its machine only in its device evidence, so an
 * item about a file or a process keeps the first device entity second (the normalizer fills the machine and
 * its group from it: selection by machine group keeps working). An alert without evidence stays one item.
 */
export function splitEvidence(alert: Detection): Detection[] {
  const evidence = alert.evidence;
  if (!Array.isArray(evidence) || evidence.length === 0) return [alert];
  const device = evidence.find(isDeviceEvidence);
  return evidence.map((entity: unknown, index) => ({
    ...alert,
    evidence: device === undefined || entity === device ? [entity] : [entity, device],
    [EVIDENCE_INDEX_FIELD]: index,
  }));
}

function isDeviceEvidence(entity: unknown): boolean {
  return (
    typeof entity === "object" &&
    entity !== null &&
    (entity as Record<string, unknown>)["@odata.type"] === "#microsoft.graph.security.deviceEvidence"
  );
}
