// /metrics for Prometheus, /healthz (the process answers) and /readyz (config loaded, state open, every
// tenant polled successfully within three intervals).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "../log.js";
import type { MetricsConfig } from "./config.js";
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
  config: MetricsConfig,
  deps: MetricsServerDeps,
): Promise<MetricsServer> {
  const { log, metrics } = deps;
  const server: Server = createServer((req, res) => {
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
  });
  // Scrapes are short; do not let idle keep-alive sockets hold shutdown.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => {
      server.off("error", reject);
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
