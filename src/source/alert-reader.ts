// Reading the newer APIs from a cursor: every alert updated at or after `since`, oldest first, page by page.
// A page is a fully read part: every alert updated before its newest lastUpdate time has been read (or sits
// exactly on that instant and comes first on the next page), so the caller may store it and move the
// checkpoint to that newest time before reading on.
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
 * Keyset paging for the Alerts API: the next page starts at the newest lastUpdateTime read, skipping the
 * alerts already read at exactly that instant; `$skip` grows only while a whole page shares one instant.
 */
export async function* readByKeyset(
  since: Ticks,
  pageSize: number,
  fetch: (query: AlertsPageQuery) => Promise<Detection[]>,
  timeOf: (alert: Detection) => Ticks | undefined,
  idOf: (alert: Detection) => string,
): AsyncGenerator<AlertPage> {
  let cursor = since;
  let skip = 0;
  const readAtCursor = new Set<string>();
  for (;;) {
    const alerts = await fetch({ since: cursor, top: pageSize, skip });
    // Where the next page starts is settled before the caller sees (and may keep or change) this one.
    const full = alerts.length >= pageSize;
    const times = alerts.map(timeOf);
    const ids = alerts.map(idOf);
    yield { alerts, requests: 1 };
    if (!full) return;
    let newest: Ticks | undefined;
    for (const t of times) if (t !== undefined && (newest === undefined || t > newest)) newest = t;
    if (newest !== undefined && newest > cursor) {
      cursor = newest;
      readAtCursor.clear();
      times.forEach((t, i) => {
        if (t === newest) readAtCursor.add(ids[i] ?? "");
      });
      skip = readAtCursor.size;
    } else {
      // A full page on one instant: page through it with $skip, and stop if the server ignores $skip.
      const before = readAtCursor.size;
      for (const id of ids) readAtCursor.add(id);
      if (readAtCursor.size === before) {
        throw new ForwarderError(
          "E_API_BAD_RESPONSE",
          "Alerts API paging makes no progress ($skip ignored?)",
        );
      }
      skip += alerts.length;
    }
  }
}

/** Server-driven paging for Graph: follow @odata.nextLink until there is none. */
export async function* readByNextLink(
  since: Ticks,
  pageSize: number,
  api: GraphApi,
  signal?: AbortSignal,
): AsyncGenerator<AlertPage> {
  let page = await api.first(since, pageSize, signal);
  yield { alerts: page.alerts, requests: 1 };
  const visited = new Set<string>();
  while (page.next !== undefined) {
    if (visited.has(page.next)) {
      throw new ForwarderError("E_API_BAD_RESPONSE", "Graph paging loops (an @odata.nextLink came twice)");
    }
    visited.add(page.next);
    page = await api.page(page.next, signal);
    yield { alerts: page.alerts, requests: 1 };
  }
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
