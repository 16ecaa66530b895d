// The bundled simulator in its own process, for the end-to-end and idle benchmarks:
//   node --import tsx bench/support/sim-process.ts '{"mode":"backfill","count":100000,"spanMs":3600000}'
// It prints one JSON line when ready ({"url", "generated", "generateMs", "rss", "heapUsed"}), then answers
// commands on stdin, one per line: "first MS" prints when the first request at or after MS was served
// ({"firstAt"}), "stats" prints what was served ({"requests", "served", "full"}) and
// how many detections were made so far ({"generated"}), "close" ends it.
// backfill: `count` detections spread over [now - spanMs, now - 1 min], all visible from the start.
// live: `count` detections made visible at `rate` per second (generated at "now" in 100 ms ticks, so each
// one's LastProcessedTimeUtc is the time it became visible); prints {"liveDone", "at"} after the last one.
// live `late`: groups of late-visible detections among them: a share of each tick's detections becomes
// visible `minMs`-`maxMs` after its LastProcessedTimeUtc (stamped that long before now); their FullId is
// `late-<group>-<visible ms>-<n>`, so that the receiver tells them apart and measures from becoming visible.
// live also counts how many times each detection was served (the simulator's `countServes`): "reads FROM TO"
// (ms) prints {"reads"} for the detections made visible in [FROM, TO): how many, how often each was served
// (once, twice, 3+ times, never; on time and late apart), and a few of those served 3+ times or never.
import { createInterface } from "node:readline";
import { createSimulator } from "../../src/simulator/index.js";
import { parseTimestamp } from "../../src/timestamp.js";

interface SimArgs {
  mode: "backfill" | "live" | "idle";
  count: number;
  spanMs?: number;
  rate?: number;
  late?: LateGroup[];
}

interface LateGroup {
  name: string;
  share: number;
  minMs: number;
  maxMs: number;
}

/** generate() returns (and spread() sorts) its whole batch: chunks keep the transient arrays small. */
const CHUNK = 50_000;
const TICK_MS = 100;

const args = JSON.parse(process.argv[2] ?? "{}") as SimArgs;
const sim = await createSimulator({ port: 0, seed: 11, countServes: args.mode === "live" });
const started = performance.now();
let generated = 0;
// The backlog's bounds (ms, inclusive), for the floor's slices.
let from = 0;
let to = 0;

if (args.mode === "backfill") {
  to = Date.now() - 60_000;
  from = to - (args.spanMs ?? 3_600_000);
  const chunks = Math.ceil(args.count / CHUNK);
  for (let i = 0; i < chunks; i++) {
    const n = Math.min(CHUNK, args.count - generated);
    // Contiguous, non-overlapping sub-ranges: the store stays sorted, and the density is uniform.
    const a = from + Math.floor(((to - from) * i) / chunks);
    const b = from + Math.floor(((to - from) * (i + 1)) / chunks) - 1;
    sim.generate(n, { from: a, to: b });
    generated += n;
  }
}

const ready = {
  url: sim.url,
  generated,
  from,
  to,
  generateMs: performance.now() - started,
  rss: process.memoryUsage.rss(),
  heapUsed: process.memoryUsage().heapUsed,
};
process.stdout.write(`${JSON.stringify(ready)}\n`);

let live: NodeJS.Timeout | undefined;
/** Live: each tick's detections, by the time they became visible (ms). */
interface Tick {
  at: number;
  onTime: string[];
  late: Array<{ group: string; id: string }>;
}
const ticks: Tick[] = [];
let lateSeq = 0;
const lateCounts: Record<string, number> = {};
// A small seeded generator: the same late detections in every run.
let seed = 16;
function random(): number {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
  return seed / 2_147_483_648;
}
/** An expected count of `mean` as a whole number: the fraction drawn. */
function draw(mean: number): number {
  const whole = Math.floor(mean);
  return whole + (random() < mean - whole ? 1 : 0);
}
if (args.mode === "live") {
  const perTick = ((args.rate ?? 1_000) * TICK_MS) / 1_000;
  let carry = 0;
  live = setInterval(() => {
    carry += perTick;
    const n = Math.min(Math.floor(carry), args.count - generated);
    carry -= Math.floor(carry);
    if (n > 0) {
      const now = Date.now();
      const tick: Tick = { at: now, onTime: [], late: [] };
      ticks.push(tick);
      let onTime = n;
      for (const group of args.late ?? []) {
        const k = Math.min(onTime, draw(group.share * n));
        onTime -= k;
        const partials = Array.from({ length: k }, () => {
          const lateness = group.minMs + Math.floor(random() * (group.maxMs - group.minMs + 1));
          return {
            LastProcessedTimeUtc: new Date(now - lateness).toISOString(),
            FullId: `late-${group.name}-${now}-${lateSeq++}`,
          };
        });
        if (k > 0)
          for (const d of sim.add(partials)) tick.late.push({ group: group.name, id: String(d.FullId) });
        lateCounts[group.name] = (lateCounts[group.name] ?? 0) + k;
      }
      for (const d of sim.generate(onTime, { from: now, to: now })) tick.onTime.push(String(d.FullId));
      generated += n;
    }
    if (generated >= args.count) {
      clearInterval(live);
      live = undefined;
      process.stdout.write(`${JSON.stringify({ liveDone: generated, at: Date.now(), late: lateCounts })}\n`);
    }
  }, TICK_MS);
}

