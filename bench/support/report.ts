// How a benchmark reports: markdown tables printed on stdout and, under `npm run bench` without a filter,
// written as one section of bench/RESULTS.md (bench/run.mjs collects them from BENCH_RESULT_DIR).
import { writeFileSync } from "node:fs";
import path from "node:path";

export type Cell = string | number;

export interface TargetResult {
  /** The target as the issue states it. */
  readonly target: string;
  /** The figures it is judged on. */
  readonly measured: string;
  readonly met: boolean;
}

/** A markdown table with aligned columns (readable on a terminal as well). */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly Cell[]>): string {
  const text = rows.map((row) => row.map((cell) => (typeof cell === "number" ? num(cell) : cell)));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((row) => (row[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(" | ")} |`;
  const rule = `| ${widths.map((w, i) => (i === 0 ? "-".repeat(w) : `${"-".repeat(Math.max(1, w - 1))}:`)).join(" | ")} |`;
  return [line(headers), rule, ...text.map(line)].join("\n");
}

export function targetsTable(results: readonly TargetResult[]): string {
  return table(
    ["target", "measured", "met"],
    results.map((r) => [r.target, r.measured, r.met ? "met" : "**not met**"]),
  );
}

/** Prints the section and hands it to bench/run.mjs for RESULTS.md. `name` is the bench file's stem. */
export function publish(name: string, markdown: string): void {
  console.log(`\n${markdown}\n`);
  const dir = process.env.BENCH_RESULT_DIR;
  if (dir !== undefined && dir !== "") writeFileSync(path.join(dir, `${name}.md`), `${markdown}\n`);
}

/** Thousands separators for large numbers, 3 significant digits for small ones. */
export function num(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 100) return Math.round(value).toLocaleString("en");
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toPrecision(3);
}

export function seconds(ms: number): string {
  return `${num(ms / 1000)} s`;
}

export function megabytes(bytes: number): string {
  return `${num(bytes / 1_048_576)} MB`;
}

export function ratio(value: number): string {
  return `${value.toFixed(2)}x`;
}

/** A count: a whole number with thousands separators. */
export function count(value: number): string {
  return Math.round(value).toLocaleString("en");
}
