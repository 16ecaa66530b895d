// End to end: the simulator (own process) -> the forwarder (a real process from dist/, `once`) -> a TCP
// receiver (own process), for a backfill of 100k and of 1M detections, next to the floor (bench/support/
// floor.ts: the same pages, parse, the same encoder, the same kind of socket, no state) measured in the same
// run on the same simulator. A backfill under 1M runs PAIRS_SMALL pairs (BENCH_E2E_PAIRS), each a fresh
// simulator, the floor, then the forwarder; the target is judged on the median pair's ratio (forwarder rate /
// floor rate), since one pair swings by up to 30 points on this shared machine; the 1M backfill runs one pair. Then a
// "live" run: `run` polling every few seconds while detections become visible at a steady rate.
// BENCH_E2E_SIZES=100000 for a quick look; BENCH_E2E_LIVE_ONLY=1 runs the live part alone (no backfill);
// BENCH_CPU_PROF=DIR profiles the forwarder of the first backfill's first pair (--cpu-prof, adds overhead to
// that run) and prints its top self-time functions.
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
// Types only: sim-process.ts runs the simulator when executed, nothing when its types are imported.
import type { Reads } from "./support/sim-process.js";

const SIZES = (process.env.BENCH_E2E_SIZES ?? "100000,1000000").split(",").map(Number);
/**
 * Floor + forwarder pairs per backfill under PAIRS_FROM_SIZE (BENCH_E2E_PAIRS overrides): on this shared
 * 2-core machine one pair's ratio swung from 58% to 87% with the same code (the floor's own time 4.2-6.3 s
 * at 100k), so the target is judged on the median pair. A 1M backfill takes minutes: one pair.
 */
const PAIRS_SMALL = pairCount(process.env.BENCH_E2E_PAIRS, 3);
const PAIRS_FROM_SIZE = 1_000_000;
const LIVE_RATE = Number(process.env.BENCH_LIVE_RATE ?? 1_000);
const LIVE_SECONDS = Number(process.env.BENCH_LIVE_SECONDS ?? 60);
const LIVE_SCHEDULE_SECONDS = 5;
const LIVE_ONLY = process.env.BENCH_E2E_LIVE_ONLY === "1";
/** BENCH_E2E_LIVE=0: the backfills alone (no live run), for iterating on the backfill. */
const SKIP_LIVE = process.env.BENCH_E2E_LIVE === "0";
/**
 * The live run's poll.overlap: 20 s instead of the default 5 min, so that within a one-minute run every
 * stretch gets its second look and the steady state shows (a 5 min overlap would need a run of 6 min or
 * more). short_overlap and settle at their defaults (src/source/config.ts).
 */
const OVERLAP_MS = 20_000;
const SHORT_OVERLAP_MS = 2_000;
const SETTLE_MS = 500;
/**
 * BENCH_LIVE_WHOLE=1: every poll reads the whole overlap, as on main before issue 16 (max_per_request
 * 100,000 makes the 20 s overlap of 20,000 fit one request, so the second look never starts).
 */
const LIVE_WHOLE = process.env.BENCH_LIVE_WHOLE === "1";
/**
 * Late-visible detections among the live ones (1% in all): a share becomes visible this long after its
 * LastProcessedTimeUtc. "slight": within the short overlap (caught on time when at most `settle` late, else
 * by the second look); "late": later than it,
 * up to just under the overlap (caught by the second look, `overlap` after LastProcessedTimeUtc).
 */
const LATE_GROUPS = [
  { name: "slight", share: 0.005, minMs: 200, maxMs: SHORT_OVERLAP_MS },
  { name: "late", share: 0.005, minMs: 2_000, maxMs: OVERLAP_MS - 1_000 },
];
const LATE_TARGET_MS = 60_000;
const PROFILE_DIR = process.env.BENCH_CPU_PROF;
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
  /** Live: detections made so far. */
  generated: number;
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
  /** From spawning the forwarder to its first request (the token's) reaching the simulator. */
  startupMs: number;
  p50: number;
  p99: number;
  peakRss: number;
  /** utime + stime of the forwarder process (ms; NaN without /usr/bin/time). */
  cpuMs: number;
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

/** When the simulator served its first request at or after `after` (ms since the epoch). */
async function simFirstRequest(sim: JsonChild, after: number): Promise<number> {
  const answer = sim.next<{ firstAt: number | null }>((l) => "firstAt" in l, "first request");
  sim.send(`first ${after}`);
  return (await answer).firstAt ?? Number.NaN;
}

