// Command-line options shared by every command (node:util parseArgs, strict).
import { parseArgs } from "node:util";

const OPTIONS = {
  config: { type: "string", short: "c" },
  help: { type: "boolean", short: "h" },
  json: { type: "boolean" },
  destination: { type: "string" },
  port: { type: "string" },
  host: { type: "string" },
  rate: { type: "string" },
  "alert-rate": { type: "string" },
  "update-rate": { type: "string" },
  "service-mix": { type: "string" },
  fault: { type: "string", multiple: true },
  "token-lifetime": { type: "string" },
  seed: { type: "string" },
  duration: { type: "string" },
  source: { type: "string" },
  "log-level": { type: "string" },
  tenant: { type: "string" },
  to: { type: "string" },
  "forget-seen": { type: "boolean" },
} as const;

export type CliValues = ReturnType<typeof parse>["values"];

export function parse(argv: string[]) {
  return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
}

export function configPath(values: CliValues): string {
  return values.config ?? process.env.MDE_FORWARDER_CONFIG ?? "./config/forwarder.yaml";
}
