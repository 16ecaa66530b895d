// Microsoft Graph security collections: alerts_v2 (`GET {graph}/v1.0/security/alerts_v2`) and incidents
// (`GET {graph}/v1.0/security/incidents?$expand=alerts`). Both are read the same way: items whose
// lastUpdateDateTime is at or after a cursor, oldest first, each page either a fresh query or the server's
// @odata.nextLink (see readGraph in alert-reader.ts for which and why).
import type { Detection } from "../record.js";
import { formatTimestamp, type Ticks } from "../timestamp.js";
import { type ApiCallDeps, authorizedGet, badResponse, parseJson } from "./api-call.js";
import { odataValues } from "./odata.js";

/**
 * Sent with every Graph call. Without it Graph answers `unknownFutureValue` for every member added to an
 * evolvable enum after v1.0 shipped (serviceSource microsoftDefenderForCloud, microsoftSentinel, newer
 * detectionSource values, incident status awaitingAction): the SIEM could not tell those products apart.
 */
export const GRAPH_PREFER = "include-unknown-enum-members";

export interface GraphPage {
  items: Detection[];
  /** The next page's URL, already checked to point at the same service. */
  next: string | undefined;
}

export interface GraphApi {
  /** The first page of items updated at or after `since`. */
  first(since: Ticks, top: number, signal?: AbortSignal): Promise<GraphPage>;
  /** A later page, by the nextLink the previous one gave. */
  page(url: string, signal?: AbortSignal): Promise<GraphPage>;
}

export interface GraphCollection {
  /** Below `{graph}/v1.0/security/`. */
  readonly path: "alerts_v2" | "incidents";
  /** `$expand` of every query (incidents: `alerts`). */
  readonly expand?: string;
  /** alerts_v2: keep only these serviceSource values (a server-side `$filter`); undefined keeps every service. */
  readonly serviceSources?: readonly string[] | undefined;
}

/** `baseUrl`: the Graph root, e.g. https://graph.microsoft.com. */
export function createGraphApi(
  baseUrl: string,
  collection: GraphCollection,
  deps: Omit<ApiCallDeps, "api" | "headers">,
): GraphApi {
  const api = collection.path === "incidents" ? "Graph incidents" : "Graph";
  const origin = new URL(baseUrl).origin;
  const call = { ...deps, api, headers: { prefer: GRAPH_PREFER } };
  const services = serviceFilter(collection.serviceSources);

  async function load(url: string, signal?: AbortSignal): Promise<GraphPage> {
    const res = await authorizedGet(url, call, signal);
    const { value, nextLink } = odataValues(parseJson(res, api, deps.tenant), api, deps.tenant);
    if (value === undefined) throw badResponse(api, deps.tenant, "a body without a `value` array");
    // The bearer token goes wherever the next link points: only ever back to the same service.
    if (nextLink !== undefined && safeOrigin(nextLink) !== origin) {
      throw badResponse(api, deps.tenant, `an @odata.nextLink to another host (${safeOrigin(nextLink)})`);
    }
    return { items: value, next: nextLink };
  }

  return {
    first(since, top, signal) {
      const params = new URLSearchParams();
      const cursor = `lastUpdateDateTime ge ${formatTimestamp(since)}`;
      params.set("$filter", services === undefined ? cursor : `${cursor} and ${services}`);
      params.set("$orderby", "lastUpdateDateTime asc");
      params.set("$top", String(top));
      if (collection.expand !== undefined) params.set("$expand", collection.expand);
      return load(`${baseUrl}/v1.0/security/${collection.path}?${params.toString()}`, signal);
    },
    page(url, signal) {
      return load(url, signal);
    },
  };
}

/** `serviceSource eq 'a'`, or `(serviceSource eq 'a' or serviceSource eq 'b')`; undefined for every service. */
export function serviceFilter(services: readonly string[] | undefined): string | undefined {
  if (services === undefined || services.length === 0) return undefined;
  // The values come from the config's closed list; quotes are doubled all the same, as OData escapes them.
  const terms = [...new Set(services)].map((s) => `serviceSource eq '${s.replaceAll("'", "''")}'`);
  return terms.length === 1 ? terms[0] : `(${terms.join(" or ")})`;
}

function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "an invalid URL";
  }
}
