// A minimal syslog receiver in its own process for the sink, RELP, end-to-end and idle benchmarks: TCP on
// 127.0.0.1, LF framing, counts messages and bytes without parsing them; or (`protocol: "relp"`) a RELP
// receiver that answers `open` and `close` and each `syslog` command with `rsp 200` at once, one write of
// answers per chunk read, the way librelp's server answers.
//   node --import tsx bench/support/receiver-process.ts '{"expect":100000,"mode":"count"}'
// Prints {"port"} once listening, then an Arrival {"reply": "done", ...} as soon as `expect` messages
// arrived, and one {"reply": "stats", ...} for each "stats" line on stdin. stdin closed: it exits.
// Modes: "count" (messages, bytes, first and last arrival); "arrival" also keeps each message's arrival
// time (ms since the epoch) and reports its quantiles; "latency" instead reports quantiles of arrival
// minus the CEF `rt=` value (the detection's LastProcessedTimeUtc in ms), its one look inside a message.
import net from "node:net";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { encodeFrame, RelpFrameParser } from "../../src/sink/relp-frame.js";

export interface ReceiverArgs {
  expect: number;
  mode: "count" | "arrival" | "latency";
  /** Default "tcp" (LF framing). "relp" counts syslog commands (mode "count" only). */
  protocol?: "tcp" | "relp";
}

export interface Quantiles {
  p50: number;
  p99: number;
  max: number;
}

export interface Arrival {
  /** "done": the answer sent once `expect` messages arrived; "stats": the answer to a "stats" command. */
  reply: "done" | "stats";
  /** Whether `expect` messages arrived. */
  done: boolean;
  messages: number;
  bytes: number;
  connections: number;
  /** ms since the epoch (performance.timeOrigin-based, sub-ms) of the first and the last byte that ended a message. */
  firstAt: number;
  lastAt: number;
  /** "arrival": quantiles of the arrival times (ms since the epoch); "latency": of arrival - rt (ms). */
  quantiles?: Quantiles;
  /** "latency": messages without a readable rt=. */
  unreadable?: number;
  /**
   * "latency": the late-visible detections (FullId `late-<group>-<visible ms>-<n>`, bench/support/sim-process.ts),
   * per group: how many arrived, and the quantiles of arrival - the time they became visible (ms).
   */
  late?: Record<string, { count: number; quantiles: Quantiles }>;
}

const LF = 0x0a;
const RT = Buffer.from(" rt=");
const LATE = Buffer.from(" cs3=late-");
const lateValues = new Map<string, number[]>();

/** A late-visible detection's group and arrival - visible time, from its FullId; false for another one. */
function keepLate(buf: Buffer, start: number, end: number, now: number): boolean {
  const at = buf.indexOf(LATE, start);
  if (at === -1 || at >= end) return false;
  const [group, visible] = buf
    .subarray(at + LATE.length, Math.min(end, at + LATE.length + 64))
    .toString("latin1")
    .split("-");
  if (group === undefined || visible === undefined) return false;
  let list = lateValues.get(group);
  if (list === undefined) {
    list = [];
    lateValues.set(group, list);
  }
  list.push(now - Number(visible));
  return true;
}

const args = JSON.parse(process.argv[2] ?? "{}") as ReceiverArgs;
let values = new Float64Array(Math.max(16, args.expect));
let messages = 0;
let bytes = 0;
let connections = 0;
let unreadable = 0;
let firstAt = 0;
let lastAt = 0;
let reported = false;

/** Values kept for the quantiles (in "latency" mode the late-visible detections are kept apart). */
let kept = 0;

function keep(value: number): void {
  if (kept >= values.length) {
    const bigger = new Float64Array(values.length * 2);
    bigger.set(values);
    values = bigger;
  }
  values[kept++] = value;
}

/** The digits after " rt=" in message[start, end), or NaN. */
function readRt(buf: Buffer, start: number, end: number): number {
  const at = buf.indexOf(RT, start);
  if (at === -1 || at >= end) return Number.NaN;
  let value = 0;
  let i = at + RT.length;
  for (; i < end; i++) {
    const c = buf[i] ?? 0;
    if (c < 0x30 || c > 0x39) break;
    value = value * 10 + (c - 0x30);
  }
  return i === at + RT.length ? Number.NaN : value;
}

