// Encoders alone: CEF, LEEF and JSON messages per second on the Microsoft example detection, against
// JSON.stringify of the same detection as the yardstick. A first slice of issue 7's benchmark.
import { readFileSync } from "node:fs";
import { arch, cpus, platform } from "node:os";
import { createFormatter } from "../src/format/index.js";
import type { Detection } from "../src/record.js";

const detection = JSON.parse(
  readFileSync(new URL("../test/fixtures/detections/microsoft-example.json", import.meta.url), "utf8"),
) as Detection;

function measure(name: string, fn: () => unknown, seconds = 1.5): { name: string; perSecond: number } {
  for (let i = 0; i < 5_000; i++) fn(); // warm-up
  let n = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 1_000; i++) fn();
    n += 1_000;
  }
  return { name, perSecond: n / ((performance.now() - start) / 1000) };
}

const base = {
  syslog_header: "rfc5424",
  facility: "local0",
  app_name: "mde-forwarder",
  leef_version: "2.0",
} as const;
const fixed = { clock: () => new Date("2026-11-30T00:00:00Z"), hostname: "bench" };
const cef = createFormatter({ ...base, format: "cef" }, fixed);
const leef = createFormatter({ ...base, format: "leef" }, fixed);
const json = createFormatter({ ...base, format: "json" }, fixed);
const rows = [
  measure("JSON.stringify (yardstick)", () => JSON.stringify(detection)),
  measure("cef + rfc5424", () => cef.format(detection)),
  measure("leef 2.0 + rfc5424", () => leef.format(detection)),
  measure("json + rfc5424", () => json.format(detection)),
];

console.log(`encoders: node ${process.version}, ${platform()}/${arch()}, ${cpus()[0]?.model ?? "cpu"}`);
const yardstick = rows[0]?.perSecond ?? 1;
for (const r of rows) {
  console.log(
    `  ${r.name.padEnd(28)} ${Math.round(r.perSecond).toLocaleString("en").padStart(12)} /s  ${(r.perSecond / yardstick).toFixed(2)}x`,
  );
}
