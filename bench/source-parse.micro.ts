// Micro-benchmark of the source side of a backfill (not run by `npm run bench`): the bounded parse of a
// 10,000-detection SIEM API response, then the records the poller makes of it. CPU per detection.
// Run: node --import tsx bench/source-parse.micro.ts

import { toDetectionRecord } from "../src/record.js";
import { parseBoundedJson, takeItemText } from "../src/source/bounded-json.js";
import { parseTimestamp } from "../src/timestamp.js";
import { sampleDetections } from "./support/sample.js";

const N = 10_000;
const ROUNDS = Number(process.env.ROUNDS ?? 15);
const body = Buffer.from(JSON.stringify(sampleDetections(N)));

function round(): { parse: number; records: number } {
  const t0 = process.cpuUsage();
  const items = parseBoundedJson(body) as Record<string, unknown>[];
  const t1 = process.cpuUsage(t0);
  const t2 = process.cpuUsage();
  let n = 0;
  for (let i = 0; i < items.length; i++) {
    const d = items[i] as Record<string, unknown>;
    if (parseTimestamp(d.LastProcessedTimeUtc) !== undefined) n++;
    const r = toDetectionRecord(d, "siem", takeItemText(d));
    if (r.lastProcessed !== undefined) n++;
  }
  const t3 = process.cpuUsage(t2);
  if (n !== 2 * N) throw new Error("unexpected");
  return { parse: t1.user + t1.system, records: t3.user + t3.system };
}

const parse: number[] = [];
const records: number[] = [];
for (let i = 0; i < ROUNDS; i++) {
  const r = round();
  if (i >= 3) {
    parse.push(r.parse / N);
    records.push(r.records / N);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
process.stdout.write(
  `body ${(body.length / N).toFixed(0)} B/detection; CPU per detection (median of ${parse.length}): parse ${median(parse).toFixed(2)} us, records ${median(records).toFixed(2)} us\n`,
);
