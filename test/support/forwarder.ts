// Running the forwarder in tests: a config built through the real schema, in-process or as a real
// process (`node --import tsx src/cli/main.ts ...`) with its JSON log lines collected.
import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { type Config, configSchema } from "../../src/config/schema.js";
import { silentLogger } from "../../src/log.js";
import { DEMO_TENANT, type Simulator } from "../../src/simulator/index.js";
import { createStore } from "../../src/state/index.js";
import { parseCef } from "./cef-parser.js";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface RawConfigOptions {
  sim: Simulator;
  receiverPort: number;
  stateDir: string;
  protocol?: "tcp" | "udp" | "tls" | "relp";
  poll?: Record<string, unknown>;
  destination?: Record<string, unknown>;
  extraDestinations?: Array<Record<string, unknown>>;
  state?: Record<string, unknown>;
  tenant?: Record<string, unknown>;
}

/** The config as a user would write it (YAML-shaped object). */
export function rawConfig(o: RawConfigOptions): Record<string, unknown> {
  return {
    tenants: [
      {
        name: "demo",
        tenant_id: DEMO_TENANT.tenantId,
        client_id: DEMO_TENANT.clientId,
        client_secret: DEMO_TENANT.clientSecret,
        api_url: o.sim.url,
        authority_host: o.sim.authorityHost,
        ...o.tenant,
      },
    ],
    poll: { schedule: "0 0 1 1 *", lookback: "2h", overlap: "5m", request_timeout: "5s", ...o.poll },
    state: { path: join(o.stateDir, "state.db"), ...o.state },
    destinations: [
      {
        name: "siem",
        format: "cef",
        protocol: o.protocol ?? "tcp",
        host: "127.0.0.1",
        port: o.receiverPort,
        ...o.destination,
      },
      ...(o.extraDestinations ?? []),
    ],
    metrics: { enabled: false },
    log: { level: "info" },
  };
}

export function config(o: RawConfigOptions): Config {
  return configSchema.parse(rawConfig(o));
}

export function writeConfig(dir: string, raw: Record<string, unknown>, name = "forwarder.yaml"): string {
  const file = join(dir, name);
  writeFileSync(file, stringify(raw));
  return file;
}

/** FullId of each received CEF message (from cs3), parsed strictly. */
export function fullIds(messages: readonly string[]): string[] {
  return messages.map((m) => parseCef(m).extension.get("cs3") ?? "");
}

/** How often each FullId arrived. */
export function arrivals(messages: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const id of fullIds(messages)) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

export interface LogLine {
  level: string;
  msg: string;
  [key: string]: unknown;
}

export interface ForwarderProcess {
  readonly child: ChildProcess;
  readonly logs: LogLine[];
  readonly stderr: string[];
  /** Resolves with the first log line matching; rejects when the process exits first or after timeoutMs. */
  waitForLog(predicate: (line: LogLine) => boolean, what: string, timeoutMs?: number): Promise<LogLine>;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): void;
}

export interface SpawnOptions {
  /** Run as this user and group (tests running as root use it to be refused by file permissions). */
  uid?: number;
  gid?: number;
  /** Shell commands run before exec'ing the forwarder, e.g. `ulimit -f 2048`. */
  shellPrefix?: string;
}

export function spawnForwarder(
  args: string[],
  env: Record<string, string> = {},
  options: SpawnOptions = {},
): ForwarderProcess {
  const node = [process.execPath, "--import", "tsx", join(ROOT, "src/cli/main.ts"), ...args];
  const [command, ...argv] = options.shellPrefix
    ? ["/bin/sh", "-c", `${options.shellPrefix}; exec "$0" "$@"`, ...node]
    : node;
  const child = spawn(command ?? process.execPath, argv, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.gid ?? options.uid }),
  });
  const logs: LogLine[] = [];
  const stderr: string[] = [];
  const waiters = new Set<() => void>();
  let pending = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    pending += chunk;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      if (line.startsWith("{")) {
        try {
          logs.push(JSON.parse(line) as LogLine);
        } catch {
          // Not a log line (command output); ignored.
        }
      }
    }
    for (const w of waiters) w();
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => stderr.push(chunk));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => {
      for (const w of waiters) w();
      resolve({ code, signal });
    }),
  );
  return {
    child,
    logs,
    stderr,
    exit,
    kill(signal = "SIGKILL") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    waitForLog(predicate, what, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = logs.find(predicate);
          if (found) {
            done();
            resolve(found);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            done();
            reject(new Error(`forwarder exited before: ${what}\n${stderr.join("")}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out waiting for: ${what}\n${stderr.join("")}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** A snapshot of a state file, read the way `status` does (read-only, beside a running or dead daemon). */
export function readState(stateDir: string, destinations: readonly string[] = ["siem"], tenant = "demo") {
  const store = createStore(
    {
      path: join(stateDir, "state.db"),
      retention: 7 * 86_400_000,
      max_outbox: 1_000_000,
      destinations,
      readonly: true,
    },
    { log: silentLogger() },
  );
  try {
    return { outbox: store.outboxDepths(), checkpoint: store.getCheckpoint(tenant) };
  } finally {
    store.close();
  }
}
