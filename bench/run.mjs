#!/usr/bin/env node
// `npm run bench`: benchmarks, never part of `npm test`. Runs each bench/*.bench.ts through tsx, one process
// each, in order. `npm run bench -- NAME...` runs the files whose name contains a NAME. Each benchmark
// prints its own tables and hands its RESULTS.md section over through BENCH_RESULT_DIR; a full run (no
// filter) writes bench/RESULTS.md: the machine, then every section in file order.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const dir = fileURLToPath(new URL(".", import.meta.url));
const root = path.join(dir, "..");
const filters = process.argv.slice(2);
const ORDER = ["state", "sink", "relp", "e2e", "idle", "encoders", "hostile"];
const rank = (f) => {
  const i = ORDER.findIndex((name) => f.startsWith(`${name}.`));
  return i === -1 ? ORDER.length : i;
};
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
if (files.length === 0) {
  process.stderr.write(`no benchmark matches ${filters.join(", ")}\n`);
  process.exit(2);
}

const resultDir = mkdtempSync(path.join(os.tmpdir(), "mde-bench-results-"));
const started = new Date();
const runs = [];
try {
  for (const file of files) {
    const t0 = performance.now();
    process.stdout.write(`\n=== ${file} ===\n`);
    const result = spawnSync(process.execPath, ["--import", "tsx", `bench/${file}`], {
      cwd: root,
      stdio: "inherit",
      env: { ...process.env, BENCH_RESULT_DIR: resultDir },
    });
    const seconds = (performance.now() - t0) / 1000;
    runs.push({ file, seconds, ok: result.status === 0 });
    process.stdout.write(
      `=== ${file}: ${result.status === 0 ? "done" : "FAILED"} in ${seconds.toFixed(0)} s ===\n`,
    );
  }
  if (filters.length === 0) {
    writeFileSync(path.join(dir, "RESULTS.md"), resultsMarkdown());
    process.stdout.write("\nwrote bench/RESULTS.md\n");
  }
} finally {
  rmSync(resultDir, { recursive: true, force: true });
}
process.exit(runs.every((r) => r.ok) ? 0 : 1);

function resultsMarkdown() {
  const cpus = os.cpus();
  const total = runs.reduce((sum, r) => sum + r.seconds, 0);
  const lines = [
    "# Benchmark results",
    "",
    "Written by `npm run bench` (bench/run.mjs); every figure below comes from that one run.",
    "",
    `- Date: ${started.toISOString()}`,
    `- CPU: ${cpus[0]?.model.trim() ?? "unknown"}, ${cpus.length} logical CPUs`,
    `- Memory: ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `- OS: ${osName()} (${os.type()} ${os.release()}, ${os.arch()})`,
    `- Node: ${process.version}`,
    `- Run: ${runs.map((r) => `${r.file} ${r.seconds.toFixed(0)} s${r.ok ? "" : " (FAILED)"}`).join(", ")}; ${(total / 60).toFixed(1)} min in all`,
    "",
  ];
  for (const run of runs) {
    const file = path.join(resultDir, `${run.file.replace(/\.bench\.ts$/, "")}.md`);
    if (existsSync(file)) lines.push(readFileSync(file, "utf8").trimEnd(), "");
    else
      lines.push(`## ${run.file}`, "", run.ok ? "(no section written)" : "**failed**: see its output.", "");
  }
  return `${lines.join("\n").trimEnd()}\n`;
}

function osName() {
  try {
    const release = readFileSync("/etc/os-release", "utf8");
    return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(release)?.[1] ?? os.platform();
  } catch {
    return os.platform();
  }
}
