#!/usr/bin/env node
// mde-forwarder: the composition root. Parses the command line and hands over to one command file.
import "./heap.js";
import { EXIT } from "../errors.js";
import { parse } from "./args.js";
import { checkConfigCommand } from "./check-config.js";
import { demoCommand } from "./demo.js";
import { onceCommand } from "./once.js";
import { runCommand } from "./run.js";
import { sendTestCommand } from "./send-test.js";
import { simulateCommand } from "./simulate.js";
import { stateCommand } from "./state.js";
import { statusCommand } from "./status.js";

const USAGE = `Usage: mde-forwarder <command> [options]

Commands:
  run            the daemon: poll on schedule, drain continuously, serve metrics
  once           one poll of every tenant, then deliver everything (exit 1 if something is left)
  check-config   validate the config and print it with secrets masked (exit 78 if invalid)
  status         checkpoint and last poll per tenant, outbox per destination, daemon running or not (--json)
  state reset-checkpoint --tenant NAME --to TIME|none [--forget-seen]
                 set a tenant's checkpoint (backward too: re-read history); refused while a forwarder runs
  state export-outbox [--destination NAME]
                 every undelivered event as a JSON line on stdout, oldest first; refused while a forwarder runs
  send-test      send one synthetic detection to each destination (--destination NAME)
  simulate       run the bundled MDE SIEM API simulator (--port, --rate, --fault)
  demo           simulator + forwarder + a local receiver that prints what arrives
                 (--duration 30s, --source siem|alerts|graph|incidents)

Options:
  -c, --config FILE   config file (default: $MDE_FORWARDER_CONFIG, else ./config/forwarder.yaml)
  -h, --help          this text
`;

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return EXIT.USAGE;
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || command === "help") {
    process.stdout.write(USAGE);
    return EXIT.OK;
  }
  if (command === "state") return stateCommand(values, rest);
  if (command === undefined || rest.length > 0) {
    process.stderr.write(command === undefined ? USAGE : `unexpected argument: ${rest[0]}\n\n${USAGE}`);
    return EXIT.USAGE;
  }
  switch (command) {
    case "run":
      return runCommand(values);
    case "once":
      return onceCommand(values);
    case "check-config":
      return checkConfigCommand(values);
    case "status":
      return statusCommand(values);
    case "send-test":
      return sendTestCommand(values);
    case "simulate":
      return simulateCommand(values);
    case "demo":
      return demoCommand(values);
    default:
      process.stderr.write(`unknown command: ${command}\n\n${USAGE}`);
      return EXIT.USAGE;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`mde-forwarder: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = EXIT.FAILED;
  },
);
