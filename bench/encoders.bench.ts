// Encoders alone: the whole `format()` call (rfc5424 header + CEF, LEEF or JSON body) per second, as a
// ratio to JSON.stringify of the same detection measured right next to it. Issue 16's target: CEF, LEEF
// and JSON on a realistic detection at least 0.80x each. Hostile detections (long, full of specials) are
// reported too.
//
// The machine may be busy (2 cores, other benchmarks and tests): every case runs in many short slices,
// each right after a slice of the yardstick, and the ratio is the median of those pairs, so a change of
// load hits both sides of a ratio alike. Each detection is its own workload, warmed up and measured before
// the next one (realistic first): a daemon's steady state is realistic detections, and V8's type feedback
// from the hostile one would otherwise slow the realistic figures. BENCH_ROUNDS and BENCH_SECONDS (per
// case per round) tune it.
import { readFileSync } from "node:fs";
import { arch, cpus, platform } from "node:os";
import { createFormatter, type FormatOptionsInput, formatConfigFrom } from "../src/format/index.js";
import type { Detection } from "../src/record.js";
import { num, publish, ratio, table, targetsTable } from "./support/report.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 40);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 0.025);
/** Each format on the realistic detection, as a ratio to JSON.stringify of it (issue 16). */
const TARGET_RATIO = 0.8;

function load(name: string): Detection {
  const url = new URL(`../test/fixtures/detections/${name}.json`, import.meta.url);
  return JSON.parse(readFileSync(url, "utf8")) as Detection;
}

const detections: readonly { readonly name: string; readonly file: string; readonly detection: Detection }[] =
  [
    { name: "realistic", file: "microsoft-example", detection: load("microsoft-example") },
    { name: "hostile", file: "hostile", detection: load("hostile") },
  ];

const base = { syslog_header: "rfc5424", facility: "local0", app_name: "mde-forwarder" } as const;
// The real clock, as the daemon runs: the header's time is part of the cost.
const deps = { hostname: "bench.example.com" };
const encoders: readonly { readonly name: string; readonly options: FormatOptionsInput }[] = [
  { name: "cef + rfc5424", options: { ...base, format: "cef" } },
  { name: "leef 2.0 + rfc5424", options: { ...base, format: "leef", leef_version: "2.0" } },
  { name: "json + rfc5424", options: { ...base, format: "json" } },
];

interface Case {
  readonly detection: string;
  readonly name: string;
  readonly run: () => unknown;
  /** Message size in bytes (the yardstick: the JSON text). */
  readonly bytes: number;
  readonly rates: number[];
  readonly ratios: number[];
}

const YARDSTICK = "JSON.stringify (yardstick)";

// Keeps results alive so the work cannot be optimised away.
let sink = 0;

/**
 * Calls per second of CPU time (user + system of this process) over a slice of `seconds` of wall time:
 * on a shared machine the time the process waits for a core is not the encoder's.
 */
function rate(fn: () => unknown, seconds: number): number {
  let n = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  const end = start + seconds * 1000;
  let now = start;
  while (now < end) {
    for (let i = 0; i < 100; i++) if (fn() !== undefined) sink++;
    n += 100;
    now = performance.now();
  }
  const used = process.cpuUsage(cpu);
  return n / ((used.user + used.system) / 1e6);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

const cases: Case[] = [];
for (const { name: detectionName, detection } of detections) {
  const group: Case[] = [
    {
      detection: detectionName,
      name: YARDSTICK,
      run: () => JSON.stringify(detection),
      bytes: Buffer.byteLength(JSON.stringify(detection)),
      rates: [],
      ratios: [],
    },
  ];
  for (const { name, options } of encoders) {
    const formatter = createFormatter(formatConfigFrom(options), deps);
    const bytes = formatter.format(detection).bytes.length;
    group.push({
      detection: detectionName,
      name,
      run: () => formatter.format(detection),
      bytes,
      rates: [],
      ratios: [],
    });
  }
  // What the drain sends: the message as a UTF-8 Buffer.
  for (const { name, options } of encoders) {
    const formatter = createFormatter(formatConfigFrom(options), deps);
    group.push({
      detection: detectionName,
      name: `${name}, .bytes`,
      run: () => formatter.format(detection).bytes,
      bytes: formatter.format(detection).bytes.length,
      rates: [],
      ratios: [],
    });
  }
  for (const c of group) rate(c.run, 0.2); // warm-up: every case optimised before any is measured
  const [stick, ...measured] = group as [Case, ...Case[]];
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of measured) {
      // A yardstick slice right before each case's: the pair sees the same load.
      const yardstick = rate(stick.run, SECONDS);
      const r = rate(c.run, SECONDS);
      stick.rates.push(yardstick);
      c.rates.push(r);
      c.ratios.push(r / yardstick);
    }
  }
  cases.push(...group);
}

const cpu = cpus()[0]?.model ?? "cpu";
const spread = (c: Case) =>
  c.name === YARDSTICK ? "" : `${Math.min(...c.ratios).toFixed(2)}-${Math.max(...c.ratios).toFixed(2)}`;
const realistic = (format: string): number => {
  const found = cases.find(
    (c) => c.detection === "realistic" && c.name === `${format} ${format === "leef" ? "2.0 " : ""}+ rfc5424`,
  );
  return found === undefined ? 0 : median(found.ratios);
};

publish(
  "encoders",
  [
    "## encoders alone",
    "",
    `node ${process.version}, ${platform()}/${arch()}, ${cpu}, ${cpus().length} cpus. The whole ` +
      "`createFormatter(...).format(detection)` call (rfc5424 header with the real clock, body, the message " +
      "as a string) against `JSON.stringify` of the same detection (test/fixtures/detections: realistic = " +
      'microsoft-example.json, hostile = hostile.json); ".bytes": the same plus the message as a UTF-8 ' +
      "Buffer, what the drain hands the sink (a message built of many pieces costs about as much to " +
      "convert as to build). " +
      "Rates per second of CPU time of the process (user + system), not of wall time: on a shared machine " +
      "the time spent waiting for a core is not the encoder's. " +
      `${ROUNDS} rounds of ${SECONDS} s per case, each case's slice right after a slice of the yardstick; ` +
      "each detection warmed up and measured on its own; medians, and the ratio is the median of the ratios " +
      "of each slice to the yardstick slice just before it.",
    "",
    table(
      ["detection", "encoder", "per second", "ratio", "ratio spread", "bytes"],
      cases.map((c) => [
        c.detection,
        c.name,
        num(median(c.rates)),
        ratio(c.name === YARDSTICK ? 1 : median(c.ratios)),
        spread(c),
        num(c.bytes),
      ]),
    ),
    "",
    targetsTable(
      ["cef", "leef", "json"].map((format) => {
        const measured = realistic(format);
        return {
          target: `${format.toUpperCase()} format() of a realistic detection at least ${ratio(TARGET_RATIO)} JSON.stringify of it`,
          measured: ratio(measured),
          met: measured >= TARGET_RATIO,
        };
      }),
    ),
  ].join("\n"),
);
if (sink === 0) console.log("(nothing ran)");
