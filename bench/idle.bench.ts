// Idle cost: the daemon (`run`, a real process from dist/) polling with nothing new arriving: on the default
// schedule (every minute) and every 10 s.
// It first delivers a small backlog (so the state, the connection and the code paths are warm), then its CPU
// time (utime + stime from /proc/<pid>/stat) and RSS are measured over one minute.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { buildDist, startForwarder, writeBenchConfig } from "./support/forwarder-process.js";
import {
  CLOCK_TICKS_PER_SECOND,
  cpuTicksOf,
  epochNow,
  loadAverage,
  memoryOf,
  startJsonChild,
  startReceiverProcess,
} from "./support/processes.js";
import { count, megabytes, num, publish, seconds, table, targetsTable } from "./support/report.js";

const WINDOW_MS = Number(process.env.BENCH_IDLE_SECONDS ?? 60) * 1000;
const BACKLOG = 1_000;
/**
 * After the backlog arrived: its last confirmations and acknowledgements, and V8 returning the backlog's
 * heap (a few full collections some 10-20 s later: about 0.2 s of CPU that belong to the backlog, not to idling).
 */
const SETTLE_MS = 30_000;
const SAMPLE_MS = 1_000;
const TARGET_PERCENT = 1;

const load = loadAverage();
// Built here too (also when the e2e benchmark just did), so that it measures the current code.
const buildMs = buildDist();
const sim = startJsonChild("bench/support/sim-process.ts", { mode: "backfill", count: BACKLOG });

/** The config's default schedule (the target is judged on it) and a poll every 10 s for comparison. */
const VARIANTS = [
  { label: "every minute (default)", schedule: "*/1 * * * *" },
  { label: "every 10 s", schedule: "*/10 * * * * *" },
] as const;

interface IdleResult {
  label: string;
  elapsed: number;
  cpuMs: number;
  percent: number;
  rss: number[];
  peak: number;
  polls: number;
  sent: number;
}

try {
  const ready = await sim.next<{ url: string }>((l) => "url" in l, "the simulator");
  const results: IdleResult[] = [];
  for (const variant of VARIANTS) results.push(await measure(ready.url, variant.label, variant.schedule));
  const judged = results[0] as IdleResult;
  publish(
    "idle",
    [
      "## idle cost",
      "",
      "The daemon (`node dist/cli/main.js run`, other settings as in the e2e benchmark: one tenant on the " +
        "simulator, one TCP CEF destination, metrics off, log level info, a fresh state per row) first delivers a " +
        `backlog of ${num(BACKLOG)} detections, waits ${seconds(SETTLE_MS)}, then runs about ` +
        `${seconds(WINDOW_MS)} with nothing new arriving. CPU: utime + stime from /proc/<pid>/stat over the ` +
        "window (resolution 10 ms), as a share of one CPU. Every poll still reads the 5 min overlap " +
        "(detections already seen, dropped as duplicates without being encoded). The target is judged on " +
        `the default schedule. Load average at start: ${load}; \`npm run build\`: ${seconds(buildMs)}.`,
      "",
      table(
        [
          "schedule",
          "window",
          "CPU time",
          "CPU",
          "RSS min",
          "RSS max",
          "RSS end",
          "peak RSS (whole run)",
          "API requests",
        ],
        results.map((r) => [
          r.label,
          seconds(r.elapsed),
          seconds(r.cpuMs),
          `${r.percent.toFixed(2)}%`,
          megabytes(Math.min(...r.rss)),
          megabytes(Math.max(...r.rss)),
          megabytes(r.rss[r.rss.length - 1] ?? 0),
          megabytes(r.peak),
          count(r.polls),
        ]),
      ),
      "",
      targetsTable([
        {
          target: `idle CPU under ${TARGET_PERCENT}%`,
          measured: results
            .map((r) => `${r.label}: ${r.percent.toFixed(2)}% (${count(r.sent)} messages sent meanwhile)`)
            .join("; "),
          met: judged.percent < TARGET_PERCENT,
        },
      ]),
    ].join("\n"),
  );
} finally {
  await sim.close();
}

async function measure(simUrl: string, label: string, schedule: string): Promise<IdleResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mde-bench-idle-"));
  const rx = await startReceiverProcess({ expect: BACKLOG, mode: "count" });
  try {
    const config = writeBenchConfig({ simUrl, receiverPort: rx.port, stateDir: dir, schedule });
    const fwd = startForwarder(["run", "-c", config]);
    try {
      await Promise.race([
        rx.arrived,
        fwd.exited.then((e) => {
          throw new Error(`run exited ${e.code}:\n${e.output.slice(-3000)}`);
        }),
      ]);
      await sleep(SETTLE_MS);
      const requestsBefore = await requests();
      const cpu0 = cpuTicksOf(fwd.pid);
      const t0 = epochNow();
      const rss: number[] = [];
      while (epochNow() - t0 < WINDOW_MS) {
        await sleep(SAMPLE_MS);
        rss.push(memoryOf(fwd.pid)?.rss ?? 0);
      }
      const cpu1 = cpuTicksOf(fwd.pid);
      const elapsed = epochNow() - t0;
      const peak = memoryOf(fwd.pid)?.hwm ?? 0;
      const polls = (await requests()) - requestsBefore;
      const after = await rx.stats();
      const cpuMs = ((cpu1 - cpu0) * 1000) / CLOCK_TICKS_PER_SECOND;
      fwd.signal("SIGTERM");
      await fwd.exited;
      return {
        label,
        elapsed,
        cpuMs,
        percent: (100 * cpuMs) / elapsed,
        rss,
        peak,
        polls,
        sent: after.messages - BACKLOG,
      };
    } finally {
      fwd.signal("SIGKILL");
    }
  } finally {
    await rx.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function requests(): Promise<number> {
  const answer = sim.next<{ requests: number }>((l) => "served" in l, "stats");
  sim.send("stats");
  return (await answer).requests;
}
