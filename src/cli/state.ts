// `state`: operator commands on the state file. Each holds the state lock while it works, so it is refused
// (exit 1, E_STATE_LOCKED) while a forwarder (`run`, `once`) has the file, and nothing moves under it.
import { once } from "node:events";
import { buildLogConfig } from "../config/log.js";
import type { Config } from "../config/schema.js";
import { parseDuration } from "../config/types.js";
import { EXIT } from "../errors.js";
import { createLogger, type Logger } from "../log.js";
import {
  acquireStateLock,
  buildStateConfig,
  createStore,
  type QuarantinedRecord,
  type Store,
  type StoredEvent,
} from "../state/index.js";
import { formatTimestamp, parseTimestamp, ticksFromMs, ticksToMs } from "../timestamp.js";
import type { CliValues } from "./args.js";
import { loadConfigOrReport, reportFatal } from "./common.js";

/** Events read per destination and query while exporting: memory stays bounded whatever the backlog. */
const EXPORT_PAGE = 500;
/** Bytes gathered before one write to stdout. */
const EXPORT_CHUNK = 64 * 1024;
/**
 * Forgetting dedupe keys goes back this much further than the re-read window, for a clock of ours that
 * runs behind Microsoft's: a key recorded a little before the detection's LastProcessedTimeUtc is still
 * forgotten. Forgetting more costs nothing: the API never returns what lies before the window.
 */
export const CLOCK_SKEW_MS = 5 * 60_000;

export async function resetCheckpointCommand(values: CliValues): Promise<number> {
  if (values.tenant === undefined) return usage("reset-checkpoint", "needs --tenant NAME");
  if (values.to === undefined) return usage("reset-checkpoint", "needs --to TIME (or --to none)");
  const now = Date.now();
  const target = parseTarget(values.to, now);
  if (!target.ok) return usage("reset-checkpoint", target.message);
  const loaded = loadConfigOrReport(values);
  if (!loaded.ok) return loaded.exitCode;
  const { config } = loaded.loaded;
  const tenant = values.tenant;
  if (!config.tenants.some((t) => t.name === tenant)) {
    return usage(
      "reset-checkpoint",
      `unknown tenant "${tenant}" (configured: ${config.tenants.map((t) => t.name).join(", ")})`,
    );
  }
  const log = stderrLogger(config);
  // Keys recorded since the start of the window the next poll reads ([checkpoint - overlap, now]).
  const forgetSeenSince = !values["forget-seen"]
    ? undefined
    : target.checkpoint === undefined
      ? 0
      : ticksToMs(parseTimestamp(target.checkpoint) ?? 0n) - config.poll.overlap - CLOCK_SKEW_MS;
  let store: Store;
  try {
    store = createStore(buildStateConfig(config), { log });
  } catch (err) {
    return reportFatal(err);
  }
  try {
    const result = store.resetCheckpoint(tenant, target.checkpoint, { forgetSeenSince });
    const lines = [
      `tenant ${tenant}: checkpoint ${result.previous ?? "(none)"} -> ${target.checkpoint ?? "(none)"}`,
    ];
    const from =
      target.checkpoint === undefined
        ? `poll.lookback (${new Date(now - config.poll.lookback).toISOString()})`
        : new Date(ticksToMs(parseTimestamp(target.checkpoint) ?? 0n) - config.poll.overlap).toISOString();
    lines.push(`The next poll reads from ${from}.`);
    if (forgetSeenSince === undefined) {
      lines.push(
        "Detections read again that were already sent are dropped as duplicates while their dedupe keys " +
          "are kept (state.retention); add --forget-seen to send them again.",
      );
    } else {
      const since = forgetSeenSince <= 0 ? "" : ` recorded since ${new Date(forgetSeenSince).toISOString()}`;
      lines.push(
        `Forgot ${result.forgotten} dedupe key${result.forgotten === 1 ? "" : "s"}${since}: ` +
          "detections read again are sent again.",
      );
    }
    process.stdout.write(`${lines.join("\n")}\n`);
    return EXIT.OK;
  } catch (err) {
    return reportFatal(err);
  } finally {
    store.close();
  }
}