/** How often the detections of one kind were served: each counted once, by its FullId. */
export interface Served {
  detections: number;
  /** Serves of them all: `served / detections` is the mean reads per detection. */
  served: number;
  once: number;
  twice: number;
  more: number;
  never: number;
  max: number;
}

function tally(): Served {
  return { detections: 0, served: 0, once: 0, twice: 0, more: 0, never: 0, max: 0 };
}

function count(into: Served, times: number): void {
  into.detections++;
  into.served += times;
  if (times === 0) into.never++;
  else if (times === 1) into.once++;
  else if (times === 2) into.twice++;
  else into.more++;
  into.max = Math.max(into.max, times);
}

/** A detection served 3+ times or never, with the requests whose windows held its time. */
interface OddDetection {
  id: string;
  visibleAt: number;
  times: number;
  lastProcessed: string;
  windows: string[];
}

/** The answer to "reads FROM TO" (the live benchmark's fetched per new one). */
export interface Reads {
  from: number;
  to: number;
  all: Served;
  onTime: Served;
  late: Record<string, Served>;
  /** A few served 3+ times or never, to look into. */
  odd: OddDetection[];
  /** FullIds made more than once (0: each detection counted by its own). */
  duplicates: number;
}

/** Reads per detection made visible in [from, to) (ms), as served so far. */
function reads(from: number, to: number): Reads {
  const counts = sim.serveCounts ?? new Map<string, number>();
  const all = tally();
  const onTime = tally();
  const late: Record<string, Served> = {};
  // Up to 10 of those served 3+ times and of those never served, to look into.
  const odd: OddDetection[] = [];
  const note = (id: string, at: number, times: number): void => {
    if ((times === 0 || times > 2) && odd.length < 10) {
      const lastProcessed = String(sim.detections.find((d) => d.FullId === id)?.LastProcessedTimeUtc);
      odd.push({ id, visibleAt: at, times, lastProcessed, windows: windowsOf(lastProcessed) });
    }
  };
  for (const tick of ticks) {
    if (tick.at < from || tick.at >= to) continue;
    for (const id of tick.onTime) {
      const times = counts.get(id) ?? 0;
      count(all, times);
      count(onTime, times);
      note(id, tick.at, times);
    }
    for (const { group, id } of tick.late) {
      const times = counts.get(id) ?? 0;
      count(all, times);
      late[group] ??= tally();
      count(late[group], times);
      note(id, tick.at, times);
    }
  }
  // A FullId made twice would be counted for both: the figure would be wrong, so it is reported.
  const ids = ticks.flatMap((t) => [...t.onTime, ...t.late.map((l) => l.id)]);
  const duplicates = ids.length - new Set(ids).size;
  return { from, to, all, onTime, late, odd, duplicates };
}

/** The /api/alerts requests whose [sinceTimeUtc, untilTimeUtc] held this time: why it was read so often. */
function windowsOf(time: string): string[] {
  const t = parseTimestamp(time);
  if (t === undefined) return [];
  return sim.requests
    .filter((r) => r.path.toLowerCase().startsWith("/api/alerts") && r.status === 200)
    .filter((r) => {
      const since = parseTimestamp(r.query.sinceTimeUtc);
      const until = parseTimestamp(r.query.untilTimeUtc);
      return since !== undefined && since <= t && (until === undefined || t <= until);
    })
    .map(
      (r) =>
        `${String(r.query.sinceTimeUtc)} .. ${String(r.query.untilTimeUtc ?? "now")} at ${new Date(r.at).toISOString()}: ${r.count}`,
    );
}

const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  if (line === "stats") {
    const served = sim.requests.filter((r) => r.path.toLowerCase().startsWith("/api/alerts"));
    const stats = {
      requests: served.length,
      served: served.reduce((sum, r) => sum + r.count, 0),
      full: served.filter((r) => r.count >= 5_000).length,
      generated,
    };
    process.stdout.write(`${JSON.stringify(stats)}\n`);
  } else if (line.startsWith("first ")) {
    // The first request (of any kind: the token's) served at or after that time (ms since the epoch).
    const after = Number(line.slice("first ".length));
    const first = sim.requests.find((r) => r.at >= after);
    process.stdout.write(`${JSON.stringify({ firstAt: first?.at ?? null })}\n`);
  } else if (line.startsWith("reads ")) {
    const [from, to] = line.slice("reads ".length).split(" ").map(Number);
    process.stdout.write(`${JSON.stringify({ reads: reads(from ?? 0, to ?? 0) })}\n`);
  } else if (line === "close") {
    lines.close();
  }
});
lines.once("close", () => {
  if (live !== undefined) clearInterval(live);
  void sim.close().then(() => process.exit(0));
});
