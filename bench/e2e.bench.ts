// End to end: the simulator (own process) -> the forwarder (a real process from dist/, `once`) -> a TCP
// receiver (own process), for a backfill of 100k and of 1M detections, next to the floor (bench/support/
// floor.ts: the same pages, parse, the same encoder, the same kind of socket, no state) measured in the same
// run on the same simulator. Then a "live" run: `run` polling every few seconds while detections become
// visible at a steady rate. BENCH_E2E_SIZES=100000 for a quick look; BENCH_CPU_PROF=DIR profiles the forwarder
// of the first backfill (--cpu-prof, adds overhead to that run) and prints its top self-time functions;
// BENCH_E2E_LIVE=0 skips the live run (a backfill-only look; a full run keeps it).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { summariseCpuProfile } from "./support/cpu-profile.js";
import { buildDist, startForwarder, writeBenchConfig } from "./support/forwarder-process.js";
import {
  epochNow,
  type JsonChild,
  loadAverage,
  startJsonChild,
  startReceiverProcess,
} from "./support/processes.js";
import type { Arrival } from "./support/receiver-process.js";
import { count, megabytes, num, publish, ratio, seconds, table, targetsTable } from "./support/report.js";

const SIZES = (process.env.BENCH_E2E_SIZES ?? "100000,1000000").split(",").map(Number);
const LIVE_RATE = Number(process.env.BENCH_LIVE_RATE ?? 1_000);
const LIVE_SECONDS = Number(process.env.BENCH_LIVE_SECONDS ?? 30);
const LIVE_SCHEDULE_SECONDS = 5;
const PROFILE_DIR = process.env.BENCH_CPU_PROF;
const RUN_LIVE = process.env.BENCH_E2E_LIVE !== "0";
const RSS_TARGET = 300 * 1_048_576;
const FLOOR_TARGET = 0.65;
/** The simulator holds every detection as an object: 1M take about 1.7 GB of heap. */
const SIM_NODE_ARGS = ["--max-old-space-size=8192"];

interface SimReady {
  url: string;
  generated: number;
  from: number;
  to: number;
  generateMs: number;
  rss: number;
}

interface SimStats {
  requests: number;
  served: number;
  full: number;
}

interface FloorResult {
  start: number;
  lastWrite: number;
  requests: number;
  detections: number;
  responseBytes: number;
}

interface BackfillResult {
  size: number;
  generateMs: number;
  simRss: number;
  floorMs: number;
  floorRequests: number;
  floorBytes: number;
  floorReceivedBytes: number;
  ms: number;
  exitMs: number;
  p50: number;
  p99: number;
  peakRss: number;
  requests: number;
  fetched: number;
  fullResponses: number;
  receivedBytes: number;
  messages: number;
}

async function simStats(sim: JsonChild): Promise<SimStats> {
  const answer = sim.next<SimStats>((l) => "served" in l, "stats");
  sim.send("stats");
  return answer;
}

function minus(a: SimStats, b: SimStats): SimStats {
  return { requests: a.requests - b.requests, served: a.served - b.served, full: a.full - b.full };
}