export async function exportOutboxCommand(values: CliValues): Promise<number> {
  const loaded = loadConfigOrReport(values);
  if (!loaded.ok) return loaded.exitCode;
  const { config } = loaded.loaded;
  const log = stderrLogger(config);
  const stateConfig = buildStateConfig(config);
  const configured = stateConfig.destinations;
  let store: Store;
  try {
    // Read-only: exporting changes nothing; the lock below keeps everyone else from changing anything.
    store = createStore({ ...stateConfig, readonly: true }, { log });
  } catch (err) {
    return reportFatal(err);
  }
  try {
    const lock = acquireStateLock(config.state.path);
    try {
      // Destinations removed from the config keep their rows until the next `run`: exported too.
      const inFile = store.status().destinations.map((d) => d.destination);
      const known = [...configured, ...inFile.filter((d) => !configured.includes(d))];
      const wanted = values.destination;
      if (wanted !== undefined && !known.includes(wanted)) {
        return usage("export-outbox", `unknown destination "${wanted}" (known: ${known.join(", ")})`);
      }
      const result = await writeLines(
        mapLines(pendingEvents(store, wanted === undefined ? known : [wanted]), exportLine),
        process.stdout,
      );
      const what = `${result.count} undelivered event${result.count === 1 ? "" : "s"}`;
      if (!result.complete) {
        process.stderr.write(`export-outbox: output closed after ${what}\n`);
        return EXIT.FAILED;
      }
      process.stderr.write(`export-outbox: ${what} written${wanted === undefined ? "" : ` (${wanted})`}\n`);
      return EXIT.OK;
    } finally {
      lock.release();
    }
  } catch (err) {
    return reportFatal(err);
  } finally {
    store.close();
  }
}

export interface PendingEvent {
  readonly destination: string;
  readonly event: StoredEvent;
}

/**
 * Every undelivered event of the given destinations, oldest first (by id, then in the given destination
 * order), read a page per destination at a time: one line per (destination, event).
 */
export function* pendingEvents(
  store: Pick<Store, "next">,
  destinations: readonly string[],
  pageSize = EXPORT_PAGE,
): Generator<PendingEvent> {
  const cursors = destinations.map((destination) => ({
    destination,
    page: [] as StoredEvent[],
    index: 0,
    afterId: 0,
    exhausted: false,
  }));
  const head = (c: (typeof cursors)[number]): StoredEvent | undefined => {
    if (c.index >= c.page.length && !c.exhausted) {
      c.page = store.next(c.destination, c.afterId, pageSize);
      c.index = 0;
      c.exhausted = c.page.length === 0;
    }
    return c.page[c.index];
  };
  for (;;) {
    let best: (typeof cursors)[number] | undefined;
    let bestEvent: StoredEvent | undefined;
    for (const c of cursors) {
      const event = head(c);
      if (event !== undefined && (bestEvent === undefined || event.id < bestEvent.id)) {
        best = c;
        bestEvent = event;
      }
    }
    if (best === undefined || bestEvent === undefined) return;
    best.index++;
    best.afterId = bestEvent.id;
    yield { destination: best.destination, event: bestEvent };
  }
}

/** `{"id","destination","tenant","received_at","detection"}`; the detection is the stored JSON as is. */
export function exportLine({ destination, event }: PendingEvent): string {
  return (
    `{"id":${event.id},"destination":${JSON.stringify(destination)},"tenant":${JSON.stringify(event.tenant)},` +
    `"received_at":${JSON.stringify(new Date(event.receivedAt).toISOString())},"detection":${event.body}}\n`
  );
}

export async function exportQuarantineCommand(values: CliValues): Promise<number> {
  const loaded = loadConfigOrReport(values);
  if (!loaded.ok) return loaded.exitCode;
  const { config } = loaded.loaded;
  const log = stderrLogger(config);
  let store: Store;
  try {
    // Read-only and without the lock: the quarantine only grows at its end, so paging by id beside a
    // running forwarder reads every record once.
    store = createStore(
      { ...config.state, destinations: config.destinations.map((d) => d.name), readonly: true },
      { log },
    );
  } catch (err) {
    return reportFatal(err);
  }
  try {
    const wanted = values.tenant;
    if (wanted !== undefined) {
      // A tenant of the config, or one removed from it whose records are still kept.
      const known = new Set([
        ...config.tenants.map((t) => t.name),
        ...store
          .status()
          .tenants.filter((t) => (t.quarantined ?? 0) > 0)
          .map((t) => t.tenant),
      ]);
      if (!known.has(wanted)) {
        return usage("export-quarantine", `unknown tenant "${wanted}" (known: ${[...known].join(", ")})`);
      }
    }
    const result = await writeLines(
      mapLines(quarantinedRecords(store, wanted), quarantineLine),
      process.stdout,
    );
    const what = `${result.count} quarantined record${result.count === 1 ? "" : "s"}`;
    if (!result.complete) {
      process.stderr.write(`export-quarantine: output closed after ${what}\n`);
      return EXIT.FAILED;
    }
    const tenant = values.tenant === undefined ? "" : ` (${values.tenant})`;
    process.stderr.write(`export-quarantine: ${what} written${tenant}\n`);
    return EXIT.OK;
  } catch (err) {
    return reportFatal(err);
  } finally {
    store.close();
  }
}

