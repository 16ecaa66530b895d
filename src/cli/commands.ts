// The commands of mde-forwarder and the options each takes: one table that drives the parser, every help
// text and the "did you mean" suggestions. Adding a command (or an option to one) is one entry here.
// Each command's module is imported when that command runs, not at start: `once` need not load the
// simulator, the demo's receiver or the state commands (start-up is part of every backfill and every
// `status`).
import type { CliValues, OptionName } from "./args.js";

const runCommand = lazy(() => import("./run.js"), "runCommand");
const onceCommand = lazy(() => import("./once.js"), "onceCommand");
const checkConfigCommand = lazy(() => import("./check-config.js"), "checkConfigCommand");
const statusCommand = lazy(() => import("./status.js"), "statusCommand");
const sendTestCommand = lazy(() => import("./send-test.js"), "sendTestCommand");
const simulateCommand = lazy(() => import("./simulate.js"), "simulateCommand");
const demoCommand = lazy(() => import("./demo.js"), "demoCommand");
const resetCheckpointCommand = lazy(() => import("./state.js"), "resetCheckpointCommand");
const exportOutboxCommand = lazy(() => import("./state.js"), "exportOutboxCommand");
const exportQuarantineCommand = lazy(() => import("./state.js"), "exportQuarantineCommand");

type Run = (values: CliValues) => Promise<number>;

/** A command's run function, imported from its module on first call. */
function lazy<K extends string>(load: () => Promise<Record<K, Run>>, name: K): Run {
  return async (values) => (await load())[name](values);
}

export interface CommandSpec {
  /** As typed: `run`, `state export-outbox`. */
  readonly name: string;
  /** What follows the name in the usage line: `--tenant NAME --to TIME|none [--forget-seen]`. */
  readonly usage?: string;
  /** One line for the list of commands. */
  readonly summary: string;
  /** More lines for the command's own help: what it does, its exit codes. */
  readonly details?: readonly string[];
  /** Reads the config file (takes -c/--config). */
  readonly config: boolean;
  /** Its own options (not --config, --help), each with a one-line description. */
  readonly options: Readonly<Partial<Record<OptionName, string>>>;
  readonly run: (values: CliValues) => Promise<number>;
}

