// Microsoft Graph `GET /v1.0/security/alerts_v2` and `GET /v1.0/security/incidents`, served under /graph.
// OData as documented: $filter (incidents: on assignedTo, classification, createdDateTime, determination,
// lastUpdateDateTime, severity, status), $top, $skip, $count, $expand (incidents: alerts), plus $orderby on
// lastUpdateDateTime; alerts always come with their evidence. Pages hold $top items (alerts: default and
// maximum 2,000, the batch size Elastic uses; incidents: 50, each carrying its alerts); when more remain,
// `@odata.nextLink` points back here. By default its $skiptoken is a keyset position, not an offset: an item
// updated while a client pages moves behind the cursor (and shows up again later) instead of shifting the
// pages under it. With `graphPaging: "offset"` the link carries `$skip`, as Microsoft may well do: then an
// item updated between two page requests shifts the rest by one place, which a client must survive.
//
// Members added to an evolvable enum after v1.0 (serviceSource microsoftDefenderForCloud, microsoftSentinel;
// newer detectionSource values; incident status awaitingAction) are sent as `unknownFutureValue` unless the
// request says `Prefer: include-unknown-enum-members`, and a $filter compares with what is sent.
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { AlertModel } from "./alert-model.js";
import type { StoredVersion, Versioned } from "./alert-store.js";
import type { AlertsApiDeps } from "./alerts-api.js";
import type { IncidentModel } from "./incident-model.js";
import { encodeSkiptoken, type ODataDialect, type ODataQuery, parseODataQuery } from "./odata.js";
import { graphClassification, graphDetermination, graphSeverity, graphStatus } from "./render-graph.js";
import { graphIncidentStatus } from "./render-incident.js";
import { jsonOutcome, type Outcome } from "./respond.js";
import { detectionSourceFor, serviceSourceFor } from "./services.js";

export const GRAPH_PREFIX = "/graph";
export const GRAPH_ALERTS_PATH = /^\/graph\/v1\.0\/security\/alerts_v2\/?$/i;
export const GRAPH_INCIDENTS_PATH = /^\/graph\/v1\.0\/security\/incidents\/?$/i;
export const GRAPH_MAX_TOP = 2_000;
export const GRAPH_INCIDENTS_MAX_TOP = 50;

export interface GraphDeps extends AlertsApiDeps {
  /** How a nextLink continues a query; default keyset. */
  paging: "keyset" | "offset";
}

