// Microsoft Graph `GET /v1.0/security/alerts_v2`, served under /graph. OData as documented: $filter,
// $top, $skip, $count, plus $orderby on lastUpdateDateTime; evidence is always included. Pages hold
// $top alerts (default and maximum 2,000, the batch size Elastic uses); when more remain,
// `@odata.nextLink` points back here with a $skiptoken. The token is a keyset position, not an
// offset: an alert updated while a client pages moves behind the cursor (and shows up again later)
// instead of shifting the pages under it, so paging never loses an alert.
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { AlertModel } from "./alert-model.js";
import type { AlertsApiDeps } from "./alerts-api.js";
import { encodeSkiptoken, type ODataDialect, parseODataQuery } from "./odata.js";
import { graphClassification, graphDetermination, graphSeverity, graphStatus } from "./render-graph.js";
import { jsonOutcome, type Outcome } from "./respond.js";

export const GRAPH_PREFIX = "/graph";
export const GRAPH_ALERTS_PATH = /^\/graph\/v1\.0\/security\/alerts_v2\/?$/i;
export const GRAPH_MAX_TOP = 2_000;

const DIALECT: ODataDialect<AlertModel> = {
  fields: {
    assignedTo: { kind: "string", get: (a) => a.assignedTo },
    classification: { kind: "string", get: (a) => graphClassification(a.classification) },
    determination: { kind: "string", get: (a) => graphDetermination(a.determination) },
    createdDateTime: { kind: "time", get: (a) => a.created.ticks },
    lastUpdateDateTime: { kind: "time", get: (a) => a.lastUpdate.ticks },
    severity: { kind: "string", get: (a) => graphSeverity(a.severity) },
    serviceSource: { kind: "string", get: () => "microsoftDefenderForEndpoint" },
    status: { kind: "string", get: (a) => graphStatus(a.status) },
  },
  cursorField: "lastUpdateDateTime",
  maxTop: GRAPH_MAX_TOP,
  defaultTop: GRAPH_MAX_TOP,
  expand: [],
  count: true,
  skiptoken: true,
  // "The most recent alerts are displayed at the top of the list."
  defaultOrder: "desc",
};

export function createGraphHandler(deps: AlertsApiDeps): (req: IncomingMessage, url: URL) => Outcome {
  return (req, url) => {
    const requestId = randomUUID();
    const clientRequestId = headerValue(req.headers["client-request-id"]) ?? requestId;
    const ids = { "request-id": requestId, "client-request-id": clientRequestId };
    const fail = (status: number, code: string, message: string, headers?: Record<string, string>): Outcome =>
      jsonOutcome(
        status,
        {
          error: {
            code,
            message,
            innerError: {
              date: new Date(deps.clock()).toISOString().slice(0, 19),
              "request-id": requestId,
              "client-request-id": clientRequestId,
            },
          },
        },
        { ...ids, ...headers },
      );

    if (req.method !== "GET") return fail(405, "Request_BadRequest", "Use GET.", { allow: "GET" });
    const check = deps.tokens.inspect(req.headers.authorization);
    if (!check.ok || check.audience !== "graph") {
      const message = !check.ok
        ? check.reason === "missing"
          ? "Access token is empty."
          : check.reason === "expired"
            ? "Lifetime validation failed, the token is expired."
            : "Access token validation failure."
        : "Access token validation failure. Invalid audience.";
      return fail(401, "InvalidAuthenticationToken", message, {
        "www-authenticate": 'Bearer error="invalid_token"',
      });
    }
    const decision = deps.limiter?.take(check.tenantId, deps.clock());
    if (decision !== undefined && !decision.ok) {
      return fail(
        429,
        "TooManyRequests",
        "Too many requests. Retry after the delay in the Retry-After header.",
        {
          "retry-after": String(decision.retryAfterSeconds),
        },
      );
    }
    const parsed = parseODataQuery(url.searchParams, DIALECT);
    if (!parsed.ok) return fail(400, "BadRequest", parsed.message);
    const q = parsed.query;
    // The token binds the tenant: a query sees that tenant's alerts only.
    const result = deps.alerts.storeOf(check.tenantId).query(q, deps.clock());
    // Assembled from each alert's cached JSON: big pages are served again and again in tests.
    const parts = [
      `"@odata.context":${JSON.stringify(`${deps.baseUrl()}${GRAPH_PREFIX}/v1.0/$metadata#security/alerts_v2`)}`,
    ];
    if (q.count) parts.push(`"@odata.count":${result.total ?? 0}`);
    parts.push(`"value":[${result.items.map((v) => deps.alerts.json(v, "graph")).join(",")}]`);
    const last = result.items[result.items.length - 1];
    if (result.more && last !== undefined) {
      const token = encodeSkiptoken(q.state, { ticks: last.alert.lastUpdate.ticks, seq: last.seq });
      const next = `${deps.baseUrl()}${GRAPH_PREFIX}/v1.0/security/alerts_v2?$skiptoken=${token}`;
      parts.push(`"@odata.nextLink":${JSON.stringify(next)}`);
    }
    return {
      status: 200,
      contentType: "application/json; charset=utf-8",
      body: `{${parts.join(",")}}`,
      headers: ids,
      count: result.items.length,
    };
  };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
