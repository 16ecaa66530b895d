// Microsoft Graph security alerts_v2 (`GET {graph}/v1.0/security/alerts_v2`): alerts whose
// lastUpdateDateTime is at or after a cursor, oldest first, paged by the server's @odata.nextLink.
import type { Detection } from "../record.js";
import { formatTimestamp, type Ticks } from "../timestamp.js";
import { type ApiCallDeps, authorizedGet, badResponse, parseJson } from "./api-call.js";
import { odataValues } from "./odata.js";

export interface GraphPage {
  alerts: Detection[];
  /** The next page's URL, already checked to point at the same service. */
  next: string | undefined;
}

export interface GraphApi {
  /** The first page of alerts updated at or after `since`. */
  first(since: Ticks, top: number, signal?: AbortSignal): Promise<GraphPage>;
  /** A later page, by the nextLink the previous one gave. */
  page(url: string, signal?: AbortSignal): Promise<GraphPage>;
}

/** `baseUrl`: the Graph root, e.g. https://graph.microsoft.com. */
export function createGraphApi(baseUrl: string, deps: Omit<ApiCallDeps, "api">): GraphApi {
  const api = "Graph";
  const origin = new URL(baseUrl).origin;

  async function load(url: string, signal?: AbortSignal): Promise<GraphPage> {
    const res = await authorizedGet(url, { ...deps, api }, signal);
    const { value, nextLink } = odataValues(parseJson(res, api, deps.tenant), api, deps.tenant);
    if (value === undefined) throw badResponse(api, deps.tenant, "a body without a `value` array");
    // The bearer token goes wherever the next link points: only ever back to the same service.
    if (nextLink !== undefined && safeOrigin(nextLink) !== origin) {
      throw badResponse(api, deps.tenant, `an @odata.nextLink to another host (${safeOrigin(nextLink)})`);
    }
    return { alerts: value, next: nextLink };
  }

  return {
    first(since, top, signal) {
      const params = new URLSearchParams();
      params.set("$filter", `lastUpdateDateTime ge ${formatTimestamp(since)}`);
      params.set("$orderby", "lastUpdateDateTime asc");
      params.set("$top", String(top));
      return load(`${baseUrl}/v1.0/security/alerts_v2?${params.toString()}`, signal);
    },
    page(url, signal) {
      return load(url, signal);
    },
  };
}

function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "an invalid URL";
  }
}
