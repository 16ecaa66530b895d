// An rsyslog omprog program (confirmMessages="on") for the interop fault test: a slow action that writes
// each message before it confirms it. It answers OK once ready, then for each line on stdin waits
// `delayMs`, appends the line to FILE (a write(2): in the page cache, so it survives a kill -9 of
// rsyslog) and only then answers OK. With rsyslog's queues in Direct mode, imrelp answers `rsp 200` after
// that OK: the acknowledgement means "written". Plain JavaScript: rsyslog starts it with node, no tsx.
//   node slow-writer.mjs FILE DELAY_MS
import { openSync, writeSync } from "node:fs";

const [file, delayText] = process.argv.slice(2);
const delayMs = Number(delayText ?? "1");
const fd = openSync(file ?? "out.log", "a");
const lines = [];
let pending = "";
let busy = false;

function next() {
  if (busy) return;
  const line = lines.shift();
  if (line === undefined) return;
  busy = true;
  setTimeout(() => {
    writeSync(fd, `${line}\n`);
    busy = false;
    process.stdout.write("OK\n");
    next();
  }, delayMs);
}

process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => {
  pending += chunk;
  const parts = pending.split("\n");
  pending = parts.pop() ?? "";
  lines.push(...parts);
  next();
});
// rsyslog gone (stopped or killed): nothing more will come.
process.stdin.on("end", () => process.exit(0));
process.stdout.on("error", () => process.exit(0));
process.stdout.write("OK\n");
