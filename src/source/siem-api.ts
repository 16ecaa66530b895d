// One call to GET {api_url}/api/alerts, with explicit bounds (never `ago`), mapped to a typed outcome.
// A 401 gets one fresh token and one more try; anything that is not a JSON array of objects fails the call,
// so a cut connection or an HTML error page can never be mistaken for "no detections".
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics/definitions.js";
import { type Detection, isDetection } from "../record.js";
import { formatApiTime, type Ticks } from "../timestamp.js";
import { type ApiCallDeps, authorizedGet, badResponse, type CallGate, parseJson } from "./api-call.js";
import { apiUrlOf, type TenantConfig } from "./config.js";
import type { HttpClient } from "./http.js";
import type { TokenProvider } from "./oauth.js";

export interface AlertsQuery {
  since: Ticks;
  until: Ticks;
  /** Sent as `limit`; omitted to read everything in the range. */
  limit?: number;
}

export interface SiemApi {
  fetch(query: AlertsQuery, signal?: AbortSignal): Promise<Detection[]>;
  /** fetch(), with the size of the response body it was parsed from. */
  read(query: AlertsQuery, signal?: AbortSignal): Promise<{ detections: Detection[]; bytes: number }>;
}

export interface SiemApiDeps {
  log: Logger;
  metrics: Metrics;
  events?: ApiCallDeps["events"];
  http: HttpClient;
  tokens: TokenProvider;
  timeoutMs: number;
  clock?: () => number;
  gate?: CallGate;
}

export function createSiemApi(tenant: TenantConfig, deps: SiemApiDeps): SiemApi {
  const base = `${apiUrlOf(tenant)}/api/alerts`;

  function buildUrl(q: AlertsQuery): string {
    const params = new URLSearchParams();
    params.set("sinceTimeUtc", formatApiTime(q.since, "floor"));
    params.set("untilTimeUtc", formatApiTime(q.until, "ceil"));
    if (q.limit !== undefined) params.set("limit", String(q.limit));
    for (const group of tenant.machine_groups) params.append("machinegroups", group);
    if (tenant.device_created_machine_tags) {
      params.set("DeviceCreatedMachineTags", tenant.device_created_machine_tags);
    }
    if (tenant.cloud_created_machine_tags)
      params.set("CloudCreatedMachineTags", tenant.cloud_created_machine_tags);
    return `${base}?${params.toString()}`;
  }

  async function read(query: AlertsQuery, signal?: AbortSignal) {
    const res = await authorizedGet(
      buildUrl(query),
      { ...deps, api: "SIEM API", tenant: tenant.name },
      signal,
    );
    const bytes = res.raw?.length ?? Buffer.byteLength(res.body);
    return { detections: parseBody(parseJson(res, "SIEM API", tenant.name), tenant.name), bytes };
  }

  return {
    read,
    async fetch(query, signal) {
      return (await read(query, signal)).detections;
    },
  };
}

/** The SIEM API answers a bare JSON array of detection objects; anything else fails the call. */
function parseBody(json: unknown, tenant: string): Detection[] {
  if (!Array.isArray(json)) throw badResponse("SIEM API", tenant, "JSON that is not an array");
  const bad = json.findIndex((item) => !isDetection(item));
  if (bad !== -1) throw badResponse("SIEM API", tenant, `an array whose element ${bad} is not an object`);
  return json as Detection[];
}
