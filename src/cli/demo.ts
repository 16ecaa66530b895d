// `demo`: the simulator, the forwarder (`run`) and a local receiver, all on 127.0.0.1, with each received
// event printed as one line. Runs until Ctrl-C, or for --duration.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configSchema } from "../config/schema.js";
import { parseDuration } from "../config/types.js";
import { EXIT, isForwarderError } from "../errors.js";
import { createLogger } from "../log.js";
import { createSimulator, DEMO_TENANT } from "../simulator/index.js";
import type { CliValues } from "./args.js";
import { reportFatal } from "./common.js";
import { type RunningDaemon, startDaemon } from "./daemon.js";
import { type ReceivedEvent, startDemoReceiver } from "./receiver.js";
import { waitForStop } from "./run.js";

const SEVERITY_NAMES = new Map([
  ["1", "Info"],
  ["3", "Low"],
  ["5", "Medium"],
  ["8", "High"],
]);

export async function demoCommand(values: CliValues): Promise<number> {
  const durationMs = values.duration === undefined ? undefined : parseDuration(values.duration);
  if (values.duration !== undefined && durationMs === undefined) {
    process.stderr.write(`--duration: "${values.duration}" is not a duration (use 30s, 5m)\n`);
    return EXIT.USAGE;
  }
  const source = values.source ?? "graph";
  if (source !== "siem" && source !== "alerts" && source !== "graph" && source !== "incidents") {
    process.stderr.write(`--source: "${source}" is not one of graph, incidents, alerts, siem\n`);
    return EXIT.USAGE;
  }
  const level = values["log-level"] ?? "warn";
  const log = createLogger({ level: level as "warn" });
  const stateDir = mkdtempSync(join(tmpdir(), "mde-forwarder-demo-"));
  const sim = await createSimulator({
    ratePerMinute: source === "siem" ? 12 : 0,
    alertRatePerMinute: source === "siem" ? 0 : 6,
    updateRatePerMinute: source === "siem" ? 0 : 6,
    // Graph returns every Defender product's alerts: show some, each under its own CEF product.
    serviceMix: source === "graph" || source === "incidents" ? 0.3 : 0,
    seed: Date.now() % 100_000,
  });
  // A backlog from the last half hour, so the first poll already has something to show.
  const now = Date.now();
  if (source === "siem") sim.generate(12, { from: now - 30 * 60_000, to: now - 60_000 });
  else sim.addAlerts(8, { from: now - 30 * 60_000, to: now - 60_000 });
  const apiUrl = source === "siem" ? sim.url : source === "alerts" ? sim.alertsApiUrl : sim.graphUrl;
  const apiName =
    source === "alerts" ? "Alerts API" : source === "graph" ? "Graph alerts_v2" : "Graph incidents";
  const receiver = await startDemoReceiver((event) => process.stdout.write(`${describe(event)}\n`));
  let daemon: RunningDaemon | undefined;
  try {
    const config = configSchema.parse({
      tenants: [
        {
          name: "demo",
          tenant_id: DEMO_TENANT.tenantId,
          client_id: DEMO_TENANT.clientId,
          client_secret: DEMO_TENANT.clientSecret,
          source,
          api_url: apiUrl,
          authority_host: sim.authorityHost,
        },
      ],
      poll: { schedule: "*/10 * * * * *", lookback: "1h", overlap: "1m" },
      state: { path: join(stateDir, "state.db") },
      destinations: [
        { name: "local", format: "cef", protocol: "tcp", host: "127.0.0.1", port: receiver.port },
      ],
      metrics: { host: "127.0.0.1", port: 9464 },
      log: { level },
    });
    try {
      daemon = await startDaemon(config, { log });
    } catch (err) {
      // Port 9464 taken (a real forwarder running?): any free port will do for a demo.
      if (!(isForwarderError(err) && err.details.errno === "EADDRINUSE")) throw err;
      daemon = await startDaemon({ ...config, metrics: { ...config.metrics, port: 0 } }, { log });
    }
    process.stdout.write(
      [
        "mde-forwarder demo: simulator -> forwarder -> local receiver, all on 127.0.0.1",
        source === "siem"
          ? bannerRow(
              "MDE SIEM API simulator",
              `${sim.url}  (12 new detections per minute, polled every 10 s)`,
            )
          : bannerRow(
              `${apiName} simulator`,
              `${apiUrl}  (6 new and 6 updated alerts per minute, polled every 10 s)`,
            ),
        bannerRow("syslog receiver", `tcp://127.0.0.1:${receiver.port}  (CEF, RFC 5424, LF framing)`),
        bannerRow("metrics", `${daemon.metricsServer?.url}/metrics`),
        durationMs === undefined ? "  Stop with Ctrl-C." : `  Stops after ${values.duration}.`,
        "",
      ].join("\n"),
    );
    const running = daemon;
    const stop = async () => {
      await running.stop();
      await receiver.close();
      await sim.close();
      rmSync(stateDir, { recursive: true, force: true });
      process.stdout.write(`demo: ${receiver.count} events received.\n`);
    };
    if (durationMs !== undefined) {
      await new Promise((resolve) => setTimeout(resolve, durationMs));
      await stop();
      return receiver.count > 0 ? EXIT.OK : EXIT.FAILED;
    }
    return await waitForStop(stop, log);
  } catch (err) {
    await daemon?.stop();
    await receiver.close();
    await sim.close();
    rmSync(stateDir, { recursive: true, force: true });
    return reportFatal(err);
  }
}

function describe(event: ReceivedEvent): string {
  if (!event.cef) return `  ${event.raw.slice(0, 160)}`;
  const ext = event.cef.extension;
  const rt = ext.rt === undefined ? undefined : Number(ext.rt);
  const when = rt === undefined || Number.isNaN(rt) ? "--:--:--" : new Date(rt).toISOString().slice(11, 19);
  const sev = (SEVERITY_NAMES.get(event.cef.severity) ?? event.cef.severity).padEnd(6);
  const host = (ext.shost ?? "-").padEnd(16);
  const cat = (ext.cat ?? "-").padEnd(20);
  // Only for events of another product than Defender for Endpoint (Graph: Office 365, Sentinel, XDR...).
  const product = event.cef.product === "Microsoft Defender ATP" ? "" : `  (${event.cef.product})`;
  return `  ${when}  ${sev}  ${cat}  ${host}  ${event.cef.name}  [${ext.externalId ?? ""}]${product}`;
}

/** The width of the banner's label column: the longest label, "Graph incidents simulator". */
const BANNER_LABEL_WIDTH = 25;

/** One banner row: the label in its column and at least two spaces before the value, whatever the label. */
export function bannerRow(label: string, value: string): string {
  return `  ${label.padEnd(BANNER_LABEL_WIDTH)}  ${value}`;
}
