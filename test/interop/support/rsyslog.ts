// rsyslog as a receiver for the RELP interop tests: finding rsyslogd and its imrelp module, and running it
// (-n, own config, own pid file) so that a test can kill -9 it, stop and continue it, and start it again on
// the same ports.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, readdirSync, rmSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";

export function findRsyslogd(): string | undefined {
  for (const path of ["/usr/sbin/rsyslogd", "/sbin/rsyslogd", "/usr/local/sbin/rsyslogd"]) {
    if (existsSync(path)) return path;
  }
  try {
    return execFileSync("sh", ["-c", "command -v rsyslogd"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** An rsyslog module file (`imrelp`, `omprog`): <libdir>/rsyslog/NAME.so, libdir possibly multiarch. */
export function findRsyslogModule(name: string): string | undefined {
  const candidates: string[] = [];
  for (const base of ["/usr/lib", "/usr/lib64", "/usr/local/lib", "/lib", "/lib64"]) {
    candidates.push(join(base, "rsyslog", `${name}.so`));
    try {
      for (const sub of readdirSync(base)) candidates.push(join(base, sub, "rsyslog", `${name}.so`));
    } catch {
      // No such directory.
    }
  }
  return candidates.find((file) => existsSync(file));
}

/** A port nothing listens on now (rsyslog's imrelp cannot report the port it picked). */
export async function freeTcpPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

export interface Rsyslog {
  /** Starts rsyslogd and resolves once every port accepts connections. */
  start(): Promise<void>;
  /** kill -9; resolves once it has exited. */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT. */
  pause(): void;
  resume(): void;
  /** SIGTERM (and SIGCONT, in case it is stopped); resolves once it has exited. Idempotent. */
  stop(): Promise<void>;
}

export function rsyslogProcess(
  rsyslogd: string,
  dir: string,
  configFile: string,
  ports: readonly number[],
): Rsyslog {
  let child: ChildProcess | undefined;
  let starts = 0;
  const running = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  const exited = async () => {
    if (child && running()) await once(child, "exit");
  };
  return {
    async start() {
      // A fresh pid file each time: the one a kill -9 left behind must not stop the restart.
      const pidFile = join(dir, `rsyslog-${++starts}.pid`);
      rmSync(pidFile, { force: true });
      child = spawn(rsyslogd, ["-n", "-f", configFile, "-i", pidFile], {
        stdio: ["ignore", "inherit", "inherit"],
      });
      const deadline = Date.now() + 15_000;
      for (const port of ports) {
        while (!(await accepts(port))) {
          if (!running()) throw new Error(`rsyslogd exited at start (config ${configFile})`);
          if (Date.now() > deadline) throw new Error(`rsyslogd did not listen on ${port}`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    },
    async kill() {
      if (!running()) return;
      const done = exited();
      child?.kill("SIGKILL");
      await done;
    },
    pause() {
      if (running()) child?.kill("SIGSTOP");
    },
    resume() {
      if (running()) child?.kill("SIGCONT");
    },
    async stop() {
      if (!running()) return;
      const done = exited();
      child?.kill("SIGCONT");
      child?.kill("SIGTERM");
      await done;
    },
  };
}
