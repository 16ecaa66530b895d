// RELP against TCP on loopback: the sink alone (createSink relp and tcp, sends of 500 messages pipelined the
// way the drain does, at most its window of 40,000 unconfirmed), to a receiver in its own process
// (bench/support/receiver-process.ts: LF-framed TCP, or RELP answering every syslog command at once), then
// through a real rsyslog (imrelp and imtcp into omfile, the default in-memory main queue) where installed.
// Messages per second until every message is confirmed (RELP: acknowledged; TCP: written and 1 s on a healthy
// connection, which is what frees an outbox row), and until the receiver's last byte (rsyslog: last line
// written).
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { closeSync, existsSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createEvents } from "../src/events/index.js";
import { silentLogger } from "../src/log.js";
import { createMetrics } from "../src/metrics/definitions.js";
import { DEFAULT_MAX_IN_FLIGHT } from "../src/pipeline/drain.js";
import { createSink, DEFAULT_CONFIRM_AFTER_MS, type Sink } from "../src/sink/index.js";
import { epochNow, loadAverage, startReceiverProcess } from "./support/processes.js";
import { num, publish, ratio, seconds, table } from "./support/report.js";
import { sampleMessages } from "./support/sample.js";

const TOTAL = Number(process.env.BENCH_RELP_MESSAGES ?? 100_000);
const ROUNDS = Number(process.env.BENCH_RELP_ROUNDS ?? 2);
const RSYSLOG_TOTAL = Number(process.env.BENCH_RELP_RSYSLOG_MESSAGES ?? 50_000);
const WARM_UP = 20_000;
const BATCH = 500;
/** The drain loop's default maxInFlight: what a backfill keeps unconfirmed. */
const DRAIN_WINDOW = DEFAULT_MAX_IN_FLIGHT;
const DISTINCT = 2_000;

type Protocol = "tcp" | "relp";

interface Variant {
  name: string;
  protocol: Protocol;
  windowSize?: number;
  /** Messages unconfirmed at most (default: the drain's window). */
  inFlight?: number;
}

interface RunResult {
  /** First send to the last confirmation. */
  confirmedMs: number;
  /** First send to the receiver's last byte (rsyslog: its last line written). */
  arrivedMs: number;
  bytes: number;
}

const distinct = sampleMessages(DISTINCT);
const messages = Array.from(
  { length: Math.max(TOTAL, RSYSLOG_TOTAL) },
  (_, i) => distinct[i % DISTINCT] as string,
);
const messageBytes = distinct.reduce((sum, m) => sum + Buffer.byteLength(m), 0) / DISTINCT;

function sinkFor(variant: Variant, port: number): Sink {
  return createSink(
    {
      name: "bench",
      protocol: variant.protocol,
      host: "127.0.0.1",
      port,
      framing: "lf",
      tls: { reject_unauthorized: true },
      ...(variant.protocol === "relp" ? { tls_enabled: false, window_size: variant.windowSize } : {}),
      connect_timeout: 10_000,
      write_timeout: 30_000,
    },
    { log: silentLogger(), events: createEvents({ metrics: createMetrics({ defaultMetrics: false }) }) },
  );
}

/** Sends `count` messages in batches, at most the drain's window unconfirmed; resolves when all are confirmed. */
async function pipelined(sink: Sink, count: number, window = DRAIN_WINDOW): Promise<void> {
  const flights: Array<{ n: number; done: Promise<unknown> }> = [];
  let inFlight = 0;
  for (let from = 0; from < count; from += BATCH) {
    const to = Math.min(count, from + BATCH);
    while (flights.length > 0 && inFlight + (to - from) > window) {
      const head = flights.shift() as { n: number; done: Promise<unknown> };
      await head.done;
      inFlight -= head.n;
    }
    flights.push({ n: to - from, done: sink.send(messages.slice(from, to)) });
    inFlight += to - from;
  }
  await Promise.all(flights.map((f) => f.done));
}

async function ownReceiver(variant: Variant, count: number): Promise<RunResult> {
  const receiver = await startReceiverProcess({ expect: count, mode: "count", protocol: variant.protocol });
  const sink = sinkFor(variant, receiver.port);
  try {
    const start = epochNow();
    await pipelined(sink, count, variant.inFlight);
    const confirmed = epochNow();
    const arrival = await receiver.arrived;
    if (arrival.messages !== count)
      throw new Error(`${variant.name}: ${arrival.messages} of ${count} arrived`);
    return { confirmedMs: confirmed - start, arrivedMs: arrival.lastAt - start, bytes: arrival.bytes };
  } finally {
    await sink.close();
    await receiver.close();
  }
}

