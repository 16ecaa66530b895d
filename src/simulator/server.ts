// The HTTP(S) server: the emulated APIs (token endpoints v1 and v2, the SIEM API's GET /api/alerts,
// the Alerts API under /mde, Graph alerts_v2 and incidents under /graph) and, kept apart under /_sim, the
// control endpoints. Faults are applied here, before the request is otherwise handled.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type { Logger } from "../log.js";
import { ticksFromMs } from "../timestamp.js";
import { ALERTS_API_PATH } from "./alerts-api.js";
import { CONTROL_PREFIX } from "./control.js";
import { cutPrefix, type FaultQueue, HTML_ERROR_PAGE, statusFaultBody } from "./faults.js";
import { GRAPH_ALERTS_PATH, GRAPH_INCIDENTS_PATH } from "./graph-api.js";
import { parseAlertsQuery, queryRecord } from "./query.js";
import {
  apiError,
  BodyTooLargeError,
  jsonOutcome as json,
  type Outcome,
  readBody,
  send,
  sendJson,
} from "./respond.js";
import type { DetectionStore } from "./store.js";
import type { TokenIssuer } from "./tokens.js";
import type { Fault, FaultTarget, ServedRequest } from "./types.js";

export interface ServerDeps {
  log: Logger;
  clock: () => number;
  tokens: TokenIssuer;
  store: DetectionStore;
  faults: FaultQueue;
  /** FullIds delivered in full by /api/alerts. */
  served: Set<string>;
  /** How many times /api/alerts served each FullId, when counting is on (`countServes`). */
  serveCounts?: Map<string, number> | undefined;
  requests: ServedRequest[];
  control: (req: IncomingMessage, res: ServerResponse, path: string) => Promise<void>;
  alertsApi: (req: IncomingMessage, url: URL) => Outcome;
  graph: (req: IncomingMessage, url: URL) => Outcome;
  incidents: (req: IncomingMessage, url: URL) => Outcome;
  /** Applies an `update` fault: changes the alerts and incidents it names. */
  applyUpdates: (fault: Extract<Fault, { kind: "update" }>) => void;
  /** The simulator's own base URL (known once listening): token audiences are built from it. */
  baseUrl: () => string;
  /** Serve HTTPS with this certificate and key. */
  tls?: { cert: string; key: string } | undefined;
}

export interface SimServer {
  listen(host: string, port: number): Promise<AddressInfo>;
  /** Stops listening, drops every connection (keep-alive included) and cancels pending slow replies. */
  close(): Promise<void>;
}

const TOKEN_BODY_LIMIT = 64 * 1024;
const TOKEN_PATH = /^\/([^/]+)\/oauth2\/token\/?$/i;
const TOKEN_V2_PATH = /^\/([^/]+)\/oauth2\/v2\.0\/token\/?$/i;
// The page's own examples use both /api/alerts and /api/alerts/ (ArcSight appends `/?sinceTimeUtc=`);
// IIS paths are case-insensitive.
const ALERTS_PATH = /^\/api\/alerts\/?$/i;