/** How many times each detection made visible in [from, to) was served, so far. */
async function simReads(sim: JsonChild, from: number, to: number): Promise<Reads> {
  const answer = sim.next<{ reads: Reads }>((l) => "reads" in l, "reads");
  sim.send(`reads ${from} ${to}`);
  return (await answer).reads;
}

function minus(a: SimStats, b: SimStats): SimStats {
  return {
    requests: a.requests - b.requests,
    served: a.served - b.served,
    full: a.full - b.full,
    generated: a.generated - b.generated,
  };
}

/** Every pair of one backfill size, and the one judged. */
interface Backfill {
  size: number;
  /** In run order. */
  pairs: BackfillResult[];
  /**
   * The pair whose ratio is the median (with an even count the lower of the two middle ones): judged, and
   * the one the tables show, so a row is one consistent pair.
   */
  judged: BackfillResult;
}

/** The forwarder's throughput over the floor's, within one pair. */
function share(r: BackfillResult): number {
  return r.floorMs / r.ms;
}

function percent(r: BackfillResult): string {
  return `${Math.round(100 * share(r))}%`;
}

function medianPair(pairs: readonly BackfillResult[]): BackfillResult {
  const sorted = [...pairs].sort((a, b) => share(a) - share(b));
  const judged = sorted[(sorted.length - 1) >> 1];
  if (judged === undefined) throw new Error("no pair ran");
  return judged;
}

function pairCount(value: string | undefined, fallback: number): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`BENCH_E2E_PAIRS must be a whole number >= 1: ${value}`);
  return n;
}

/** The floor, then the forwarder, PAIRS_SMALL times under 1M (profile: the first pair's forwarder only). */
async function backfill(size: number, profile: string | undefined): Promise<Backfill> {
  const count = size < PAIRS_FROM_SIZE ? PAIRS_SMALL : 1;
  const pairs: BackfillResult[] = [];
  for (let i = 0; i < count; i++) {
    const label = count > 1 ? `${num(size)} pair ${i + 1}/${count}` : num(size);
    pairs.push(await backfillPair(size, label, i === 0 ? profile : undefined));
  }
  const judged = medianPair(pairs);
  if (count > 1) {
    console.log(
      `  ${num(size)}: pairs ${pairs.map(percent).join(", ")} of the floor; judged on the median ` +
        `(${percent(judged)}, pair ${pairs.indexOf(judged) + 1})`,
    );
  }
  return { size, pairs, judged };
}

