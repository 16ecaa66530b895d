// `simulate`: the bundled API simulator as a process (SIEM API, Alerts API, Graph alerts_v2 and incidents,
// their token endpoint), for users who want to see what their SIEM makes of the events without a tenant.
// Faults given with --fault are served to the first SIEM API requests. The banner goes to stdout, the log
// lines to stderr, so that piped output is the banner alone.
import { EXIT } from "../errors.js";
import { createLogger } from "../log.js";
import { createSimulator, DEMO_TENANT, type Fault } from "../simulator/index.js";
import type { CliValues } from "./args.js";
import { waitForStop } from "./run.js";

export async function simulateCommand(values: CliValues): Promise<number> {
  const port = intOption(values.port, "--port", 8080);
  const rate = intOption(values.rate, "--rate", 6);
  const tokenLifetime = intOption(values["token-lifetime"], "--token-lifetime", 3599);
  const seed = intOption(values.seed, "--seed", 1);
  const alertRate = intOption(values["alert-rate"], "--alert-rate", 6);
  const updateRate = intOption(values["update-rate"], "--update-rate", 3);
  if (
    port === undefined ||
    rate === undefined ||
    tokenLifetime === undefined ||
    seed === undefined ||
    alertRate === undefined ||
    updateRate === undefined
  ) {
    return EXIT.USAGE;
  }
  const serviceMix = values["service-mix"] === undefined ? 0 : Number(values["service-mix"]);
  if (!Number.isFinite(serviceMix) || serviceMix < 0 || serviceMix > 1) {
    process.stderr.write(`--service-mix must be a share from 0 to 1, got "${values["service-mix"]}"\n`);
    return EXIT.USAGE;
  }
  const faults: Fault[] = [];
  for (const spec of values.fault ?? []) {
    const fault = parseFault(spec);
    if (!fault) {
      process.stderr.write(
        `--fault ${spec}: use 401, 403, 429[:SECONDS], 500, 503[:SECONDS], slow:MS, cut or html\n`,
      );
      return EXIT.USAGE;
    }
    faults.push(fault);
  }
  const level = values["log-level"] ?? "info";
  if (!isLevel(level)) {
    process.stderr.write(`--log-level must be one of ${LEVELS.join(", ")}, got "${level}"\n`);
    return EXIT.USAGE;
  }
  // stdout carries the banner (a script may read the URLs from it); log lines go to stderr.
  const log = createLogger({ level, output: "stderr" });
  const sim = await createSimulator({
    host: values.host ?? "127.0.0.1",
    port,
    ratePerMinute: rate,
    alertRatePerMinute: alertRate,
    updateRatePerMinute: updateRate,
    serviceMix,
    tokenLifetimeSeconds: tokenLifetime,
    seed,
    log,
  });
  if (faults.length > 0) sim.injectFaults(faults);
  // Ctrl-C is handled from before the banner on: a script that signals as soon as it reads it must
  // get a clean stop, not the default signal death.
  const stopped = waitForStop(() => sim.close(), log);
  process.stdout.write(
    [
      `MDE API simulator listening at ${sim.url}: SIEM API (${rate} new detections per minute), Alerts API,`,
      `Graph alerts_v2 and incidents (${alertRate} new and ${updateRate} updated alerts per minute).`,
      "Tenant block for the forwarder config (Microsoft Graph; the other APIs on the lines below):",
      "  tenants:",
      "    - name: simulator",
      "      source: graph",
      `      tenant_id: ${DEMO_TENANT.tenantId}`,
      `      client_id: ${DEMO_TENANT.clientId}`,
      `      client_secret: ${DEMO_TENANT.clientSecret}`,
      `      authority_host: ${sim.authorityHost}`,
      `      api_url: ${sim.graphUrl}`,
      `      # source: incidents  with  api_url: ${sim.graphUrl}`,
      `      # source: alerts     with  api_url: ${sim.alertsApiUrl}`,
      `      # source: siem       with  api_url: ${sim.url}   (the legacy SIEM API)`,
      `Seed a backlog: curl -X POST ${sim.url}/_sim/alerts -d '{"count": 1000}'   (docs/simulator.md)`,
      "Stop with Ctrl-C.",
      "",
    ].join("\n"),
  );
  return stopped;
}

const LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

function isLevel(value: string): value is (typeof LEVELS)[number] {
  return (LEVELS as readonly string[]).includes(value);
}

export function parseFault(spec: string): Fault | undefined {
  const [kind, arg] = spec.split(":", 2);
  const n = arg === undefined ? undefined : Number(arg);
  if (arg !== undefined && (!Number.isInteger(n) || (n ?? 0) < 0)) return undefined;
  switch (kind) {
    case "401":
    case "403":
    case "500":
      return arg === undefined ? { kind: "status", status: Number(kind) } : undefined;
    case "429":
    case "503":
      return { kind: "status", status: Number(kind), ...(n === undefined ? {} : { retryAfterSeconds: n }) };
    case "slow":
      return n === undefined ? undefined : { kind: "slow", delayMs: n };
    case "cut":
      return arg === undefined ? { kind: "cut" } : undefined;
    case "html":
      return arg === undefined ? { kind: "html" } : undefined;
    default:
      return undefined;
  }
}

function intOption(value: string | undefined, flag: string, fallback: number): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    process.stderr.write(`${flag} must be a whole number, got "${value}"\n`);
    return undefined;
  }
  return n;
}
