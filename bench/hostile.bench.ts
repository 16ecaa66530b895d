// Issue 11, finding 3: what each memory attack of a hostile API costs the forwarder. `npm run bench --
// hostile` runs `mde-forwarder once` (a real process from dist/, default config: max_response_bytes 64 MiB)
// against a hostile SIEM API in its own process (bench/support/hostile-process.ts), one attack per run, and
// reports the forwarder's peak RSS (`/usr/bin/time -v`, else VmHWM sampled from /proc). The target:
// under 400 MB whatever the API sends. Before the fix the same attacks took 2.2 GB (1 GB body), 2.2 GB (gzip
// bomb), 850 MB (endless body, 10 s) and 2.5 GB (a million `{}`).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildDist, startForwarder, writeBenchConfig } from "./support/forwarder-process.js";
import { loadAverage, startJsonChild, startReceiverProcess } from "./support/processes.js";
import { megabytes, num, publish, seconds, table, targetsTable } from "./support/report.js";

const TARGET_BYTES = 400 * 1_000_000;

interface Attack {
  readonly name: string;
  readonly attack: string;
  readonly what: string;
  /** Peak RSS before the fix, as the issue reports it. */
  readonly before: string;
}

const ATTACKS: readonly Attack[] = [
  { name: "baseline: empty answer", attack: "empty", what: "`[]`", before: "-" },
  {
    name: "real detections, just under the cap",
    attack: "real-64mib",
    what: "64 MiB JSON array of ~2 kB detections, `limit` ignored",
    before: "-",
  },
  { name: "1 GB body", attack: "1gb", what: "1 GiB JSON array, chunked", before: "2.2 GB" },
  {
    name: "gzip bomb",
    attack: "gzip-bomb",
    what: "~400 KB of gzip inflating to 400 MB",
    before: "2.2 GB",
  },
  {
    name: "endless chunked body",
    attack: "endless",
    what: "chunked, as fast as read, up to 10 s",
    before: "850 MB",
  },
  { name: "a million `{}`", attack: "million-empty", what: "3 MB array of 1,000,000 `{}`", before: "2.5 GB" },
  {
    name: "the most the bounds accept",
    attack: "budget",
    what: "100 detections of 79,000 decimals each: 7.9 million values in 59 MB (the budget: 8 million)",
    before: "-",
  },
];

/** `BENCH_HOSTILE=1gb,budget` measures only those attacks (by their `attack` name). */
const only = process.env.BENCH_HOSTILE?.split(",").filter((a) => a !== "");
const selected = only === undefined ? ATTACKS : ATTACKS.filter((a) => only.includes(a.attack));

interface Result {
  attack: Attack;
  peak: number;
  ms: number;
  code: number | null;
  errorCode: string;
  sent: string;
}

const load = loadAverage();
buildDist();
const results: Result[] = [];
for (const attack of selected) results.push(await measure(attack));

const rows = results.map((r) => [
  r.attack.name,
  r.attack.what,
  r.sent,
  `${r.errorCode} (exit ${r.code})`,
  seconds(r.ms),
  megabytes(r.peak),
  r.attack.before,
]);
const worst = Math.max(...results.map((r) => r.peak));
publish(
  "hostile",
  [
    "## Hostile API: peak RSS per attack (issue 11)",
    "",
    "`mde-forwarder once` (`node dist/cli/main.js`, built at the start) with the default config " +
      "(`poll.max_response_bytes` 64 MiB, one SIEM API tenant, one TCP CEF destination, a fresh state per row) " +
      "against a hostile SIEM API in its own process, one attack per row. Peak RSS: the forwarder process' " +
      "maximum resident set (`/usr/bin/time -v`, else VmHWM). `server sent`: what the API wrote before the " +
      "forwarder hung up (it sends a little more than the cap: what the sockets took). `outcome`: the error code " +
      "the poll ended with (exit 1: `once` had a failed poll). `before`: the same attack before the bounds, as " +
      `issue 11 reports it. Load average at start: ${load}.`,
    "",
    table(["attack", "the API sends", "server sent", "outcome", "time", "peak RSS", "before"], rows),
    "",
    targetsTable([
      {
        target: "peak RSS under 400 MB whatever the API sends",
        measured: `worst ${megabytes(worst)}`,
        met: worst < TARGET_BYTES,
      },
    ]),
  ].join("\n"),
);

/** Bytes as MB, KB below one MB, bytes below one KB. */
function amount(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  return bytes < 1_048_576 ? `${num(bytes / 1024)} KB` : megabytes(bytes);
}

async function measure(attack: Attack): Promise<Result> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mde-bench-hostile-"));
  const api = startJsonChild("bench/support/hostile-process.ts", { attack: attack.attack });
  const rx = await startReceiverProcess({ expect: 1_000_000, mode: "count" });
  try {
    const { url } = await api.next<{ url: string }>((l) => "url" in l, "the hostile API");
    const config = writeBenchConfig({ simUrl: url, receiverPort: rx.port, stateDir: dir });
    const started = performance.now();
    const run = startForwarder(["once", "-c", config]);
    const { code, peakRss, output } = await run.exited;
    const ms = performance.now() - started;
    const served = await Promise.race([
      api.next<{ sentBytes: number; aborted: boolean }>((l) => "served" in l, "the answer"),
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 15_000)),
    ]);
    const errorCode = /"code":"(E_[A-Z_]+)"/.exec(output)?.[1] ?? "ok";
    const sent =
      served === undefined
        ? "?"
        : `${amount(served.sentBytes)}${served.aborted ? ", aborted by the forwarder" : ""}`;
    process.stdout.write(
      `${attack.name}: peak RSS ${megabytes(peakRss)}, ${errorCode}, exit ${code}, ${seconds(ms)}; server sent ${sent}\n`,
    );
    return { attack, peak: peakRss, ms, code, errorCode, sent };
  } finally {
    await api.close();
    await rx.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