async function backfill(size: number, profile: string | undefined): Promise<BackfillResult> {
  const sim = startJsonChild(
    "bench/support/sim-process.ts",
    { mode: "backfill", count: size },
    { nodeArgs: SIM_NODE_ARGS },
  );
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mde-bench-e2e-"));
  try {
    const ready = await sim.next<SimReady>((l) => "url" in l, "the backlog");
    console.log(
      `  ${num(size)}: simulator ready in ${seconds(ready.generateMs)} (${megabytes(ready.rss)} RSS)`,
    );

    // The floor first, on its own receiver.
    const floorRx = await startReceiverProcess({ expect: size, mode: "count" });
    let floor: FloorResult;
    let floorArrival: Arrival;
    const before = await simStats(sim);
    try {
      const proc = startJsonChild("bench/support/floor.ts", {
        url: ready.url,
        port: floorRx.port,
        from: ready.from,
        to: ready.to,
        count: size,
      });
      floor = await proc.next<FloorResult>((l) => "lastWrite" in l, "the floor's last write");
      await proc.close();
      floorArrival = await floorRx.arrived;
    } finally {
      await floorRx.close();
    }
    const floorMs = floorArrival.lastAt - floor.start;
    console.log(`  ${num(size)}: floor ${seconds(floorMs)} (${num(size / (floorMs / 1000))}/s)`);
    const afterFloor = await simStats(sim);
    const floorStats = minus(afterFloor, before);

    // The forwarder: `once` on a fresh state.
    const rx = await startReceiverProcess({ expect: size, mode: "arrival" });
    try {
      const config = writeBenchConfig({ simUrl: ready.url, receiverPort: rx.port, stateDir: dir });
      const start = epochNow();
      const nodeArgs = profile === undefined ? [] : ["--cpu-prof", "--cpu-prof-dir", profile];
      const fwd = startForwarder(["once", "-c", config], { nodeArgs });
      const exit = await fwd.exited;
      const exitMs = epochNow() - start;
      if (exit.code !== 0) throw new Error(`once exited ${exit.code}:\n${exit.output.slice(-3000)}`);
      const arrival = await Promise.race([
        rx.arrived,
        rx.stats().then((a) => {
          if (!a.done) throw new Error(`once exited 0 but only ${a.messages} of ${size} arrived`);
          return rx.arrived;
        }),
      ]);
      const stats = minus(await simStats(sim), afterFloor);
      const ms = arrival.lastAt - start;
      console.log(
        `  ${num(size)}: forwarder ${seconds(ms)} (${num(size / (ms / 1000))}/s), peak RSS ${megabytes(exit.peakRss)}`,
      );
      return {
        size,
        generateMs: ready.generateMs,
        simRss: ready.rss,
        floorMs,
        floorRequests: floorStats.requests,
        floorBytes: floor.responseBytes,
        floorReceivedBytes: floorArrival.bytes,
        ms,
        exitMs,
        p50: (arrival.quantiles?.p50 ?? Number.NaN) - start,
        p99: (arrival.quantiles?.p99 ?? Number.NaN) - start,
        peakRss: exit.peakRss,
        requests: stats.requests,
        fetched: stats.served,
        fullResponses: stats.full,
        receivedBytes: arrival.bytes,
        messages: arrival.messages,
      };
    } finally {
      await rx.close();
    }
  } finally {
    await sim.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

interface LiveResult {
  count: number;
  p50: number;
  p99: number;
  max: number;
  peakRss: number;
  requests: number;
  fetched: number;
  unreadable: number;
}

async function live(): Promise<LiveResult> {
  const count = LIVE_RATE * LIVE_SECONDS;
  const sim = startJsonChild("bench/support/sim-process.ts", { mode: "live", count, rate: LIVE_RATE });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mde-bench-live-"));
  try {
    const ready = await sim.next<SimReady>((l) => "url" in l, "the simulator");
    const rx = await startReceiverProcess({ expect: count, mode: "latency" });
    try {
      const config = writeBenchConfig({
        simUrl: ready.url,
        receiverPort: rx.port,
        stateDir: dir,
        schedule: `*/${LIVE_SCHEDULE_SECONDS} * * * * *`,
      });
      const fwd = startForwarder(["run", "-c", config]);
      try {
        const arrival = await Promise.race([
          rx.arrived,
          fwd.exited.then((e) => {
            throw new Error(`run exited ${e.code}:\n${e.output.slice(-3000)}`);
          }),
        ]);
        const stats = await simStats(sim);
        fwd.signal("SIGTERM");
        const exit = await fwd.exited;
        return {
          count,
          p50: arrival.quantiles?.p50 ?? Number.NaN,
          p99: arrival.quantiles?.p99 ?? Number.NaN,
          max: arrival.quantiles?.max ?? Number.NaN,
          peakRss: exit.peakRss,
          requests: stats.requests,
          fetched: stats.served,
          unreadable: arrival.unreadable ?? 0,
        };
      } finally {
        fwd.signal("SIGKILL");
      }
    } finally {
      await rx.close();
    }
  } finally {
    await sim.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** BENCH_E2E_LIVE=0: no live run; its row reads NaN and a note says why. */
function skippedLive(): LiveResult {
  const none = Number.NaN;
  return { count: 0, p50: none, p99: none, max: none, peakRss: 0, requests: 0, fetched: 0, unreadable: 0 };
}

const load = loadAverage();
const buildMs = buildDist();
console.log(`  npm run build: ${seconds(buildMs)}`);
const results: BackfillResult[] = [];
let profileSummary: string | undefined;
for (const [i, size] of SIZES.entries()) {
  const profile = i === 0 && PROFILE_DIR !== undefined && PROFILE_DIR !== "" ? PROFILE_DIR : undefined;
  if (profile !== undefined) fs.mkdirSync(profile, { recursive: true });
  results.push(await backfill(size, profile));
  if (profile !== undefined) profileSummary = summariseCpuProfile(profile, 15);
}
const liveResult = RUN_LIVE ? await live() : skippedLive();

const rate = (r: BackfillResult) => r.size / (r.ms / 1000);
const floorRate = (r: BackfillResult) => r.size / (r.floorMs / 1000);
const largest = results[results.length - 1] as BackfillResult;
const sections = [
  "## end to end",
  "",
  "Simulator (own process, `createSimulator` + `generate`, every detection visible from the start, spread " +
    "over the hour before the run) -> forwarder (`node dist/cli/main.js once -c cfg`, built by `npm run " +
    "build` at the start of this benchmark; defaults: lookback 2 h, overlap 5 min, max_per_request 5000, " +
    "one tenant, one TCP CEF destination, log level info, metrics off, a fresh state file) -> receiver (own " +
    "process, counts LF-framed messages, keeps each arrival time). Forwarder time: from spawning the process " +
    "to the receiver's last byte (node start-up and state creation included). Latency of a backfill: all " +
    "detections are visible at the start, so it is arrival minus the start of the run. Peak RSS: the " +
    "forwarder process' maximum resident set (`/usr/bin/time -v`, else VmHWM). The floor " +
    "(bench/support/floor.ts) reads the same backlog from the same simulator with the same token request, " +
    "in equal time slices expected to hold 5,000 detections each, without `limit` and without splitting " +
    "(each detection fetched once), parses, encodes with the forwarder's formatter (cef, rfc5424, defaults) " +
    "and writes LF-framed to one TCP connection to its own receiver; its time runs from its first request to " +
    "its receiver's last byte. The forwarder's window splitting fetches more than the backlog (the " +
    `"fetched" columns). Load average at start: ${load}; \`npm run build\`: ${seconds(buildMs)}.`,
  "",
  table(
    [
      "backfill",
      "forwarder /s",
      "time",
      "p50 latency",
      "p99 latency",
      "peak RSS",
      "floor /s",
      "floor time",
      "time vs floor",
      "fetched: forwarder (requests)",
      "fetched: floor (requests)",
    ],
    results.map((r) => [
      num(r.size),
      num(rate(r)),
      seconds(r.ms),
      seconds(r.p50),
      seconds(r.p99),
      megabytes(r.peakRss),
      num(floorRate(r)),
      seconds(r.floorMs),
      ratio(r.ms / r.floorMs),
      `${count(r.fetched)} (${count(r.requests)}, ${count(r.fullResponses)} full)`,
      `${count(r.size)} (${count(r.floorRequests)})`,
    ]),
  ),
  "",
  table(
    [
      "backfill",
      "simulator: generate",
      "simulator RSS",
      "floor: response bytes",
      "received bytes: forwarder",
      "received bytes: floor",
      "once exited after",
    ],
    results.map((r) => [
      num(r.size),
      seconds(r.generateMs),
      megabytes(r.simRss),
      megabytes(r.floorBytes),
      megabytes(r.receivedBytes),
      megabytes(r.floorReceivedBytes),
      seconds(r.exitMs),
    ]),
  ),
  "",
  `Live: \`run\` polling every ${LIVE_SCHEDULE_SECONDS} s (schedule \`*/${LIVE_SCHEDULE_SECONDS} * * * * *\`, ` +
    `other settings as above) while the simulator makes ${num(LIVE_RATE)} detections/s visible for ` +
    `${LIVE_SECONDS} s (in 100 ms ticks; each one's LastProcessedTimeUtc is the moment it became visible). ` +
    "Latency: arrival minus LastProcessedTimeUtc (the CEF `rt=` value, read by the receiver); it includes " +
    "waiting for the next poll (half the schedule on average). Every poll re-reads the 5 min overlap, here " +
    "all detections so far (dropped as duplicates): the fetched column.",
  "",
  table(
    ["live", "p50 latency", "p99 latency", "max", "peak RSS", "fetched (requests)"],
    [
      [
        `${num(liveResult.count)} at ${num(LIVE_RATE)}/s`,
        seconds(liveResult.p50),
        seconds(liveResult.p99),
        seconds(liveResult.max),
        megabytes(liveResult.peakRss),
        `${count(liveResult.fetched)} (${count(liveResult.requests)})`,
      ],
    ],
  ),
  "",
  targetsTable([
    ...results
      .filter((r) => r.size >= 1_000_000)
      .map((r) => ({
        target: `${num(r.size)} backfill: peak RSS under 300 MB`,
        measured: megabytes(r.peakRss),
        met: r.peakRss < RSS_TARGET,
      })),
    ...results.map((r) => ({
      target: `${num(r.size)} backfill: throughput at least ${Math.round(FLOOR_TARGET * 100)}% of the floor`,
      measured: `${num(rate(r))}/s vs ${num(floorRate(r))}/s: ${Math.round((100 * rate(r)) / floorRate(r))}%`,
      met: rate(r) >= FLOOR_TARGET * floorRate(r),
    })),
  ]),
];
if (largest.size < 1_000_000) sections.push("", "(The 1M backfill was not run: BENCH_E2E_SIZES.)");
if (!RUN_LIVE) sections.push("", "(The live run was skipped: BENCH_E2E_LIVE=0.)");
if (profileSummary !== undefined) {
  sections.push(
    "",
    `CPU profile of the ${num(SIZES[0] ?? 0)} forwarder run (self time):`,
    "",
    profileSummary,
  );
}
publish("e2e", sections.join("\n"));
