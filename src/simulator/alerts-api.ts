// The MDE Alerts API, `GET /api/alerts` ("List alerts"), served under /mde so that it shares the
// port with the SIEM API. OData as documented: $filter, $orderby, $top (at most 10,000, which is also
// the default), $skip and $expand=evidence; no server-driven paging. $orderby takes lastUpdateTime, then
// id (`id` alone within one instant), and `id` compares with gt/ge/lt/le (ordinally), as an OData service
// does. Errors are the documented `{"error":{"code","message","target"}}`. It serves the Defender for
// Endpoint alerts of the store; Graph serves every product's.
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { parseTimestamp } from "../timestamp.js";
import type { AlertModel } from "./alert-model.js";
import type { AlertService } from "./alert-service.js";
import { type ODataDialect, parseODataQuery } from "./odata.js";
import type { RateLimiter } from "./rate-limit.js";
import { alertsApiDetectionSource } from "./render-alerts-api.js";
import { jsonOutcome, type Outcome } from "./respond.js";
import { MDE_SERVICE } from "./services.js";
import type { TokenIssuer } from "./tokens.js";

export const ALERTS_API_PREFIX = "/mde";
/** The documented path, its versioned twin; IIS paths are case-insensitive. */
export const ALERTS_API_PATH = /^\/mde\/api(?:\/v1\.0)?\/alerts\/?$/i;
export const ALERTS_API_MAX_TOP = 10_000;

/** What the Alerts API and Graph handlers need: both serve the same alert service. */
export interface AlertsApiDeps {
  tokens: TokenIssuer;
  alerts: AlertService;
  clock: () => number;
  baseUrl: () => string;
  /** Absent unless rate limits are enforced. */
  limiter: RateLimiter | undefined;
}

const DIALECT: ODataDialect<AlertModel> = {
  fields: {
    alertCreationTime: { kind: "time", get: (a) => a.created.ticks },
    lastUpdateTime: { kind: "time", get: (a) => a.lastUpdate.ticks },
    lastEventTime: { kind: "time", get: (a) => parseTimestamp(a.lastEvent) ?? null },
    incidentId: { kind: "number", get: (a) => a.incidentId },
    investigationId: { kind: "number", get: (a) => a.investigationId },
    id: { kind: "string", get: (a) => a.id, ordered: true },
    assignedTo: { kind: "string", get: (a) => a.assignedTo },
    detectionSource: { kind: "string", get: (a) => alertsApiDetectionSource(a.source) },
    status: { kind: "string", get: (a) => a.status },
    severity: { kind: "string", get: (a) => a.severity },
    category: { kind: "string", get: (a) => a.category },
  },
  cursorField: "lastUpdateTime",
  tieField: "id",
  maxTop: ALERTS_API_MAX_TOP,
  defaultTop: ALERTS_API_MAX_TOP,
  expand: ["evidence"],
  count: false,
  skiptoken: false,
  // Undocumented; newest first, as the portal lists them. Clients should say what they want.
  defaultOrder: "desc",
};

export function createAlertsApiHandler(deps: AlertsApiDeps): (req: IncomingMessage, url: URL) => Outcome {
  return (req, url) => {
    const target = randomUUID();
    const fail = (status: number, code: string, message: string, headers?: Record<string, string>): Outcome =>
      jsonOutcome(status, { error: { code, message, target } }, headers);

    if (req.method !== "GET") return fail(405, "MethodNotAllowed", "Use GET.", { allow: "GET" });
    const check = deps.tokens.inspect(req.headers.authorization);
    if (!check.ok || check.audience !== "alerts-api") {
      const message = !check.ok
        ? check.reason === "expired"
          ? "The access token has expired."
          : "Invalid or missing authorization header."
        : "The access token was issued for another resource; request one with scope https://api.securitycenter.microsoft.com/.default.";
      return fail(401, "Unauthorized", message, { "www-authenticate": 'Bearer error="invalid_token"' });
    }
    const decision = deps.limiter?.take(check.tenantId, deps.clock());
    if (decision !== undefined && !decision.ok) {
      const per = decision.window.windowMs >= 3_600_000 ? "hour" : "minute";
      return fail(
        429,
        "TooManyRequests",
        `API calls quota exceeded: at most ${decision.window.limit} calls per ${per}. Retry in ${decision.retryAfterSeconds} seconds.`,
        { "retry-after": String(decision.retryAfterSeconds) },
      );
    }
    const parsed = parseODataQuery(url.searchParams, DIALECT);
    if (!parsed.ok) return fail(400, "ODataError", parsed.message);
    const q = parsed.query;
    // The token binds the tenant: a query sees that tenant's alerts only.
    const store = deps.alerts.storeOf(check.tenantId);
    const result = store.query(
      { ...q, where: (a) => a.serviceSource === MDE_SERVICE && q.where(a), count: false },
      deps.clock(),
    );
    const shape = q.expand.has("evidence") ? "alerts-api+evidence" : "alerts-api";
    // Assembled from each alert's cached JSON: big pages are served again and again in tests.
    const value = result.items.map((v) => deps.alerts.json(v, shape)).join(",");
    const context = JSON.stringify(`${deps.baseUrl()}${ALERTS_API_PREFIX}/api/$metadata#Alerts`);
    return {
      status: 200,
      contentType: "application/json; charset=utf-8",
      body: `{"@odata.context":${context},"value":[${value}]}`,
      count: result.items.length,
    };
  };
}
