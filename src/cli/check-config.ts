// `check-config`: load and validate, then print the effective config (defaults filled in, durations in
// their YAML form) with every secret masked. Exit 0 valid, 78 invalid.
import { stringify } from "yaml";
import type { LoadedConfig } from "../config/load.js";
import { type Config, configSchema, SECRET_KEYS } from "../config/schema.js";
import { allKeys, unwrap } from "../config/schema-walk.js";
import { formatDuration } from "../config/types.js";
import { EXIT } from "../errors.js";
import { usesTls } from "../sink/config.js";
import { redactUrlCredentials } from "../source/proxy.js";
import { maskUrlCredentials } from "../url-credentials.js";
import type { CliValues } from "./args.js";
import { loadConfigOrReport } from "./common.js";

/** Keys printed in their YAML form (`2h`, not 7200000): every duration of the schema. */
const DURATION_KEYS = new Set(
  allKeys(configSchema)
    .filter((k) => unwrap(k.schema).valueType?.type === "duration")
    .map((k) => k.key),
);

export async function checkConfigCommand(values: CliValues): Promise<number> {
  const loaded = loadConfigOrReport(values);
  if (!loaded.ok) return loaded.exitCode;
  for (const warning of configWarnings(loaded.loaded.config)) process.stderr.write(`WARNING: ${warning}\n`);
  for (const notice of configNotices(loaded.loaded.config)) process.stderr.write(`NOTICE: ${notice}\n`);
  process.stdout.write(`# ${loaded.loaded.file}: valid\n${stringify(effectiveConfig(loaded.loaded))}`);
  return EXIT.OK;
}

/** The config as the forwarder will use it, safe to print: secrets masked, durations readable. */
export function effectiveConfig(loaded: LoadedConfig): unknown {
  return mask(loaded.config, "", loaded.secretFiles);
}

export function configWarnings(config: Config): string[] {
  const warnings: string[] = [];
  for (const d of config.destinations) {
    if (usesTls(d) && !d.tls.reject_unauthorized) {
      warnings.push(
        `destination ${d.name}: tls.reject_unauthorized is false; the server certificate is NOT verified and anyone on the path can read and alter events`,
      );
    }
    if (d.protocol === "udp") warnings.push(udpWarning(d.name));
  }
  return warnings;
}

/** What UDP can and cannot tell, for check-config and the start-up log. */
export function udpWarning(destination: string): string {
  return (
    `destination ${destination}: UDP cannot confirm delivery: events lost on the network or at a receiver ` +
    "that is down or overloaded are not resent (only a receiver host answering 'port unreachable' is " +
    "noticed); use tcp, tls or relp for delivery you can count on"
  );
}

/**
 * Not problems, but what a new setup should know: each tenant on the SIEM API (deprecated by Microsoft,
 * closed to new onboarding since December 2021), with how to switch. One line each; nothing fails.
 */
export function configNotices(config: Config): string[] {
  return config.tenants
    .filter((t) => t.source === "siem")
    .map(
      (t) =>
        `tenant ${t.name}: the SIEM API (source: siem, also the default when source is not set) is deprecated and closed to new onboarding ` +
        "since December 2021; to switch, set source: graph (and drop region), grant the app the Microsoft " +
        "Graph application permission SecurityAlert.Read.All; the checkpoint is kept: nothing is skipped, and " +
        `only what changed in the last poll.overlap (${formatDuration(config.poll.overlap)}) comes once more, as Graph alerts`,
    );
}

function mask(value: unknown, path: string, secretFiles: ReadonlyMap<string, string>): unknown {
  // Any URL (api_url, authority_host...) may carry credentials: never printed.
  if (typeof value === "string") return maskUrlCredentials(value);
  if (Array.isArray(value)) return value.map((v, i) => mask(v, `${path}[${i}]`, secretFiles));
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const childPath = path === "" ? key : `${path}.${key}`;
    if (childPath === "proxy.url" && typeof v === "string") {
      // Proxy credentials ride in the URL: show the proxy, never the password.
      out[key] = redactUrlCredentials(v);
    } else if ((SECRET_KEYS as readonly string[]).includes(key)) {
      const file = secretFiles.get(childPath);
      out[key] = file ? `***** (from ${file})` : "*****";
    } else if (DURATION_KEYS.has(key) && typeof v === "number") {
      out[key] = formatDuration(v);
    } else {
      out[key] = mask(v, childPath, secretFiles);
    }
  }
  return out;
}