function findRsyslogd(): string | undefined {
  for (const path of ["/usr/sbin/rsyslogd", "/sbin/rsyslogd", "/usr/local/sbin/rsyslogd"]) {
    if (existsSync(path)) return path;
  }
  try {
    return execFileSync("sh", ["-c", "command -v rsyslogd"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Lines in a file, counted from `offset` on; returns the new offset and count. */
function countLines(file: string, state: { offset: number; lines: number }): void {
  if (!existsSync(file)) return;
  const fd = openSync(file, "r");
  try {
    const buffer = Buffer.alloc(1 << 20);
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, state.offset);
      if (n === 0) break;
      state.offset += n;
      for (let i = buffer.indexOf(0x0a); i !== -1 && i < n; i = buffer.indexOf(0x0a, i + 1)) state.lines++;
    }
  } finally {
    closeSync(fd);
  }
}

/** One run through a fresh rsyslog: imrelp or imtcp into omfile; time to its last line written. */
async function throughRsyslog(rsyslogd: string, variant: Variant, count: number): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), "mde-bench-rsyslog-"));
  const port = await freePort();
  const out = join(dir, "out.log");
  const input = variant.protocol === "relp" ? "imrelp" : "imtcp";
  writeFileSync(
    join(dir, "rsyslog.conf"),
    [
      `global(workDirectory="${dir}" maxMessageSize="64k")`,
      `module(load="${input}")`,
      'template(name="line" type="string" string="%msg%\\n")',
      `ruleset(name="bench") { action(type="omfile" file="${out}" template="line") }`,
      `input(type="${input}" port="${port}" ruleset="bench")`,
      "",
    ].join("\n"),
  );
  const child: ChildProcess = spawn(
    rsyslogd,
    ["-n", "-f", join(dir, "rsyslog.conf"), "-i", join(dir, "pid")],
    {
      stdio: "ignore",
    },
  );
  const sink = sinkFor(variant, port);
  try {
    while (!(await accepts(port))) {
      if (child.exitCode !== null) throw new Error("rsyslogd exited at start");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const lines = { offset: 0, lines: 0 };
    let lastAt = 0;
    const start = epochNow();
    const sending = pipelined(sink, count).then(() => epochNow());
    while (lines.lines < count) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      const before = lines.lines;
      countLines(out, lines);
      if (lines.lines > before) lastAt = epochNow();
    }
    const confirmed = await sending;
    return { confirmedMs: confirmed - start, arrivedMs: lastAt - start, bytes: 0 };
  } finally {
    await sink.close();
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

async function measure(
  variants: readonly Variant[],
  count: number,
  run: (variant: Variant, count: number) => Promise<RunResult>,
): Promise<Map<string, RunResult[]>> {
  const results = new Map<string, RunResult[]>(variants.map((v) => [v.name, []]));
  // Warm-up (JIT, loopback), not counted.
  for (const v of variants) await run(v, Math.min(WARM_UP, count));
  for (let round = 0; round < ROUNDS; round++) {
    for (const v of variants) results.get(v.name)?.push(await run(v, count));
  }
  return results;
}

function rowsOf(variants: readonly Variant[], results: Map<string, RunResult[]>, count: number) {
  return variants.map((v) => {
    const runs = results.get(v.name) ?? [];
    const confirmedMs = median(runs.map((r) => r.confirmedMs));
    const arrivedMs = median(runs.map((r) => r.arrivedMs));
    return {
      name: v.name,
      confirmedRate: count / (confirmedMs / 1000),
      arrivedRate: count / (arrivedMs / 1000),
      confirmedMs,
      arrivedMs,
      bytesPerMessage: (runs[0]?.bytes ?? 0) / count,
    };
  });
}

const load = loadAverage();
const started = performance.now();
const own: Variant[] = [
  { name: "tcp (lf), drain's window", protocol: "tcp" },
  { name: "tcp (lf), every send in flight", protocol: "tcp", inFlight: Number.POSITIVE_INFINITY },
  { name: "relp, window 128 (default)", protocol: "relp", windowSize: 128 },
  { name: "relp, window 1,024", protocol: "relp", windowSize: 1024 },
];
const ownRows = rowsOf(own, await measure(own, TOTAL, ownReceiver), TOTAL);
const pick = <T>(rows: readonly T[], i: number): T =>
  rows[i] ??
  (() => {
    throw new Error(`no row ${i}`);
  })();
const [tcpRow, tcpWideRow, relpRow, relpWideRow] = [0, 1, 2, 3].map((i) => pick(ownRows, i)) as [
  (typeof ownRows)[0],
  (typeof ownRows)[0],
  (typeof ownRows)[0],
  (typeof ownRows)[0],
];

const rsyslogd = findRsyslogd();
const viaRsyslog: Variant[] = [
  { name: "tcp (lf) -> imtcp", protocol: "tcp" },
  { name: "relp, window 128 -> imrelp", protocol: "relp", windowSize: 128 },
  { name: "relp, window 1,024 -> imrelp", protocol: "relp", windowSize: 1024 },
];
let rsyslogSection: string[];
let rsyslogRows: ReturnType<typeof rowsOf> | undefined;
if (rsyslogd === undefined) {
  rsyslogSection = ["rsyslog is not installed here: the comparison through rsyslog was skipped."];
} else {
  const results = await measure(viaRsyslog, RSYSLOG_TOTAL, (v, n) => throughRsyslog(rsyslogd, v, n));
  rsyslogRows = rowsOf(viaRsyslog, results, RSYSLOG_TOTAL);
  const version = /rsyslogd\s+(\S+)/.exec(execFileSync(rsyslogd, ["-v"], { encoding: "utf8" }))?.[1] ?? "?";
  rsyslogSection = [
    `Through rsyslog ${version}: ${num(RSYSLOG_TOTAL)} messages per run, a fresh rsyslogd per run (imtcp or imrelp, ` +
      "default in-memory main queue, omfile with `%msg%\\n`), the sends shaped by the drain's window as above; " +
      "time from the first send to the last line in the file (polled every 10 ms), and to the last confirmation.",
    "",
    table(
      ["variant", "messages/s (written)", "to last line", "to all confirmed"],
      rsyslogRows.map((r) => [r.name, num(r.arrivedRate), seconds(r.arrivedMs), seconds(r.confirmedMs)]),
    ),
  ];
}

const relpVsTcp = relpRow.confirmedRate / tcpRow.confirmedRate;
publish(
  "relp",
  [
    "## RELP against TCP (sink alone)",
    "",
    `${num(TOTAL)} messages per run (${num(DISTINCT)} distinct CEF + RFC 5424 messages of the generated detections, ` +
      `~${num(messageBytes)} bytes each), sends of ${BATCH} pipelined with at most the drain's window ` +
      `(${num(DRAIN_WINDOW)}) unconfirmed, to a fresh receiver process per run on loopback: LF-framed TCP (counts ` +
      "messages), or RELP (answers `open`, then every `syslog` command with `rsp 200` as soon as it is read, one " +
      "write of answers per chunk). Confirmed: RELP when the receiver answered; TCP when the write stayed " +
      `${DEFAULT_CONFIRM_AFTER_MS} ms on a healthy connection, which is when the drain frees an outbox row. ` +
      `Median of ${ROUNDS} rounds after a warm-up round; load average at start: ${load}.`,
    "",
    table(
      [
        "variant",
        "messages/s (confirmed)",
        "to all confirmed",
        "messages/s (arrived)",
        "to last byte",
        "bytes/message",
      ],
      ownRows.map((r) => [
        r.name,
        num(r.confirmedRate),
        seconds(r.confirmedMs),
        num(r.arrivedRate),
        seconds(r.arrivedMs),
        num(r.bytesPerMessage),
      ]),
    ),
    "",
    "RELP adds about 18 bytes per message (`TXNR syslog LEN ` and the trailer, minus TCP's LF) and waits for " +
      "the answers, at most the window ahead. With the drain's window TCP cannot be confirmed faster than " +
      `${num(DRAIN_WINDOW)} messages per confirmation delay (${num(DRAIN_WINDOW / (DEFAULT_CONFIRM_AFTER_MS / 1000))}/s); ` +
      'with every send in flight its wire speed shows ("arrived"), and the delay only adds to the time to the ' +
      "last confirmation. RELP's confirmations are the receiver's answers, so its confirmed rate is its wire rate.",
    "",
    ...rsyslogSection,
    "",
    `In short: RELP ${num(relpRow.confirmedRate)} messages/s confirmed with the default window ` +
      `(${num(relpWideRow.confirmedRate)}/s with 1,024) against TCP's ${num(tcpRow.confirmedRate)}/s with the ` +
      `drain's window: ${ratio(relpVsTcp)}; TCP on the wire, every send in flight: ${num(tcpWideRow.arrivedRate)}/s arrived` +
      (rsyslogRows
        ? `; through rsyslog, written: RELP ${num(rsyslogRows[1]?.arrivedRate ?? 0)}/s, TCP ${num(rsyslogRows[0]?.arrivedRate ?? 0)}/s.`
        : "."),
    "",
    `Benchmark time: ${seconds(performance.now() - started)}.`,
  ].join("\n"),
);
