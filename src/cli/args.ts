// Every command-line option the CLI knows: how node:util parseArgs reads it and what its value is called
// in help texts. Which command takes which option, and what it does there, is in commands.ts.
import { parseArgs } from "node:util";

export const OPTIONS = {
  config: { type: "string", short: "c", value: "FILE" },
  help: { type: "boolean", short: "h" },
  json: { type: "boolean" },
  destination: { type: "string", value: "NAME" },
  port: { type: "string", value: "PORT" },
  host: { type: "string", value: "ADDRESS" },
  rate: { type: "string", value: "N" },
  "alert-rate": { type: "string", value: "N" },
  "update-rate": { type: "string", value: "N" },
  "service-mix": { type: "string", value: "SHARE" },
  fault: { type: "string", multiple: true, value: "FAULT" },
  "token-lifetime": { type: "string", value: "SECONDS" },
  seed: { type: "string", value: "N" },
  duration: { type: "string", value: "DURATION" },
  source: { type: "string", value: "SOURCE" },
  "log-level": { type: "string", value: "LEVEL" },
  tenant: { type: "string", value: "NAME" },
  to: { type: "string", value: "TIME" },
  "forget-seen": { type: "boolean" },
} as const;

export type OptionName = keyof typeof OPTIONS;

/** The options' values as every command sees them: only its own options can be set. */
export type CliValues = ReturnType<typeof parseAll>["values"];

// Only for the type above: the values of all options at once.
function parseAll(argv: string[]) {
  return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
}

export function configPath(values: CliValues): string {
  return values.config ?? process.env.MDE_FORWARDER_CONFIG ?? "./config/forwarder.yaml";
}