const OPEN_ANSWER = Buffer.from("200 OK\nrelp_version=0\nrelp_software=bench\ncommands=syslog");
const OK = Buffer.from("200 OK");

/** RELP: every frame of a chunk handled, the answers written at once. */
function serveRelp(socket: net.Socket): void {
  const parser = new RelpFrameParser(16 * 1024 * 1024);
  socket.on("data", (chunk: Buffer) => {
    const now = performance.timeOrigin + performance.now();
    bytes += chunk.length;
    const answers: Buffer[] = [];
    let any = false;
    for (const frame of parser.push(chunk)) {
      if (frame.command === "open") answers.push(encodeFrame(frame.txnr, "rsp", OPEN_ANSWER));
      else if (frame.command === "close")
        answers.push(encodeFrame(frame.txnr, "rsp"), encodeFrame(0, "serverclose"));
      else if (frame.command === "syslog") {
        answers.push(encodeFrame(frame.txnr, "rsp", OK));
        messages++;
        any = true;
      }
    }
    if (answers.length > 0) socket.write(Buffer.concat(answers));
    if (any) {
      if (firstAt === 0) firstAt = now;
      lastAt = now;
      if (!reported && messages >= args.expect) {
        reported = true;
        report("done");
      }
    }
  });
}

const server = net.createServer((socket) => {
  connections++;
  if (args.protocol === "relp") {
    socket.on("error", () => undefined);
    serveRelp(socket);
    return;
  }
  let carry: Buffer | undefined;
  socket.on("data", (chunk: Buffer) => {
    const now = performance.timeOrigin + performance.now();
    bytes += chunk.length;
    let buf = chunk;
    if (args.mode === "latency" && carry !== undefined) buf = Buffer.concat([carry, chunk]);
    let start = 0;
    let any = false;
    for (let lf = buf.indexOf(LF); lf !== -1; lf = buf.indexOf(LF, start)) {
      if (args.mode === "arrival") keep(now);
      else if (args.mode === "latency") {
        if (!keepLate(buf, start, lf, now)) {
          const rt = readRt(buf, start, lf);
          if (Number.isNaN(rt)) unreadable++;
          keep(now - rt);
        }
      }
      messages++;
      any = true;
      start = lf + 1;
    }
    if (args.mode === "latency") carry = start < buf.length ? buf.subarray(start) : undefined;
    if (any) {
      if (firstAt === 0) firstAt = now;
      lastAt = now;
      if (!reported && messages >= args.expect) {
        reported = true;
        report("done");
      }
    }
  });
  socket.on("error", () => undefined);
});

function quantiles(): Quantiles | undefined {
  if (args.mode === "count" || kept === 0) return undefined;
  return quantilesOf(values.slice(0, kept));
}

function quantilesOf(list: Float64Array): Quantiles {
  const sorted = list.sort();
  const n = sorted.length;
  const at = (q: number) => sorted[Math.min(n - 1, Math.floor(q * n))] ?? Number.NaN;
  return { p50: at(0.5), p99: at(0.99), max: sorted[n - 1] ?? Number.NaN };
}

function report(reply: Arrival["reply"]): void {
  const arrival: Arrival = {
    reply,
    done: messages >= args.expect,
    messages,
    bytes,
    connections,
    firstAt,
    lastAt,
    quantiles: quantiles(),
    ...(args.mode === "latency"
      ? {
          unreadable,
          late: Object.fromEntries(
            [...lateValues].map(([group, list]) => [
              group,
              { count: list.length, quantiles: quantilesOf(Float64Array.from(list)) },
            ]),
          ),
        }
      : {}),
  };
  process.stdout.write(`${JSON.stringify(arrival)}\n`);
}

server.listen(0, "127.0.0.1", () => {
  const address = server.address() as net.AddressInfo;
  process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
});

const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  if (line === "stats") report("stats");
});
lines.once("close", () => {
  server.close();
  process.exit(0);
});