/** One pair on a fresh simulator: the floor, then the forwarder (`once` on a fresh state). */
async function backfillPair(
  size: number,
  label: string,
  profile: string | undefined,
): Promise<BackfillResult> {
  const sim = startJsonChild(
    "bench/support/sim-process.ts",
    { mode: "backfill", count: size },
    { nodeArgs: SIM_NODE_ARGS },
  );
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mde-bench-e2e-"));
  try {
    const ready = await sim.next<SimReady>((l) => "url" in l, "the backlog");
    console.log(`  ${label}: simulator ready in ${seconds(ready.generateMs)} (${megabytes(ready.rss)} RSS)`);

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
    console.log(`  ${label}: floor ${seconds(floorMs)} (${num(size / (floorMs / 1000))}/s)`);
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
      const startupMs = (await simFirstRequest(sim, start)) - start;
      const ms = arrival.lastAt - start;
      console.log(
        `  ${label}: forwarder ${seconds(ms)} (${num(size / (ms / 1000))}/s, ${Math.round((100 * floorMs) / ms)}% of the floor's), peak RSS ${megabytes(exit.peakRss)}, ` +
          `CPU ${seconds(exit.cpuMs)} (${((1000 * exit.cpuMs) / size).toFixed(1)} us per detection)`,
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
        startupMs,
        p50: (arrival.quantiles?.p50 ?? Number.NaN) - start,
        p99: (arrival.quantiles?.p99 ?? Number.NaN) - start,
        peakRss: exit.peakRss,
        cpuMs: exit.cpuMs,
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

interface LateResult {
  name: string;
  minMs: number;
  maxMs: number;
  made: number;
  caught: number;
  p50: number;
  p99: number;
  max: number;
}

interface LiveResult {
  count: number;
  p50: number;
  p99: number;
  max: number;
  peakRss: number;
  /** While detections were being made (+ one schedule), then in all once every second look was read. */
  duringRequests: number;
  duringFetched: number;
  requests: number;
  fetched: number;
  /**
   * The steady state: from one overlap + two schedules after the start (second looks under way) to the
   * last whole schedule before the last detection made; what was fetched and made in between.
   */
  steady: SimStats;
  steadyMs: number;
  /**
   * The judged figure: every detection made visible in the steady span, and how many times it was served
   * in the whole run (counted after its second look).
   */
  reads: Reads;
  unreadable: number;
  late: LateResult[];
  /** ms from the last detection made to the last second look read. */
  tailMs: number;
}

async function live(): Promise<LiveResult> {
  const count = LIVE_RATE * LIVE_SECONDS;
  const sim = startJsonChild("bench/support/sim-process.ts", {
    mode: "live",
    count,
    rate: LIVE_RATE,
    late: LATE_GROUPS,
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mde-bench-live-"));
  try {
    const ready = await sim.next<SimReady>((l) => "url" in l, "the simulator");
    // Detections are made from about now (the simulator starts its ticks before it says ready).
    const liveStart = Date.now();
    const done = sim.next<{ liveDone: number; at: number; late: Record<string, number> }>(
      (l) => "liveDone" in l,
      "the last live detection",
    );
    const rx = await startReceiverProcess({ expect: count, mode: "latency" });
    try {
      const config = writeBenchConfig({
        simUrl: ready.url,
        receiverPort: rx.port,
        stateDir: dir,
        schedule: `*/${LIVE_SCHEDULE_SECONDS} * * * * *`,
        poll: { overlap: `${OVERLAP_MS / 1000}s`, ...(LIVE_WHOLE ? { max_per_request: 100_000 } : {}) },
      });
      const fwd = startForwarder(["run", "-c", config]);
      const failed = fwd.exited.then((e): never => {
        throw new Error(`run exited ${e.code}:\n${e.output.slice(-3000)}`);
      });
      try {
        // Both snapshots half a schedule after a poll fires (`*/5` fires on whole multiples of 5 s), a whole
        // number of schedules apart, while detections are still made: the span holds as many polls as
        // schedules, so the ratio does not move by one poll more or less (a sixth of it in a 60 s run).
        const scheduleMs = LIVE_SCHEDULE_SECONDS * 1000;
        const steadyFrom =
          Math.ceil((Date.now() + OVERLAP_MS + 2 * scheduleMs - scheduleMs / 2) / scheduleMs) * scheduleMs +
          scheduleMs / 2;
        const steadyTo =
          steadyFrom +
          Math.floor((liveStart + LIVE_SECONDS * 1000 - 1_000 - steadyFrom) / scheduleMs) * scheduleMs;
        await Promise.race([delay(steadyFrom - Date.now()), failed]);
        const first = await simStats(sim);
        await Promise.race([delay(steadyTo - Date.now()), failed]);
        const last = await simStats(sim);
        const made = await Promise.race([done, failed]);
        await delay(LIVE_SCHEDULE_SECONDS * 1000 + 1000);
        const during = await simStats(sim);
        console.log(
          `  live: ${num(made.liveDone)} made; fetched so far ${num(during.served)}; waiting for the last second looks`,
        );
        const arrival = await Promise.race([rx.arrived, failed]);
        // Every instant is read a second time once it is `overlap` old: wait for the last second look.
        const tailMs = OVERLAP_MS + 2 * LIVE_SCHEDULE_SECONDS * 1000;
        await delay(Math.max(0, made.at + tailMs - Date.now()));
        const stats = await simStats(sim);
        const reads = await simReads(sim, steadyFrom, steadyTo);
        let shown = "";
        for (const o of reads.odd) {
          console.log(
            `  live: ${o.id} (LastProcessedTimeUtc ${o.lastProcessed}, visible at ${new Date(o.visibleAt).toISOString()}) served ${o.times} times, by`,
          );
          // Those of one tick share their time: its windows once.
          if (o.lastProcessed !== shown) for (const w of o.windows) console.log(`    ${w}`);
          shown = o.lastProcessed;
        }
        fwd.signal("SIGTERM");
        const exit = await fwd.exited;
        return {
          count,
          p50: arrival.quantiles?.p50 ?? Number.NaN,
          p99: arrival.quantiles?.p99 ?? Number.NaN,
          max: arrival.quantiles?.max ?? Number.NaN,
          peakRss: exit.peakRss,
          duringRequests: during.requests,
          duringFetched: during.served,
          requests: stats.requests,
          fetched: stats.served,
          steady: minus(last, first),
          steadyMs: steadyTo - steadyFrom,
          reads,
          unreadable: arrival.unreadable ?? 0,
          late: LATE_GROUPS.map((g) => {
            const got = arrival.late?.[g.name];
            return {
              name: g.name,
              minMs: g.minMs,
              maxMs: g.maxMs,
              made: made.late[g.name] ?? 0,
              caught: got?.count ?? 0,
              p50: got?.quantiles.p50 ?? Number.NaN,
              p99: got?.quantiles.p99 ?? Number.NaN,
              max: got?.quantiles.max ?? Number.NaN,
            };
          }),
          tailMs,
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

/** The judged reads per detection with three decimals: 1.995x is not shown as 2.00x. */
function exact(value: number): string {
  return `${value.toFixed(3)}x`;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const load = loadAverage();
const buildMs = buildDist();
console.log(`  npm run build: ${seconds(buildMs)}`);
const results: Backfill[] = [];
let profileSummary: string | undefined;
for (const [i, size] of (LIVE_ONLY ? [] : SIZES).entries()) {
  const profile = i === 0 && PROFILE_DIR !== undefined && PROFILE_DIR !== "" ? PROFILE_DIR : undefined;
  if (profile !== undefined) fs.mkdirSync(profile, { recursive: true });
  results.push(await backfill(size, profile));
  if (profile !== undefined) profileSummary = summariseCpuProfile(profile, 15);
}
const liveResult = SKIP_LIVE ? undefined : await live();

const rate = (r: BackfillResult) => r.size / (r.ms / 1000);
const floorRate = (r: BackfillResult) => r.size / (r.floorMs / 1000);
const largest = results[results.length - 1] as Backfill | undefined;
const backfillSections = [
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
    "its receiver's last byte. The forwarder's start-up (node, its modules, the config, a new state file) is in " +
    'its time and not in the floor\'s: the "start-up" column is from spawning it to its first request (its ' +
    "token's) reaching the simulator, and the last column its time and rate from there, for comparison only " +
    "(the target is judged on the whole time). The forwarder's window splitting fetches more than the backlog (the " +
    `"fetched" columns). A backfill under ${num(PAIRS_FROM_SIZE)} runs ${PAIRS_SMALL} pair${PAIRS_SMALL === 1 ? "" : "s"} ` +
    "(`BENCH_E2E_PAIRS`), each a fresh simulator, the floor, then the forwarder; the 1M backfill one pair (it " +
    "takes minutes). On this shared 2-core machine one pair's share of the floor swings by up to 30 points with " +
    "the same code (the floor's own time by half), so the target is judged on the median of the pairs' shares " +
    "(forwarder rate / floor rate within a pair; with an even count the lower of the two middle ones), every " +
    'other column shows that median pair, and "vs floor, each pair" lists every pair\'s share in run order. ' +
    `Load average at start: ${load}; \`npm run build\`: ${seconds(buildMs)}.`,
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
      "vs floor, each pair",
      "fetched: forwarder (requests)",
      "fetched: floor (requests)",
    ],
    results.map(({ judged: r, pairs }) => [
      num(r.size),
      num(rate(r)),
      seconds(r.ms),
      seconds(r.p50),
      seconds(r.p99),
      megabytes(r.peakRss),
      num(floorRate(r)),
      seconds(r.floorMs),
      ratio(r.ms / r.floorMs),
      pairs.map(percent).join(", "),
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
      "forwarder CPU (per detection)",
      "forwarder: start-up",
      "forwarder from its first request, vs floor",
    ],
    results.map(({ judged: r }) => [
      num(r.size),
      seconds(r.generateMs),
      megabytes(r.simRss),
      megabytes(r.floorBytes),
      megabytes(r.receivedBytes),
      megabytes(r.floorReceivedBytes),
      seconds(r.exitMs),
      `${seconds(r.cpuMs)} (${((1000 * r.cpuMs) / r.size).toFixed(1)} us)`,
      seconds(r.startupMs),
      `${seconds(r.ms - r.startupMs)}: ${Math.round((100 * r.floorMs) / (r.ms - r.startupMs))}%`,
    ]),
  ),
  "",
  targetsTable([
    ...results
      .map((b) => b.judged)
      .filter((r) => r.size >= 1_000_000)
      .map((r) => ({
        target: `${num(r.size)} backfill: peak RSS under 300 MB`,
        measured: megabytes(r.peakRss),
        met: r.peakRss < RSS_TARGET,
      })),
    ...results.map(({ judged: r, pairs }) => ({
      target:
        `${num(r.size)} backfill: throughput at least ${Math.round(FLOOR_TARGET * 100)}% of the floor` +
        (pairs.length > 1 ? ` (the median of ${pairs.length} pairs)` : ""),
      measured:
        `${num(rate(r))}/s vs ${num(floorRate(r))}/s: ${percent(r)}` +
        (pairs.length > 1 ? ` (pairs: ${pairs.map(percent).join(", ")})` : ""),
      met: rate(r) >= FLOOR_TARGET * floorRate(r),
    })),
  ]),
];
if (largest !== undefined && largest.size < 1_000_000) {
  backfillSections.push("", "(The 1M backfill was not run: BENCH_E2E_SIZES.)");
}
if (profileSummary !== undefined) {
  backfillSections.push(
    "",
    `CPU profile of the ${num(SIZES[0] ?? 0)} backfill's first forwarder run (self time):`,
    "",
    profileSummary,
  );
}

function liveReport(liveResult: LiveResult): string[] {
  const scheduleMs = LIVE_SCHEDULE_SECONDS * 1000;
  const perNew = liveResult.fetched / liveResult.count;
  const steadyPerNew = liveResult.steady.served / liveResult.steady.generated;
  const reads = liveResult.reads;
  const perNewRead = reads.all.served / reads.all.detections;
  const liveSections = [
    `Live: \`run\` polling every ${LIVE_SCHEDULE_SECONDS} s (schedule \`*/${LIVE_SCHEDULE_SECONDS} * * * * *\`), ` +
      `poll.overlap ${seconds(OVERLAP_MS)} (not the default 5 min: so that second looks happen within the run), ` +
      `other settings at their defaults (short_overlap ${seconds(SHORT_OVERLAP_MS)}, settle ${seconds(SETTLE_MS)}, max_per_request ` +
      `${LIVE_WHOLE ? "100,000 (BENCH_LIVE_WHOLE=1: every poll reads the whole overlap, as on main)" : "5000"}, ` +
      "one tenant, one TCP CEF destination, a fresh state) while the simulator makes " +
      `${num(LIVE_RATE)} detections/s visible for ${LIVE_SECONDS} s (in 100 ms ticks). An on-time detection's ` +
      "LastProcessedTimeUtc is the moment it became visible; its latency is arrival minus LastProcessedTimeUtc " +
      "(the CEF `rt=` value, read by the receiver), waiting for the next poll included (half the schedule on " +
      "average). Lateness model: of each tick's detections, " +
      `${LATE_GROUPS.map((g) => `${Math.round(g.share * 1000) / 10}% ("${g.name}") become visible ${seconds(g.minMs)} to ${seconds(g.maxMs)} (uniform) after their LastProcessedTimeUtc`).join(", and ")} ` +
      "(stamped that long before the moment they appear); their latency is arrival minus the moment they became " +
      `visible. At ${num(LIVE_RATE)}/s the ${seconds(OVERLAP_MS)} overlap holds ${num((LIVE_RATE * OVERLAP_MS) / 1000)}, ` +
      "more than one request, so after the first polls (whole, which measure it) each poll reads on from where " +
      "the previous one ended to `settle` before now (the first one after a whole read from the checkpoint minus " +
      "the short overlap), and once more every stretch that has just become `overlap` old (the " +
      "second look, src/source/overlap.ts). Fetched per new one, the judged figure: every detection made " +
      `visible in the steady span (from one overlap + two schedules after the start to the last whole schedule before the last one made, ${seconds(liveResult.steadyMs)}; ` +
      "on-time and late-visible ones alike) and how many times the simulator served it (its FullId in an " +
      "/api/alerts response handed to the socket) in the whole run, counted after waiting " +
      `${seconds(liveResult.tailMs)} past the last one made for the last second looks: the mean of those counts, ` +
      "ideally 2 for an on-time one (read fresh, then once more at its second look) and 1 or 2 for a late-visible " +
      "one (the fresh window may have passed its time before it appeared: then only the second look reads it), " +
      "with how many were served once, twice, 3+ times and never. For reference (not judged): the span figure, " +
      "detections served between two snapshots taken half a schedule after a poll, whole schedules apart, per " +
      "detection made between them; it moves with boundary noise (the second looks in the span re-read " +
      "stretches made `overlap` earlier, whose count differs from those made in the span as the simulator's " +
      "100 ms ticks drift), and in all: served per made over the whole run (the first polls' whole reads " +
      "included).",
    "",
    table(
      [
        "live",
        "on time: p50 latency",
        "p99",
        "max",
        "peak RSS",
        "fetched per new (visible in the span)",
        "served in the span / made in the span (requests)",
        "ratio",
        "fetched in all (requests)",
        "per new",
      ],
      [
        [
          `${num(liveResult.count)} at ${num(LIVE_RATE)}/s`,
          seconds(liveResult.p50),
          seconds(liveResult.p99),
          seconds(liveResult.max),
          megabytes(liveResult.peakRss),
          exact(perNewRead),
          `${count(liveResult.steady.served)} / ${count(liveResult.steady.generated)} (${count(liveResult.steady.requests)}, ${count(liveResult.steady.full)} full)`,
          ratio(steadyPerNew),
          `${count(liveResult.fetched)} (${count(liveResult.requests)})`,
          ratio(perNew),
        ],
      ],
    ),
    "",
    table(
      [
        "visible in the steady span",
        "detections",
        "times served",
        "per detection",
        "once",
        "twice",
        "3+ times",
        "never",
        "most",
      ],
      [
        ["all", reads.all] as const,
        ["on time", reads.onTime] as const,
        ...Object.entries(reads.late).map(([name, r]) => [`late-visible "${name}"`, r] as const),
      ].map(([name, r]) => [
        name,
        count(r.detections),
        count(r.served),
        exact(r.served / r.detections),
        count(r.once),
        count(r.twice),
        count(r.more),
        count(r.never),
        count(r.max),
      ]),
    ),
    ...(reads.duplicates > 0
      ? [
          "",
          `(${count(reads.duplicates)} FullIds were made more than once: their serves are counted for each.)`,
        ]
      : []),
    "",
    table(
      ["late-visible", "visible after", "made", "delivered", "p50 from visible", "p99 from visible", "max"],
      liveResult.late.map((l) => [
        l.name,
        `${seconds(l.minMs)} - ${seconds(l.maxMs)}`,
        count(l.made),
        count(l.caught),
        seconds(l.p50),
        seconds(l.p99),
        seconds(l.max),
      ]),
    ),
    "",
    targetsTable([
      {
        target:
          "live: detections fetched per new one at most 2x (times each one visible in the steady span was served; none never)",
        measured:
          `${count(reads.all.served)} for ${count(reads.all.detections)}: ${exact(perNewRead)} (on time ` +
          `${exact(reads.onTime.served / reads.onTime.detections)}; ${count(reads.all.more)} served 3+ times, ` +
          `${count(reads.all.never)} never; span ${ratio(steadyPerNew)})`,
        met: perNewRead <= 2 && reads.all.never === 0,
      },
      {
        target: `live: p99 latency of on-time detections at most the schedule + 2 s (${seconds(scheduleMs + 2000)})`,
        measured: seconds(liveResult.p99),
        met: liveResult.p99 <= scheduleMs + 2000,
      },
      ...liveResult.late.map((l) => ({
        target: `live: late-visible "${l.name}" (${seconds(l.minMs)} - ${seconds(l.maxMs)}) all delivered, within a minute of becoming visible`,
        measured: `${count(l.caught)} of ${count(l.made)}, max ${seconds(l.max)}`,
        met: l.caught === l.made && l.max <= LATE_TARGET_MS,
      })),
    ]),
  ];
  return liveSections;
}

const liveSections =
  liveResult === undefined ? ["(The live run was skipped: BENCH_E2E_LIVE=0.)"] : liveReport(liveResult);
const sections = LIVE_ONLY
  ? ["## end to end", "", ...liveSections]
  : [...backfillSections, "", ...liveSections];
publish("e2e", sections.join("\n"));
