// The bundled simulator in its own process, for the end-to-end and idle benchmarks:
//   node --import tsx bench/support/sim-process.ts '{"mode":"backfill","count":100000,"spanMs":3600000}'
// It prints one JSON line when ready ({"url", "generated", "generateMs", "rss", "heapUsed"}), then answers
// commands on stdin, one per line: "stats" prints what was served ({"requests", "served", "full"}) and
// how many detections were made so far ({"generated"}), "close" ends it.
// backfill: `count` detections spread over [now - spanMs, now - 1 min], all visible from the start.
// live: `count` detections made visible at `rate` per second (generated at "now" in 100 ms ticks, so each
// one's LastProcessedTimeUtc is the time it became visible); prints {"liveDone", "at"} after the last one.
// live `late`: groups of late-visible detections among them: a share of each tick's detections becomes
// visible `minMs`-`maxMs` after its LastProcessedTimeUtc (stamped that long before now); their FullId is
// `late-<group>-<visible ms>-<n>`, so that the receiver tells them apart and measures from becoming visible.
import { createInterface } from "node:readline";
import { createSimulator } from "../../src/simulator/index.js";

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
const sim = await createSimulator({ port: 0, seed: 11 });
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
        if (k > 0) sim.add(partials);
        lateCounts[group.name] = (lateCounts[group.name] ?? 0) + k;
      }
      sim.generate(onTime, { from: now, to: now });
      generated += n;
    }
    if (generated >= args.count) {
      clearInterval(live);
      live = undefined;
      process.stdout.write(`${JSON.stringify({ liveDone: generated, at: Date.now(), late: lateCounts })}\n`);
    }
  }, TICK_MS);
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
  } else if (line === "close") {
    lines.close();
  }
});
lines.once("close", () => {
  if (live !== undefined) clearInterval(live);
  void sim.close().then(() => process.exit(0));
});