function alertsDialect(evolvable: boolean): ODataDialect<AlertModel> {
  return {
    fields: {
      assignedTo: { kind: "string", get: (a) => a.assignedTo },
      classification: { kind: "string", get: (a) => graphClassification(a.classification) },
      determination: { kind: "string", get: (a) => graphDetermination(a.determination) },
      createdDateTime: { kind: "time", get: (a) => a.created.ticks },
      lastUpdateDateTime: { kind: "time", get: (a) => a.lastUpdate.ticks },
      severity: { kind: "string", get: (a) => graphSeverity(a.severity) },
      serviceSource: { kind: "string", get: (a) => serviceSourceFor(a.serviceSource, evolvable) },
      detectionSource: { kind: "string", get: (a) => detectionSourceFor(a.detectionSource, evolvable) },
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
}

function incidentsDialect(evolvable: boolean): ODataDialect<IncidentModel> {
  return {
    fields: {
      assignedTo: { kind: "string", get: (i) => i.assignedTo },
      classification: { kind: "string", get: (i) => graphClassification(i.classification) },
      determination: { kind: "string", get: (i) => graphDetermination(i.determination) },
      createdDateTime: { kind: "time", get: (i) => i.created.ticks },
      lastUpdateDateTime: { kind: "time", get: (i) => i.lastUpdate.ticks },
      severity: { kind: "string", get: (i) => graphSeverity(i.severity) },
      status: { kind: "string", get: (i) => graphIncidentStatus(i, evolvable) },
    },
    cursorField: "lastUpdateDateTime",
    maxTop: GRAPH_INCIDENTS_MAX_TOP,
    defaultTop: GRAPH_INCIDENTS_MAX_TOP,
    expand: ["alerts"],
    count: true,
    skiptoken: true,
    // "The most recent incidents are displayed at the top of the list."
    defaultOrder: "desc",
  };
}

/** What one Graph collection needs besides the common handling. */
interface Collection<T extends Versioned> {
  /** Path below {url}/graph/v1.0/ for the nextLink and @odata.context. */
  readonly name: "security/alerts_v2" | "security/incidents";
  readonly dialects: { readonly evolvable: ODataDialect<T>; readonly v1: ODataDialect<T> };
  query(
    tenantId: string,
    q: ODataQuery<T>,
  ): { items: StoredVersion<T>[]; more: boolean; total: number | undefined };
  json(v: StoredVersion<T>, evolvable: boolean, q: ODataQuery<T>): string;
}

export function createGraphHandler(deps: GraphDeps): (req: IncomingMessage, url: URL) => Outcome {
  return createCollectionHandler<AlertModel>(deps, {
    name: "security/alerts_v2",
    dialects: { evolvable: alertsDialect(true), v1: alertsDialect(false) },
    query: (tenantId, q) => deps.alerts.storeOf(tenantId).query(q, deps.clock()),
    json: (v, evolvable) => deps.alerts.json(v, evolvable ? "graph" : "graph-v1"),
  });
}

export function createGraphIncidentsHandler(deps: GraphDeps): (req: IncomingMessage, url: URL) => Outcome {
  return createCollectionHandler<IncidentModel>(deps, {
    name: "security/incidents",
    dialects: { evolvable: incidentsDialect(true), v1: incidentsDialect(false) },
    query: (tenantId, q) => deps.alerts.incidentStoreOf(tenantId).query(q, deps.clock()),
    json: (v, evolvable, q) => {
      const expand = q.expand.has("alerts") ? "+alerts" : "";
      return deps.alerts.incidentJson(v, evolvable ? `incident${expand}` : `incident-v1${expand}`);
    },
  });
}

function createCollectionHandler<T extends Versioned>(
  deps: GraphDeps,
  collection: Collection<T>,
): (req: IncomingMessage, url: URL) => Outcome {
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
    const evolvable = prefersUnknownMembers(req.headers.prefer);
    const dialect = evolvable ? collection.dialects.evolvable : collection.dialects.v1;
    const parsed = parseODataQuery(url.searchParams, dialect);
    if (!parsed.ok) return fail(400, "BadRequest", parsed.message);
    const q = parsed.query;
    // The token binds the tenant: a query sees that tenant's items only.
    const result = collection.query(check.tenantId, q);
    // Assembled from each item's cached JSON: big pages are served again and again in tests.
    const base = `${deps.baseUrl()}${GRAPH_PREFIX}/v1.0`;
    const parts = [`"@odata.context":${JSON.stringify(`${base}/$metadata#${collection.name}`)}`];
    if (q.count) parts.push(`"@odata.count":${result.total ?? 0}`);
    parts.push(`"value":[${result.items.map((v) => collection.json(v, evolvable, q)).join(",")}]`);
    const last = result.items[result.items.length - 1];
    if (result.more && last !== undefined) {
      const next =
        deps.paging === "offset"
          ? `${base}/${collection.name}?${offsetContinuation(q, result.items.length)}`
          : `${base}/${collection.name}?$skiptoken=${encodeSkiptoken(q.state, { ticks: last.alert.lastUpdate.ticks, seq: last.seq })}`;
      parts.push(`"@odata.nextLink":${JSON.stringify(next)}`);
    }
    const headers: Record<string, string> = { ...ids };
    if (evolvable) headers["preference-applied"] = PREFER_UNKNOWN_MEMBERS;
    return {
      status: 200,
      contentType: "application/json; charset=utf-8",
      body: `{${parts.join(",")}}`,
      headers,
      count: result.items.length,
    };
  };
}

const PREFER_UNKNOWN_MEMBERS = "include-unknown-enum-members";

/** `Prefer` may list several preferences, comma-separated, in any case. */
function prefersUnknownMembers(value: string | string[] | undefined): boolean {
  const all = Array.isArray(value) ? value.join(",") : (value ?? "");
  return all.split(",").some((p) => p.trim().toLowerCase() === PREFER_UNKNOWN_MEMBERS);
}

/** The same query one page further on by offset: what `$skip` paging looks like. */
function offsetContinuation<T>(q: ODataQuery<T>, served: number): string {
  const params: Array<[string, string]> = [];
  if (q.state.filter !== undefined) params.push(["$filter", q.state.filter]);
  if (q.state.orderby !== undefined) params.push(["$orderby", q.state.orderby]);
  params.push(["$top", String(q.top)], ["$skip", String(q.skip + served)]);
  if (q.count) params.push(["$count", "true"]);
  if (q.expand.size > 0) params.push(["$expand", [...q.expand].join(",")]);
  // Graph writes the option names with a literal `$`.
  return params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("&");
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
