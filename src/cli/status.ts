// `status`: what the state file says, per tenant and per destination. Reads the database read-only, so
// it is safe beside a running daemon.
import { EXIT } from "../errors.js";
import { silentLogger } from "../log.js";
import { createStore } from "../state/index.js";
import type { CliValues } from "./args.js";
import { loadConfigOrReport, reportFatal } from "./common.js";

export async function statusCommand(values: CliValues): Promise<number> {
  const loaded = loadConfigOrReport(values);
  if (!loaded.ok) return loaded.exitCode;
  const { config } = loaded.loaded;
  let status: ReturnType<ReturnType<typeof createStore>["status"]>;
  try {
    const store = createStore(
      { ...config.state, destinations: config.destinations.map((d) => d.name), readonly: true },
      { log: silentLogger() },
    );
    try {
      status = store.status();
    } finally {
      store.close();
    }
  } catch (err) {
    return reportFatal(err);
  }
  // Configured tenants and destinations are listed even before their first poll or send.
  const tenants = config.tenants.map(
    (t) => status.tenants.find((s) => s.tenant === t.name) ?? { tenant: t.name },
  );
  const destinations = config.destinations.map(
    (d) => status.destinations.find((s) => s.destination === d.name) ?? { destination: d.name, outbox: 0 },
  );
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ tenants, destinations }, null, 2)}\n`);
    return EXIT.OK;
  }
  const time = (ms: number | undefined) => (ms === undefined ? "-" : new Date(ms).toISOString());
  const lines = [
    table(
      ["TENANT", "CHECKPOINT", "LAST POLL", "LAST SUCCESS", "LAST ERROR"],
      tenants.map((t) => [
        t.tenant,
        t.checkpoint ?? "-",
        time(t.lastPollAt),
        time(t.lastSuccessAt),
        t.lastErrorCode ? `${t.lastErrorCode}: ${t.lastError ?? ""}` : "-",
      ]),
    ),
    "",
    table(
      ["DESTINATION", "OUTBOX", "LAST SUCCESS", "LAST ERROR"],
      destinations.map((d) => [
        d.destination,
        String(d.outbox),
        time(d.lastSuccessAt),
        d.lastErrorCode ? `${d.lastErrorCode} at ${time(d.lastErrorAt)}: ${d.lastError ?? ""}` : "-",
      ]),
    ),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  return EXIT.OK;
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(head), ...rows.map(line)].join("\n");
}
