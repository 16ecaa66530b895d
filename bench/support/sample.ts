// Benchmark inputs built the real way: detections from the simulator's generator (~2 kB, Microsoft's
// field set), dedupe keys shaped like real FullIds, and CEF messages from the real formatter.
import { randomBytes } from "node:crypto";
import { createFormatter, formatConfigFrom } from "../../src/format/index.js";
import type { DetectionRecord } from "../../src/record.js";
import { toDetectionRecord } from "../../src/record.js";
import { createDetectionGenerator } from "../../src/simulator/detections.js";
import { DEMO_TENANT } from "../../src/simulator/index.js";
import { formatTimestamp, TICKS_PER_SECOND, ticksFromMs } from "../../src/timestamp.js";

/** .NET ticks at the Unix epoch: real AlertIds start with `da` and the alert's .NET ticks. */
const DOTNET_EPOCH_TICKS = 621_355_968_000_000_000n;
const BASE_MS = Date.UTC(2026, 0, 1);

/** n generated detections spread over one hour (the simulator's generator, fixed seed). */
export function sampleDetections(n: number, seed = 7): Record<string, unknown>[] {
  const generator = createDetectionGenerator({ seed, machineGroups: DEMO_TENANT.machineGroups });
  const to = ticksFromMs(BASE_MS);
  return generator.generate(generator.spread(n, to - 3_600n * TICKS_PER_SECOND, to));
}

/** The destination format the benchmarks use: CEF behind an RFC 5424 header, as the default config. */
export function cefFormatter() {
  return createFormatter(
    formatConfigFrom({
      format: "cef",
      syslog_header: "rfc5424",
      facility: "local0",
      app_name: "mde-forwarder",
    }),
    { hostname: "bench" },
  );
}

/** Encoded CEF messages of `n` generated detections. */
export function sampleMessages(n: number): string[] {
  const formatter = cefFormatter();
  return sampleDetections(n).map((d) => formatter.format(d).text);
}

export interface RecordSourceOptions {
  /** Distinct bodies to cycle through. */
  poolSize?: number;
  /** Mean time between two detections' LastProcessedTimeUtc (ms): the backlog's density. */
  meanGapMs?: number;
}

/**
 * Produces store records: bodies cycle through a pool of real detections, keys are fresh and shaped like
 * FullIds (`da<.NET ticks of the alert>_<int>:<base64 of 32 random bytes>`, the alert 2-900 s before its
 * detection is processed, as the simulator makes them), so the seen index grows the way a real one does
 * rather than by appending counters.
 */
export function createRecordSource(options: RecordSourceOptions = {}): {
  next(count: number): DetectionRecord[];
} {
  const pool = sampleDetections(options.poolSize ?? 1_000).map((d) => toDetectionRecord(d));
  const maxGap = 2 * (options.meanGapMs ?? 1) * 10_000;
  let index = 0;
  let ticks = ticksFromMs(BASE_MS);
  return {
    next(count) {
      const out: DetectionRecord[] = [];
      const random = randomBytes(32 * count);
      for (let i = 0; i < count; i++, index++) {
        const template = pool[index % pool.length] as DetectionRecord;
        ticks += BigInt(1 + Math.floor(Math.random() * maxGap));
        const lag = BigInt(2 + Math.floor(Math.random() * 898)) * TICKS_PER_SECOND;
        const alertId = `da${ticks - lag + DOTNET_EPOCH_TICKS}_${10_000_000 + Math.floor(Math.random() * 2e9)}`;
        out.push({
          key: `${alertId}:${random.toString("base64", 32 * i, 32 * i + 32)}`,
          lastProcessed: formatTimestamp(ticks),
          body: template.body,
          malformed: false,
        });
      }
      return out;
    },
  };
}