/** Every quarantined record (of one tenant when given), oldest first, a page at a time. */
export function* quarantinedRecords(
  store: Pick<Store, "quarantined">,
  tenant?: string,
  pageSize = EXPORT_PAGE,
): Generator<QuarantinedRecord> {
  let afterId = 0;
  for (;;) {
    const page = store.quarantined(afterId, pageSize, tenant);
    if (page.length === 0) return;
    yield* page;
    afterId = page[page.length - 1]?.id ?? afterId;
  }
}

/**
 * `{"id","tenant","reason","kind","destination","quarantined_at","raw_bytes","truncated","raw"}`. `raw` is a
 * string (the text as received, cut at 64 KiB, so not always JSON); `destination` is null unless a
 * destination's formatter refused it.
 */
export function quarantineLine(r: QuarantinedRecord): string {
  const truncated = Buffer.byteLength(r.raw) < r.rawBytes;
  return `${JSON.stringify({
    id: r.id,
    tenant: r.tenant,
    reason: r.reason,
    kind: r.kind,
    destination: r.destination,
    quarantined_at: new Date(r.quarantinedAt).toISOString(),
    raw_bytes: r.rawBytes,
    truncated,
    raw: r.raw,
  })}\n`;
}

function* mapLines<T>(items: Iterable<T>, line: (item: T) => string): Generator<string> {
  for (const item of items) yield line(item);
}

/** Writes with back-pressure; stops (complete: false) when the reader goes away (`| head`, EPIPE). */
async function writeLines(
  lines: Iterable<string>,
  out: NodeJS.WriteStream,
): Promise<{ count: number; complete: boolean }> {
  let closed = false;
  const onError = () => {
    closed = true;
  };
  out.on("error", onError);
  let count = 0;
  let chunk = "";
  const flush = async () => {
    if (closed) return;
    const data = chunk;
    chunk = "";
    if (!out.write(data)) {
      try {
        await once(out, "drain");
      } catch {
        closed = true;
      }
    }
  };
  try {
    for (const line of lines) {
      if (closed) break;
      chunk += line;
      count++;
      if (chunk.length >= EXPORT_CHUNK) await flush();
    }
    await flush();
    return { count, complete: !closed };
  } finally {
    out.off("error", onError);
  }
}

type Target = { ok: true; checkpoint: string | undefined } | { ok: false; message: string };

/** `none`, an ISO timestamp, a date (midnight UTC) or a duration ago; never later than now. */
export function parseTarget(value: string, now: number): Target {
  const text = value.trim();
  if (text.toLowerCase() === "none") return { ok: true, checkpoint: undefined };
  let ticks = parseTimestamp(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
  if (ticks === undefined) {
    const ago = parseDuration(text);
    if (ago !== undefined) ticks = ticksFromMs(now - ago);
  }
  if (ticks === undefined) {
    return {
      ok: false,
      message: `--to "${value}" is not a timestamp (2024-05-01T10:00:00Z), a date, a duration ago (24h) or none`,
    };
  }
  if (ticks > ticksFromMs(now)) {
    return { ok: false, message: `--to ${formatTimestamp(ticks)} is in the future` };
  }
  return { ok: true, checkpoint: formatTimestamp(ticks) };
}

/**
 * stdout is the command's output (the export), so log lines go to stderr; at info level the output says
 * it all, so only warnings (and debug when asked for) are logged.
 */
function stderrLogger(config: Config): Logger {
  const { level, format } = buildLogConfig(config.log);
  return createLogger({ level: level === "info" ? "warn" : level, format, output: "stderr" });
}

function usage(command: string, problem: string): number {
  process.stderr.write(
    `mde-forwarder state ${command}: ${problem}\nSee mde-forwarder state ${command} --help for the usage.\n`,
  );
  return EXIT.USAGE;
}
