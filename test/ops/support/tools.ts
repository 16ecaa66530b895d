// What the ops tests run: external tools (prometheus, promtool, rsyslogd, systemd-analyze), child processes
// stopped and awaited, free ports, and a read-only root filesystem like `docker run --read-only`.
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { ROOT } from "../../support/forwarder.js";

export { ROOT };

/** The path of an executable found on PATH (or in the sbin directories, where rsyslogd lives), else undefined. */
export function findTool(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(":").concat(["/usr/sbin", "/sbin"])) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/**
 * A skip reason when `tool` is missing, or false. When `requiredBy` is set in the environment (CI), a missing
 * tool is not a skip: the returned value is false and the test fails on its own assertion.
 */
export function skipUnless(
  tool: string | undefined,
  what: string,
  requiredBy: string,
  install: string,
): string | false {
  if (tool !== undefined || process.env[requiredBy] === "1") return false;
  const reason = `${what} is not installed (${install})`;
  process.stderr.write(`ops: SKIPPED: ${reason}\n`);
  return reason;
}

export const REQUIRE_PROMETHEUS = "MDE_REQUIRE_PROMETHEUS";
export const prometheusBin = findTool("prometheus");
export const promtoolBin = findTool("promtool");
export const rsyslogdBin = findTool("rsyslogd");

/** The compiled CLI the image runs (`/app/dist/cli/main.js`); `npm run build` makes it (CI builds before testing). */
export const DIST_MAIN = join(ROOT, "dist/cli/main.js");

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** Polls `read` until it returns a value (for state only visible by asking: HTTP APIs, files). */
export async function waitFor<T>(
  what: string,
  read: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface Running {
  readonly child: ChildProcess;
  /** stdout and stderr so far. */
  readonly stdout: string[];
  readonly stderr: string[];
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when stdout (as one string) satisfies `test`; rejects when the process exits first. */
  waitForOutput(what: string, test: (stdout: string) => boolean, timeoutMs?: number): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit once it has happened. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function run(
  command: string,
  args: readonly string[],
  options: {
    env?: NodeJS.ProcessEnv;
    cwd?: string /** A file descriptor instead of a pipe. */;
    stdout?: number;
  } = {},
): Running {
  const child = spawn(command, args, {
    cwd: options.cwd ?? ROOT,
    env: options.env ?? process.env,
    stdio: ["ignore", options.stdout ?? "pipe", "pipe"],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const listeners = new Set<() => void>();
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    stdout.push(chunk);
    for (const l of listeners) l();
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => stderr.push(chunk));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("error", (err) => {
      stderr.push(String(err));
      resolve({ code: null, signal: null });
    });
    child.once("close", (code, signal) => {
      for (const l of listeners) l();
      resolve({ code, signal });
    });
  });
  let exited = false;
  void exit.then(() => {
    exited = true;
  });
  return {
    child,
    stdout,
    stderr,
    exit,
    waitForOutput(what, test, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        const check = () => {
          if (test(stdout.join(""))) {
            done();
            resolve();
          } else if (exited || child.exitCode !== null || child.signalCode !== null) {
            done();
            reject(new Error(`${command} exited before ${what}:\n${stderr.join("")}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out waiting for ${what}:\n${stderr.join("")}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
    async stop(graceMs = 10_000) {
      if (!exited && child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
        const result = await exit;
        clearTimeout(timer);
        return result;
      }
      return exit;
    },
  };
}

/** Runs a tool to completion (short commands: promtool, systemd-analyze). */
export function runSync(
  command: string,
  args: readonly string[],
  input?: string,
): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(command, args, { cwd: ROOT, input, encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

/**
 * Whether this process may make a private mount namespace with a read-only root (root with
 * CAP_SYS_ADMIN; not in every sandbox). Checked once.
 */
export const canMountReadOnly: boolean = (() => {
  if (process.getuid?.() !== 0 || findTool("unshare") === undefined) return false;
  try {
    execFileSync("unshare", ["-m", "--propagation", "private", "sh", "-c", "mount -o remount,bind,ro /"], {
      stdio: "ignore",
      timeout: 10_000,
    });
    return true;
  } catch {
    return false;
  }
})();

export interface ReadOnlyOptions {
  /** Directories that stay writable (the container's volumes). */
  writable: readonly string[];
  /** Run as this uid/gid (the image's non-root user), when we are root. */
  uid?: number;
}

/**
 * The command line that runs `argv` the way `read_only: true` runs a container: every mount read-only
 * except /proc, /sys, /dev and the given directories. Without the privilege for it, `argv` unchanged
 * (the caller says so with `canMountReadOnly`). The exec chain keeps one pid, so signals reach `argv[0]`.
 */
export function readOnlyRoot(argv: readonly string[], options: ReadOnlyOptions): string[] {
  if (!canMountReadOnly) return [...argv];
  // The volumes first: a bind mount made under a read-only mount would be read-only itself.
  const keep = ["/proc*", "/sys*", "/dev*", ...options.writable.map(shellQuote)].join("|");
  const script = [
    "set -e",
    ...options.writable.map((dir) => `mount --bind ${shellQuote(dir)} ${shellQuote(dir)}`),
    "mount -o remount,bind,ro /",
    // Every other mount read-only too, in case /tmp or the work tree are mounts of their own.
    `findmnt -rn -o TARGET | while read -r m; do case "$m" in ${keep}) ;; *) mount -o remount,bind,ro "$m" 2>/dev/null || true ;; esac; done`,
    options.uid === undefined
      ? 'exec "$@"'
      : `exec setpriv --reuid=${options.uid} --regid=${options.uid} --clear-groups -- "$@"`,
  ].join("\n");
  return ["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", ...argv];
}

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}
