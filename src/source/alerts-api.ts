// The Defender for Endpoint Alerts API (`GET {api}/api/alerts`, OData): alerts whose lastUpdateTime is at or
// after a cursor, oldest first, with their evidence. Paged by keyset (the next page starts at the newest
// lastUpdateTime read) with `$skip` only across alerts sharing one instant: an alert updated while we page
// moves to the end instead of shifting unread ones past the page boundary.
import type { Detection } from "../record.js";
import { formatTimestamp, type Ticks } from "../timestamp.js";
import { type ApiCallDeps, authorizedGet, badResponse, parseJson } from "./api-call.js";
import { odataValues } from "./odata.js";

export interface AlertsPageQuery {
  /** lastUpdateTime at or after this (inclusive: the overlap and the dedupe table absorb re-reads). */
  since: Ticks;
  top: number;
  skip: number;
}

export interface AlertsApi {
  fetch(query: AlertsPageQuery, signal?: AbortSignal): Promise<Detection[]>;
}

/** `baseUrl`: the API root, e.g. https://api.securitycenter.microsoft.com. */
export function createAlertsApi(baseUrl: string, deps: Omit<ApiCallDeps, "api">): AlertsApi {
  const api = "Alerts API";
  return {
    async fetch(query, signal) {
      const params = new URLSearchParams();
      params.set("$filter", `lastUpdateTime ge ${formatTimestamp(query.since)}`);
      params.set("$orderby", "lastUpdateTime asc");
      params.set("$top", String(query.top));
      if (query.skip > 0) params.set("$skip", String(query.skip));
      params.set("$expand", "evidence");
      const res = await authorizedGet(`${baseUrl}/api/alerts?${params.toString()}`, { ...deps, api }, signal);
      const { value } = odataValues(parseJson(res, api, deps.tenant), api, deps.tenant);
      if (value === undefined) throw badResponse(api, deps.tenant, "a body without a `value` array");
      return value;
    },
  };
}