export function createSimServer(deps: ServerDeps): SimServer {
  const { log, clock } = deps;
  const pending = new Set<() => void>();
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((err: unknown) => {
      log.error({ err, path: req.url }, "Simulator request failed.");
      sendJson(res, 500, apiError("InternalServerError", "simulator error"));
    });
  };
  const server: Server | HttpsServer =
    deps.tls === undefined
      ? createServer(onRequest)
      : createHttpsServer({ cert: deps.tls.cert, key: deps.tls.key }, onRequest);
  // Every raw connection, so that close() can drop those the HTTP layer no longer tracks (a TLS
  // connection half-closed by a client that never finishes closing it, as some tunnels do).
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://simulator.invalid");
    const path = url.pathname;
    if (path === CONTROL_PREFIX || path.startsWith(`${CONTROL_PREFIX}/`)) {
      await deps.control(req, res, path);
      return;
    }
    const record = (status: number, count: number): void => {
      deps.requests.push({ path, query: queryRecord(url.searchParams), status, count, at: clock() });
      log.debug({ method: req.method, path, status, count }, "Simulator answered.");
    };

    const tokenMatch = TOKEN_PATH.exec(path);
    const tokenV2Match = tokenMatch ? null : TOKEN_V2_PATH.exec(path);
    const target: FaultTarget | undefined =
      tokenMatch || tokenV2Match
        ? "token"
        : ALERTS_PATH.test(path)
          ? "alerts"
          : ALERTS_API_PATH.test(path)
            ? "alerts-api"
            : GRAPH_ALERTS_PATH.test(path)
              ? "graph"
              : GRAPH_INCIDENTS_PATH.test(path)
                ? "incidents"
                : undefined;
    if (target === undefined) {
      req.resume();
      sendJson(res, 404, apiError("NotFound", `no such resource: ${path}`));
      record(404, 0);
      return;
    }

    let form = new URLSearchParams();
    if (target === "token") {
      try {
        const text = await readBody(req, TOKEN_BODY_LIMIT);
        // Azure AD reads only form bodies; anything else looks like a request without parameters.
        const type = req.headers["content-type"] ?? "";
        if (/^application\/x-www-form-urlencoded\b/i.test(type)) form = new URLSearchParams(text);
      } catch (err) {
        if (!(err instanceof BodyTooLargeError)) throw err;
        sendJson(res, 413, apiError("PayloadTooLarge", "request body too large"));
        record(413, 0);
        return;
      }
    } else {
      req.resume();
    }

    const fault = deps.faults.next(target);
    if (fault !== undefined) log.info({ target, fault: fault.kind }, "Applying injected fault.");
    if (fault?.kind === "update") deps.applyUpdates(fault);

    if (fault?.kind === "status") {
      const { contentType, body } = statusFaultBody(fault, target);
      const headers: Record<string, string> = {};
      if (fault.retryAfterSeconds !== undefined) headers["retry-after"] = String(fault.retryAfterSeconds);
      if (fault.status === 401 && target !== "token")
        headers["www-authenticate"] = 'Bearer error="invalid_token"';
      send(res, fault.status, contentType, body, headers);
      record(fault.status, 0);
      return;
    }
    if (fault?.kind === "html") {
      send(res, 200, "text/html; charset=utf-8", HTML_ERROR_PAGE);
      record(200, 0);
      return;
    }
    if (fault?.kind === "slow" && !(await wait(fault.delayMs, res))) {
      record(0, 0);
      return;
    }
    if (fault?.kind === "cut") {
      // The status line and half of a real body go out, then the connection drops: the client sees
      // a 200 and a body shorter than its Content-Length. Nothing counts as served.
      const outcome = target === "token" ? undefined : api(target, req, url);
      const body = outcome?.status === 200 ? outcome.body : CUT_BODIES[target];
      res.writeHead(200, {
        "content-type": "application/json; charset=utf-8",
        "content-length": Buffer.byteLength(body),
      });
      res.write(cutPrefix(body), () => res.socket?.destroy());
      record(200, 0);
      return;
    }

    const outcome =
      target === "token"
        ? token(req, (tokenMatch ?? tokenV2Match)?.[1] ?? "", form, tokenV2Match ? "v2" : "v1")
        : api(target, req, url);
    if (!send(res, outcome.status, outcome.contentType, outcome.body, outcome.headers)) {
      record(0, 0);
      return;
    }
    // Served = handed to the socket in full; a client that dies mid-transfer still counts.
    for (const d of outcome.detections ?? []) if (typeof d.FullId === "string") deps.served.add(d.FullId);
    // A second pass, only when counting: the demo's per-detection cost stays as it was.
    if (deps.serveCounts !== undefined && outcome.detections !== undefined)
      countServes(deps.serveCounts, outcome.detections);
    record(outcome.status, outcome.count ?? outcome.detections?.length ?? 0);
  }

  function api(target: Exclude<FaultTarget, "token">, req: IncomingMessage, url: URL): Outcome {
    if (target === "alerts-api") return deps.alertsApi(req, url);
    if (target === "graph") return deps.graph(req, url);
    if (target === "incidents") return deps.incidents(req, url);
    return alerts(req, url);
  }

  function alerts(req: IncomingMessage, url: URL): Outcome {
    if (req.method !== "GET") {
      return json(405, apiError("MethodNotAllowed", "use GET"), { allow: "GET" });
    }
    const tenantId = deps.tokens.verify(req.headers.authorization);
    if (tenantId === undefined) {
      // The page: "401 Malformed request or invalid token". Missing, unknown and expired look alike.
      return json(401, apiError("Unauthorized", "Authorization has been denied for this request."), {
        "www-authenticate": 'Bearer error="invalid_token"',
      });
    }
    const now = clock();
    const parsed = parseAlertsQuery(url.searchParams, ticksFromMs(now));
    if (!parsed.ok) return json(400, apiError("InvalidParameter", parsed.message));
    // A token is bound to its tenant: the query sees only that tenant's detections.
    const detections = deps.store.query(tenantId, parsed.filter, now);
    return { ...json(200, detections), detections };
  }

  function token(
    req: IncomingMessage,
    rawTenant: string,
    form: URLSearchParams,
    version: "v1" | "v2",
  ): Outcome {
    if (req.method !== "POST") {
      return json(405, { error: "invalid_request", error_description: "The token endpoint takes POST." });
    }
    let tenantId = rawTenant;
    try {
      tenantId = decodeURIComponent(rawTenant);
    } catch {
      // Keep the raw segment: it then matches no tenant and gets Azure AD's "tenant not found".
    }
    // A client assertion's aud must name this endpoint, as the client addressed it.
    const endpointUrl = `${deps.baseUrl()}/${tenantId}/oauth2/${version === "v2" ? "v2.0/" : ""}token`;
    const result = deps.tokens.request(tenantId, form, { version, endpointUrl });
    // Azure AD forbids caching token responses.
    return json(result.status, result.body, { "cache-control": "no-store, no-cache", pragma: "no-cache" });
  }

  /** Resolves true after `ms`, or false as soon as the client leaves or the simulator closes. */
  function wait(ms: number, res: ServerResponse): Promise<boolean> {
    return new Promise((resolve) => {
      const finish = (fired: boolean): void => {
        clearTimeout(timer);
        res.off("close", onClose);
        pending.delete(cancel);
        resolve(fired);
      };
      const onClose = (): void => finish(false);
      const cancel = (): void => finish(false);
      const timer = setTimeout(() => finish(true), ms);
      res.on("close", onClose);
      pending.add(cancel);
    });
  }

  return {
    listen(host, port) {
      return new Promise((resolve, reject) => {
        const onError = (err: Error): void => reject(err);
        server.once("error", onError);
        server.listen(port, host, () => {
          server.off("error", onError);
          resolve(server.address() as AddressInfo);
        });
      });
    },
    close() {
      for (const cancel of [...pending]) cancel();
      return new Promise((resolve) => {
        if (!server.listening) {
          server.closeAllConnections();
          for (const socket of sockets) socket.destroy();
          resolve();
          return;
        }
        server.close(() => resolve());
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}

function countServes(counts: Map<string, number>, detections: readonly Record<string, unknown>[]): void {
  for (const d of detections)
    if (typeof d.FullId === "string") counts.set(d.FullId, (counts.get(d.FullId) ?? 0) + 1);
}

/** Bodies for a cut response when the real answer is not a 200: whatever it is, it is cut short. */
const CUT_BODIES: Record<FaultTarget, string> = {
  token: JSON.stringify({
    token_type: "Bearer",
    expires_in: "3599",
    access_token: "sim.cut".padEnd(60, "x"),
  }),
  alerts: '[{"AlertTime":"2020-09-30T14:09:20.35743Z","ComputerDnsName":"cut"}]',
  "alerts-api": '{"@odata.context":"cut","value":[{"id":"da637291048912199236_1126926584","title":"cut"}]}',
  graph: '{"@odata.context":"cut","value":[{"id":"da637551227677560813_-961444813","title":"cut"}]}',
  incidents: '{"@odata.context":"cut","value":[{"id":"2972395","displayName":"cut"}]}',
};
