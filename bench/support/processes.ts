// Helper processes of the benchmarks (simulator, receiver, floor) and what /proc says about a process.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { Arrival, ReceiverArgs } from "./receiver-process.js";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** A child that speaks JSON lines on stdout and takes commands on stdin. */
export interface JsonChild {
  readonly child: ChildProcess;
  /** The next (or an already received, not yet taken) JSON line matching `predicate`. */
  next<T>(predicate: (line: Record<string, unknown>) => boolean, what: string): Promise<T>;
  send(command: string): void;
  /** Closes its stdin (the helpers exit on that) and waits for the exit. */
  close(): Promise<void>;
  readonly stderr: string[];
}

export function startJsonChild(
  script: string,
  args: unknown,
  options: { nodeArgs?: string[] } = {},
): JsonChild {
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), "--import", "tsx", path.join(ROOT, script), JSON.stringify(args)],
    { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] },
  );
  const pending: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  const stderr: string[] = [];
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => stderr.push(chunk));
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
    if (!line.startsWith("{")) return;
    pending.push(JSON.parse(line) as Record<string, unknown>);
    for (const w of waiters) w();
  });
  let exited = false;
  const exit = once(child, "exit").then(() => {
    exited = true;
    for (const w of waiters) w();
  });
  return {
    child,
    stderr,
    next<T>(predicate: (line: Record<string, unknown>) => boolean, what: string) {
      return new Promise<T>((resolve, reject) => {
        const check = () => {
          const i = pending.findIndex(predicate);
          if (i !== -1) {
            waiters.delete(check);
            resolve(pending.splice(i, 1)[0] as T);
          } else if (exited) {
            waiters.delete(check);
            reject(new Error(`${script} exited before ${what}: ${stderr.join("").slice(-2000)}`));
          }
        };
        waiters.add(check);
        check();
      });
    },
    send(command) {
      if (!exited) child.stdin?.write(`${command}\n`);
    },
    async close() {
      if (!exited) child.stdin?.end();
      await exit;
    },
  };
}

export interface ReceiverChild {
  readonly port: number;
  /** Resolves once `expect` messages arrived. */
  readonly arrived: Promise<Arrival>;
  stats(): Promise<Arrival>;
  close(): Promise<void>;
}

export async function startReceiverProcess(args: ReceiverArgs): Promise<ReceiverChild> {
  const proc = startJsonChild("bench/support/receiver-process.ts", args);
  const { port } = await proc.next<{ port: number }>((l) => "port" in l, "listening");
  const arrived = proc.next<Arrival>((l) => l.reply === "done", "the last message");
  arrived.catch(() => undefined);
  return {
    port,
    arrived,
    async stats() {
      const answer = proc.next<Arrival>((l) => l.reply === "stats", "stats");
      proc.send("stats");
      return answer;
    },
    close: () => proc.close(),
  };
}

/** ms since the epoch, sub-ms: comparable with the receiver's arrival times. */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

/** VmHWM (peak RSS) and VmRSS of a live process, in bytes; undefined once it is gone. */
export function memoryOf(pid: number): { hwm: number; rss: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (key: string) =>
      Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0) * 1024;
    return { hwm: kb("VmHWM"), rss: kb("VmRSS") };
  } catch {
    return undefined;
  }
}

/** utime + stime of a process, in clock ticks (USER_HZ, 100 on Linux). */
export function cpuTicksOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may contain spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

export const CLOCK_TICKS_PER_SECOND = 100;

/** Samples a process' peak RSS until stopped; the last good sample is kept, since /proc goes with the process. */
export function watchPeakRss(pid: number, everyMs = 100): { stop(): number } {
  let peak = 0;
  const sample = () => {
    const m = memoryOf(pid);
    if (m !== undefined) peak = Math.max(peak, m.hwm);
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      sample();
      clearInterval(timer);
      return peak;
    },
  };
}

export function loadAverage(): string {
  try {
    return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  } catch {
    return "n/a";
  }
}