export const CONFIG_HELP = "config file (default: $MDE_FORWARDER_CONFIG, else ./config/forwarder.yaml)";
export const HELP_HELP = "this text";

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: "run",
    summary: "the daemon: poll on schedule, drain continuously, serve metrics",
    details: [
      "Polls every tenant at start and on poll.schedule, sends to every destination as events arrive, and",
      "serves /metrics, /healthz and /readyz on metrics.host:metrics.port. SIGHUP reloads the config;",
      "SIGTERM or SIGINT stop it gracefully (sends in flight are confirmed first).",
      "Exit: 0 after a clean stop; 1 when start-up fails or the stop takes over 10 s; 78 invalid config.",
    ],
    config: true,
    options: {},
    run: runCommand,
  },
  {
    name: "once",
    summary: "poll every tenant once, deliver everything, exit (1 if something is left)",
    details: [
      "Reads every tenant once (from its checkpoint, or poll.lookback the first time) and sends until every",
      "destination's outbox is empty or 3 sends in a row failed. On a terminal a progress line shows the",
      "time range read, the detections received and new, the events delivered and both rates.",
      "Exit: 0 all read and delivered; 1 something failed or is still pending; 78 invalid config.",
    ],
    config: true,
    options: {},
    run: onceCommand,
  },
  {
    name: "check-config",
    summary: "validate the config and print it with secrets masked (exit 78 if invalid)",
    details: [
      "Prints the effective config (defaults filled in, secrets masked) and warnings about risky settings.",
      "Exit: 0 valid; 78 invalid (every problem named with its key path and line).",
    ],
    config: true,
    options: {},
    run: checkConfigCommand,
  },
  {
    name: "status",
    summary: "checkpoints, outboxes, last errors, and whether a forwarder is running",
    details: [
      "Per tenant: checkpoint, last poll, last success, last error. Per destination: events waiting in",
      "the outbox, last success, last error. Reads the state file read-only; works while the daemon runs.",
      "Exit: 0; 1 when the state cannot be read.",
    ],
    config: true,
    options: { json: "JSON for scripts (timestamps in ms since the epoch)" },
    run: statusCommand,
  },
  {
    name: "send-test",
    summary: "send one synthetic detection to each destination (needs no tenant)",
    details: [
      "Sends one made-up detection with awkward values (line breaks, pipes, equals signs, non-ASCII) and",
      "prints exactly what was sent, to compare with what the SIEM made of it. Only the destinations part",
      "of the config must be valid: tenants are not used (problems there are shown as a note). Over UDP",
      "only a refusal (nothing listens) can be seen: delivery itself cannot be confirmed.",
      "Exit: 0 sent; 1 a send failed; 2 no such destination; 78 invalid destinations.",
    ],
    config: true,
    options: { destination: "send only to this destination" },
    run: sendTestCommand,
  },
  {
    name: "simulate",
    summary: "the bundled simulator: SIEM API, Alerts API, Graph alerts_v2 and incidents",
    details: [
      "Serves the MDE SIEM API (/api/alerts), the Defender Alerts API (/mde), Microsoft Graph alerts_v2 and",
      "incidents (/graph) and their token endpoint, for one tenant whose credentials it prints with a",
      "tenant block for the forwarder config. Seed a backlog or inject faults through its control API",
      "(/_sim/*, see docs/simulator.md). The banner goes to stdout, log lines to stderr.",
    ],
    config: false,
    options: {
      host: "address to listen on (default 127.0.0.1; the control API has no authentication)",
      port: "port to listen on (default 8080; 0 picks a free one)",
      rate: "new SIEM API detections per minute (default 6)",
      "alert-rate": "new Alerts API and Graph alerts per minute (default 6)",
      "update-rate": "updates of existing alerts per minute (default 3)",
      "service-mix":
        "share (0 to 1) of the new Graph alerts from other Defender products than Endpoint (default 0)",
      "token-lifetime": "lifetime of the access tokens it issues (default 3599)",
      seed: "seed of the generated data, for repeatable runs (default 1)",
      fault:
        "serve a fault to the next SIEM API request, repeatable: 401, 403, 429[:SECONDS], 500, 503[:SECONDS], slow:MS, cut, html",
      "log-level": "fatal, error, warn, info (default), debug (every request), trace or silent",
    },
    run: simulateCommand,
  },
  {
    name: "demo",
    summary: "simulator + forwarder + a receiver printing what arrives, on 127.0.0.1",
    details: [
      "Needs no config and no tenant: runs the simulator, the forwarder and a syslog receiver, and prints",
      "each event the receiver gets on one line. Stop with Ctrl-C.",
    ],
    config: false,
    options: {
      duration: "stop after this long (30s, 5m); default: run until Ctrl-C",
      source: "API to read: graph (default), incidents, alerts or siem",
      "log-level": "log level of the forwarder (default warn)",
    },
    run: demoCommand,
  },
  {
    name: "state reset-checkpoint",
    usage: "--tenant NAME --to TIME|none [--forget-seen]",
    summary: "move a tenant's checkpoint (back too, to read history again)",
    details: [
      "Refused (E_STATE_LOCKED) while a forwarder holds the state: stop it first.",
      "TIME: an ISO timestamp (UTC unless it has an offset), a date, or a duration ago (24h, 7d).",
      "none: delete the checkpoint; the next poll starts from poll.lookback.",
      "Exit: 0 done; 1 the state is locked by a running forwarder or cannot be written; 2 bad arguments.",
    ],
    config: true,
    options: {
      tenant: "the tenant (its name in the config)",
      to: "the new checkpoint: TIME or none",
      "forget-seen":
        "also forget the tenant's dedupe keys from then on, so re-read detections are sent again",
    },
    run: resetCheckpointCommand,
  },
  {
    name: "state export-outbox",
    summary: "every undelivered event as a JSON line on stdout, oldest first",
    details: [
      "One line per destination still waiting for an event; the count on stderr. Changes nothing, but is",
      "refused (E_STATE_LOCKED) while a forwarder holds the state, so that nothing moves under it.",
      "Exit: 0 written; 1 the state is locked or the output closed early; 2 no such destination.",
    ],
    config: true,
    options: { destination: "only the events waiting for this destination" },
    run: exportOutboxCommand,
  },
  {
    name: "state export-quarantine",
    summary: "every quarantined detection (raw body, tenant, reason, time) as a JSON line on stdout",
    details: [
      "Detections that could not be stored or encoded (nested too deep, too large, not an object,",
      "refused by a destination's formatter), oldest first; the count on stderr. Reads the state",
      "read-only: safe beside a running forwarder. Each line: id, tenant, reason, kind, destination,",
      "quarantined_at, raw_bytes, truncated and raw (the text as received, cut at 64 KiB).",
      "Exit: 0 written; 1 the state cannot be read or the output closed early; 2 no such tenant.",
    ],
    config: true,
    options: { tenant: "only the records of this tenant" },
    run: exportQuarantineCommand,
  },
];

/** Command groups: a word that is not a command itself but the first word of several (`state`). */
export function groups(): string[] {
  return [...new Set(COMMANDS.filter((c) => c.name.includes(" ")).map((c) => c.name.split(" ")[0] ?? ""))];
}

/** Every option a command's parser accepts, --config and --help included. */
export function optionsOf(command: CommandSpec): OptionName[] {
  return [
    ...(command.config ? (["config"] as const) : []),
    ...(Object.keys(command.options) as OptionName[]),
    "help",
  ];
}
