// The forwarder as a real process from the build output (dist/), as an operator runs it, with its peak RSS:
// `/usr/bin/time -v` when present (exact), else VmHWM sampled from /proc every 100 ms.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { stringify } from "yaml";
import { DEMO_TENANT } from "../../src/simulator/index.js";
import { ROOT, watchPeakRss } from "./processes.js";

const TIME = "/usr/bin/time";

/** `npm run build`; returns how long it took (ms). Throws with tsc's output when it fails. */
export function buildDist(): number {
  const start = performance.now();
  const result = spawnSync("npm", ["run", "build", "--silent"], { cwd: ROOT, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`npm run build failed:\n${result.stdout}\n${result.stderr}`);
  return performance.now() - start;
}

export interface BenchConfigOptions {
  simUrl: string;
  receiverPort: number;
  stateDir: string;
  schedule?: string;
  poll?: Record<string, unknown>;
}

/** A config file as an operator writes it: one tenant on the simulator, one TCP CEF destination, defaults elsewhere. */
export function writeBenchConfig(o: BenchConfigOptions): string {
  const config = {
    tenants: [
      {
        name: "bench",
        tenant_id: DEMO_TENANT.tenantId,
        client_id: DEMO_TENANT.clientId,
        client_secret: DEMO_TENANT.clientSecret,
        api_url: o.simUrl,
        authority_host: o.simUrl,
      },
    ],
    // A schedule that never fires during a `once` unless given; lookback (default 2 h) covers the backlog.
    poll: { schedule: o.schedule ?? "0 0 1 1 *", ...o.poll },
    state: { path: path.join(o.stateDir, "state.db") },
    destinations: [{ name: "siem", format: "cef", protocol: "tcp", host: "127.0.0.1", port: o.receiverPort }],
    metrics: { enabled: false },
    log: { level: "info", format: "json" },
  };
  const file = path.join(o.stateDir, "forwarder.yaml");
  writeFileSync(file, stringify(config));
  return file;
}

export interface ForwarderRun {
  readonly child: ChildProcess;
  /** The node process itself (not /usr/bin/time). */
  readonly pid: number;
  /** Resolves at exit with the exit code and the peak RSS in bytes. */
  readonly exited: Promise<{ code: number | null; peakRss: number; cpuMs: number; output: string }>;
  /** Signals the node process (a signal to /usr/bin/time would not reach it). No-op once it exited. */
  signal(signal: NodeJS.Signals): void;
}

export function startForwarder(args: string[], options: { nodeArgs?: string[] } = {}): ForwarderRun {
  const node = [process.execPath, ...(options.nodeArgs ?? []), path.join(ROOT, "dist/cli/main.js"), ...args];
  const timed = existsSync(TIME);
  const [command, ...argv] = timed ? [TIME, "-v", ...node] : node;
  const child = spawn(command ?? process.execPath, argv, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  // The forwarder's log (stdout) and progress (stderr): only the tail is kept, for failures.
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-20_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const pid = timed ? childPidOf(child.pid ?? 0) : (child.pid ?? 0);
  const watch = timed ? undefined : watchPeakRss(pid);
  const exited = once(child, "exit").then(([code]) => {
    const fromTime = /Maximum resident set size \(kbytes\): (\d+)/.exec(output)?.[1];
    const peakRss = fromTime !== undefined ? Number(fromTime) * 1024 : (watch?.stop() ?? 0);
    // utime + stime as /usr/bin/time reports them (NaN without it).
    const user = /User time \(seconds\): ([\d.]+)/.exec(output)?.[1];
    const system = /System time \(seconds\): ([\d.]+)/.exec(output)?.[1];
    const cpuMs =
      user !== undefined && system !== undefined ? (Number(user) + Number(system)) * 1000 : Number.NaN;
    return { code: code as number | null, peakRss, cpuMs, output };
  });
  let done = false;
  void exited.then(() => {
    done = true;
  });
  return {
    child,
    pid,
    exited,
    signal(signal) {
      if (done) return;
      try {
        process.kill(pid, signal);
      } catch {
        // Already gone.
      }
    },
  };
}

/** /usr/bin/time forks node at once: its pid is time's only child (waited for briefly). */
function childPidOf(pid: number): number {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < 1_000; i++) {
    const child = Number(readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(" ")[0]);
    if (child > 0) return child;
    Atomics.wait(pause, 0, 0, 2);
  }
  throw new Error(`no child of ${pid}`);
}
