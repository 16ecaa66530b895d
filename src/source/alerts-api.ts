// The Defender for Endpoint Alerts API (`GET {api}/api/alerts`, OData): alerts by lastUpdateTime, oldest
// first, with their evidence. Two queries, both free of `$skip` (see readByKeyset in alert-reader.ts):
// - a range: `lastUpdateTime ge T` (or `gt T` once the instant T is read whole), `$orderby=lastUpdateTime asc`;
// - one instant: `lastUpdateTime eq T and id gt 'X'`, `$orderby=id asc`, to page through alerts that share
//   one lastUpdateTime by their id.
// `id` and `lastUpdateTime` are both documented filter properties (ALERTS' get-alerts page); `gt` on
// lastUpdateTime is what Elastic's connector sends in production.
import type { Detection } from "../record.js";
import { formatTimestamp, type Ticks } from "../timestamp.js";
import { type ApiCallDeps, authorizedGet, badResponse, parseJson } from "./api-call.js";
import { odataValues } from "./odata.js";

export type AlertsPageQuery =
  | {
      readonly kind: "range";
      /** lastUpdateTime at or after this (inclusive: the overlap and the dedupe table absorb re-reads)... */
      readonly since: Ticks;
      /** ...or strictly after it, once every alert of that instant has been read. */
      readonly strict: boolean;
      readonly top: number;
    }
  | {
      readonly kind: "instant";
      /** lastUpdateTime equal to this. */
      readonly at: Ticks;
      /** id greater than this (the last id read at the instant); absent for the instant's first page. */
      readonly afterId?: string | undefined;
      readonly top: number;
    };

export interface AlertsApi {
  fetch(query: AlertsPageQuery, signal?: AbortSignal): Promise<Detection[]>;
}

/** `baseUrl`: the API root, e.g. https://api.securitycenter.microsoft.com. */
export function createAlertsApi(baseUrl: string, deps: Omit<ApiCallDeps, "api">): AlertsApi {
  const api = "Alerts API";
  return {
    async fetch(query, signal) {
      const res = await authorizedGet(
        `${baseUrl}/api/alerts?${alertsQueryString(query)}`,
        { ...deps, api },
        signal,
      );
      const { value } = odataValues(parseJson(res, api, deps.tenant), api, deps.tenant);
      if (value === undefined) throw badResponse(api, deps.tenant, "a body without a `value` array");
      return value;
    },
  };
}

export function alertsQueryString(query: AlertsPageQuery): string {
  const params = new URLSearchParams();
  if (query.kind === "range") {
    params.set("$filter", `lastUpdateTime ${query.strict ? "gt" : "ge"} ${formatTimestamp(query.since)}`);
    params.set("$orderby", "lastUpdateTime asc");
  } else {
    const at = `lastUpdateTime eq ${formatTimestamp(query.at)}`;
    // OData escapes a quote inside a string literal by doubling it.
    const after = query.afterId === undefined ? "" : ` and id gt '${query.afterId.replaceAll("'", "''")}'`;
    params.set("$filter", at + after);
    params.set("$orderby", "id asc");
  }
  params.set("$top", String(query.top));
  params.set("$expand", "evidence");
  return params.toString();
}
