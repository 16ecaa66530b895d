// /metrics for Prometheus, /healthz (the process answers) and /readyz (config loaded, state open, every
// tenant polled successfully within three intervals).
//
// Limits, so that no client can hold the server or starve a health probe:
// - a client must send its whole request within `header_timeout` of connecting, however it dribbles it;
// - at most `max_connections` are open: a new one closes the oldest that has no request in progress
//   (idle keep-alive, or still sending its headers), so a flood of slow clients only evicts itself while a
//   probe that sends its request at once gets its answer; only when every slot is busy answering is the new
//   connection closed;
// - an idle keep-alive connection lasts 5 s, a stalled one (a client not reading its answer) 30 s;
// - requests are GET or HEAD with headers of at most 8 KiB.
// Every connection closed before an answer is counted in mde_http_connections_dropped_total{reason}.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { ForwarderError } from "../errors.js";
import type { Logger } from "../log.js";
import type { MetricsServerConfig } from "./config.js";
import type { Metrics } from "./definitions.js";

export interface Readiness {
  ready: boolean;
  /** Short reasons, e.g. `tenant contoso: no successful poll for 6m`. Never secrets. */
  reasons: string[];
}

export interface MetricsServer {
  /** Where it listens (the port is known only after listen when configured as 0). */
  readonly url: string;
  close(): Promise<void>;
}

export interface MetricsServerDeps {
  log: Logger;
  metrics: Metrics;
  readiness: () => Readiness;
}

export async function startMetricsServer(
  config: MetricsServerConfig,
  deps: MetricsServerDeps,
): Promise<MetricsServer> {
  const { log, metrics } = deps;
  const headerTimeout = config.header_timeout;
  const server: Server = createServer(
    {
      headersTimeout: headerTimeout,
      requestTimeout: headerTimeout,
      // Node checks the two timeouts above only this often (30 s by default).
      connectionsCheckingInterval: Math.min(1_000, Math.max(50, Math.floor(headerTimeout / 4))),
      keepAliveTimeout: 5_000,
      maxHeaderSize: 8 * 1024,
    },
    (req, res) => {
      handle(req, res);
    },
  );
  server.maxHeadersCount = 64;
  // A connection that stalls (the client does not read the answer) is destroyed after this long.
  server.setTimeout(30_000);

  // Open connections, oldest first, and which of them have a request in progress.
  const open = new Map<Socket, { busy: boolean }>();
  server.on("connection", (socket: Socket) => {
    if (open.size >= config.max_connections) {
      let evicted = false;
      for (const [old, state] of open) {
        if (state.busy) continue;
        old.destroy();
        open.delete(old);
        evicted = true;
        break;
      }
      metrics.httpConnectionsDropped.inc({ reason: "limit" });
      if (!evicted) {
        socket.destroy();
        return;
      }
    }
    const state = { busy: false };
    open.set(socket, state);
    socket.once("close", () => open.delete(socket));
  });
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const state = open.get(req.socket);
    if (state === undefined) return;
    state.busy = true;
    res.once("close", () => {
      state.busy = false;
    });
  });
  // Replaces Node's default handling (a 400 or 408 answer, then destroy) to count it.
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => {
    const timeout = err.code === "ERR_HTTP_REQUEST_TIMEOUT";
    // Not counted: a client that reset or went away (ECONNRESET, EPIPE) was not dropped by this server.
    if (timeout || err.code?.startsWith("HPE_")) {
      metrics.httpConnectionsDropped.inc({ reason: timeout ? "timeout" : "bad_request" });
    }
    if (socket.writable) {
      socket.end(
        timeout
          ? "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n"
          : "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n",
      );
    }
    socket.destroy();
  });

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (path === "/metrics") {
      metrics.registry
        .metrics()
        .then((body) => {
          res.writeHead(200, { "content-type": metrics.registry.contentType }).end(body);
        })
        .catch((err: unknown) => {
          log.error({ err }, "Metrics collection failed.");
          res.writeHead(500).end();
        });
      return;
    }
    if (path === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
      return;
    }
    if (path === "/readyz") {
      const r = deps.readiness();
      res
        .writeHead(r.ready ? 200 : 503, { "content-type": "application/json" })
        .end(`${JSON.stringify({ ready: r.ready, reasons: r.reasons })}\n`);
      return;
    }
    res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
  }
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => reject(listenError(config, err));
    server.once("error", onError);
    server.listen(config.port, config.host, () => {
      server.off("error", onError);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${address.port}`;
  log.info({ url }, "Metrics server listening.");
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A listener that cannot start: what is wrong, in words, and the keys that fix it. */
function listenError(config: MetricsServerConfig, err: NodeJS.ErrnoException): ForwarderError {
  const errno = err.code ?? "error";
  const why =
    errno === "EADDRINUSE"
      ? "the port is already in use (EADDRINUSE; another forwarder on this host?)"
      : errno === "EACCES"
        ? "not allowed (EACCES; ports below 1024 need privileges)"
        : errno === "EADDRNOTAVAIL"
          ? `${config.host} is not an address of this machine (EADDRNOTAVAIL)`
          : errno === "ENOTFOUND" || errno === "EAI_AGAIN"
            ? `${config.host} does not resolve (${errno})`
            : `listen failed (${errno})`;
  return new ForwarderError(
    "E_METRICS_LISTEN",
    `metrics server cannot listen on ${config.host}:${config.port}: ${why}. ` +
      "Fix: set metrics.port (and metrics.host) to a free address, or metrics.enabled: false.",
    { cause: err, details: { host: config.host, port: config.port, errno } },
  );
}
