// `status`: what the state file says, per tenant and per destination, and whether a forwarder holds it.
// Reads the database read-only and never takes the lock, so it is safe beside a running daemon.
// A table by default (on a terminal or not: scripts ask for `--json`, whose shape is the contract).
import path from "node:path";
import { EXIT, redactCredentials } from "../errors.js";
import { silentLogger } from "../log.js";
import {
  buildStateConfig,
  createStore,
  type DestinationStatus,
  inspectStateLock,
  type LockHolder,
  type LockStatus,
  type TenantStatus,
} from "../state/index.js";
import { parseTimestamp, ticksToMs } from "../timestamp.js";
import type { CliValues } from "./args.js";
import { loadConfigOrReport, reportFatal } from "./common.js";

/** `--json`: timestamps in milliseconds since the epoch. */
export interface StatusReport {
  state: string;
  daemon: DaemonStatus;
  tenants: TenantStatus[];
  destinations: DestinationStatus[];
}

/**
 * `running`: true when the recorded lock holder is alive, false when no one holds the lock (a holder
 * that died without releasing it is given with a reason), null when it cannot be told from here.
 */
export interface DaemonStatus {
  running: boolean | null;
  holder?: LockHolder;
  reason?: string;
}

export async function statusCommand(values: CliValues): Promise<number> {
  const loaded = loadConfigOrReport(values);
  if (!loaded.ok) return loaded.exitCode;
  const { config } = loaded.loaded;
  let status: ReturnType<ReturnType<typeof createStore>["status"]>;
  try {
    const store = createStore({ ...buildStateConfig(config), readonly: true }, { log: silentLogger() });
    try {
      status = store.status();
    } finally {
      store.close();
    }
  } catch (err) {
    return reportFatal(err);
  }
  // Configured tenants and destinations are listed even before their first poll or send; destinations
  // no longer configured but still holding events are listed after them (the next `run` drops them).
  // `quarantined` is always there (0 included), so that a script can alert on it without a default.
  const tenants = config.tenants.map((t) => {
    const s = status.tenants.find((s) => s.tenant === t.name) ?? { tenant: t.name };
    return { ...s, quarantined: s.quarantined ?? 0 };
  });
  // A state written by an older version may hold an error text with a reflected credential in it.
  for (const t of tenants) if (t.lastError !== undefined) t.lastError = redactCredentials(t.lastError);
  for (const d of status.destinations)
    if (d.lastError !== undefined) d.lastError = redactCredentials(d.lastError);
  const configured = new Set(config.destinations.map((d) => d.name));
  const destinations = [
    ...config.destinations.map(
      (d) => status.destinations.find((s) => s.destination === d.name) ?? { destination: d.name, outbox: 0 },
    ),
    ...status.destinations.filter((d) => !configured.has(d.destination) && d.outbox > 0),
  ];
  const report: StatusReport = {
    state: path.resolve(config.state.path),
    daemon: daemonStatus(inspectStateLock(config.state.path)),
    tenants,
    destinations,
  };
  if (values.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return EXIT.OK;
  }
  process.stdout.write(renderStatus(report, Date.now(), configured));
  return EXIT.OK;
}

export function daemonStatus(lock: LockStatus): DaemonStatus {
  switch (lock.state) {
    case "free":
      return { running: false };
    case "held":
      return { running: true, holder: lock.holder };
    case "stale":
      return {
        running: false,
        holder: lock.holder,
        reason: `pid ${lock.holder.pid} ended without releasing the lock (killed?)`,
      };
    case "unknown":
      return { running: null, ...(lock.holder ? { holder: lock.holder } : {}), reason: lock.reason };
  }
}

export function renderStatus(report: StatusReport, now: number, configured: ReadonlySet<string>): string {
  const when = (ms: number | undefined) => (ms === undefined ? "-" : ago(ms, now));
  const error = (code: string | undefined, at: number | undefined, message: string | undefined) =>
    code ? `${code} ${when(at)}: ${message ?? ""}` : "-";
  const lines = [
    `State ${report.state}: ${describeDaemon(report.daemon, now)}`,
    "",
    table(
      ["TENANT", "CHECKPOINT", "LAST POLL", "LAST SUCCESS", "QUARANTINED", "LAST ERROR"],
      report.tenants.map((t) => [
        t.tenant,
        checkpoint(t.checkpoint, now),
        when(t.lastPollAt),
        when(t.lastSuccessAt),
        t.quarantined ? `${t.quarantined} (last ${when(t.lastQuarantinedAt)})` : "0",
        error(t.lastErrorCode, t.lastErrorAt, t.lastError),
      ]),
    ),
    "",
    table(
      ["DESTINATION", "OUTBOX", "LAST SUCCESS", "LAST ERROR"],
      report.destinations.map((d) => [
        configured.has(d.destination) ? d.destination : `${d.destination} (removed)`,
        String(d.outbox),
        when(d.lastSuccessAt),
        error(d.lastErrorCode, d.lastErrorAt, d.lastError),
      ]),
    ),
  ];
  return `${lines.join("\n")}\n`;
}

function describeDaemon(daemon: DaemonStatus, now: number): string {
  const h = daemon.holder;
  if (daemon.running === true && h)
    return `daemon running (pid ${h.pid} on ${h.host}, since ${ago(h.since, now)})`;
  if (daemon.running === false) return daemon.reason ? `not running (${daemon.reason})` : "not running";
  return `unknown (${daemon.reason ?? "no lock information"})`;
}

function checkpoint(value: string | undefined, now: number): string {
  if (value === undefined) return "-";
  const ticks = parseTimestamp(value);
  return ticks === undefined ? value : `${value} (${ago(ticksToMs(ticks), now)})`;
}

/** `12s ago`, `4m12s ago`, `3h05m ago`, `2d03h ago`; `in 5s` for a clock ahead of ours. */
export function ago(ms: number, now: number): string {
  const seconds = Math.round(Math.abs(now - ms) / 1000);
  const pad = (n: number) => String(n).padStart(2, "0");
  let text: string;
  if (seconds < 60) text = `${seconds}s`;
  else if (seconds < 3_600) text = `${Math.floor(seconds / 60)}m${pad(seconds % 60)}s`;
  else if (seconds < 86_400)
    text = `${Math.floor(seconds / 3_600)}h${pad(Math.floor((seconds % 3_600) / 60))}m`;
  else text = `${Math.floor(seconds / 86_400)}d${pad(Math.floor((seconds % 86_400) / 3_600))}h`;
  return now >= ms ? `${text} ago` : `in ${text}`;
}

function table(head: string[], rawRows: string[][]): string {
  // Error texts come from remote peers: no control character reaches the terminal.
  const rows = rawRows.map((r) => r.map(printable));
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(head), ...rows.map(line)].join("\n");
}

function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: replacing them is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, " ");
}
