// Shared bits of the sink tests: transport options with test-friendly defaults, numbered
// messages and their ids, and a recorder for the transitions of `up`.
import net from "node:net";
import type { ForwarderError } from "../../../src/errors.js";
import { createEvents } from "../../../src/events/index.js";
import { createLogger, type Logger, silentLogger } from "../../../src/log.js";
import { createMetrics } from "../../../src/metrics/definitions.js";
import type { SinkDeps, SinkOptions } from "../../../src/sink/index.js";

export function sinkOptions(overrides: Partial<SinkOptions> & { port: number }): SinkOptions {
  return {
    name: "test",
    protocol: "tcp",
    host: "127.0.0.1",
    framing: "lf",
    tls: { reject_unauthorized: true },
    connect_timeout: 5_000,
    write_timeout: 5_000,
    ...overrides,
  };
}

export interface UpRecorder {
  readonly calls: Array<[boolean, string | undefined]>;
  readonly onUpChange: (up: boolean, error?: ForwarderError) => void;
}

/** Records every transition of `up` as [up, error code]. */
export function recordUp(): UpRecorder {
  const calls: Array<[boolean, string | undefined]> = [];
  return { calls, onUpChange: (up: boolean, error?: ForwarderError) => calls.push([up, error?.code]) };
}

/** The sink's deps, with what a test observes given as callbacks. */
export interface TestSinkDeps extends Partial<Omit<SinkDeps, "events">> {
  /** Each transition of `up` (destinationUp, and destinationDown when it was not down already). */
  onUpChange?: (up: boolean, error?: ForwarderError) => void;
  /** Rotated TLS files that do not validate (tlsFilesInvalid). */
  onError?: (error: ForwarderError) => void;
}

/**
 * Deps for createSink: the real events on a registry of their own (so that their lines are written as in
 * the daemon), which also tell the test's callbacks.
 */
export function sinkDeps({ onUpChange, onError, ...extra }: TestSinkDeps = {}): SinkDeps {
  const events = createEvents({ metrics: createMetrics({ defaultMetrics: false }) });
  return {
    log: silentLogger(),
    confirmAfterMs: 50,
    ...extra,
    events: {
      destinationUp(log, endpoint, recovered) {
        events.destinationUp(log, endpoint, recovered);
        onUpChange?.(true);
      },
      destinationDown(log, endpoint, error, alreadyDown) {
        events.destinationDown(log, endpoint, error, alreadyDown);
        if (!alreadyDown) onUpChange?.(false, error);
      },
      tlsFilesInvalid(log, destination, error, files) {
        events.tlsFilesInvalid(log, destination, error, files);
        onError?.(error);
      },
    },
  };
}

/** `<134>1 - test - - - - msg id=<n> ...`: recognisable, and the id survives any framing. */
export function message(id: number, extra = ""): string {
  return `<134>1 2024-01-01T00:00:00Z host mde - - - msg id=${id}${extra}`;
}

export function idOf(text: string): number {
  const m = / id=(\d+)/.exec(text);
  return m ? Number(m[1]) : -1;
}

export function batches(total: number, size: number): string[][] {
  const out: string[][] = [];
  for (let start = 0; start < total; start += size) {
    out.push(Array.from({ length: Math.min(size, total - start) }, (_, i) => message(start + i)));
  }
  return out;
}

/** A port nothing listens on (it was free a moment ago). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address !== "object") throw new Error("no port");
  return address.port;
}

/** Lets pending I/O callbacks run: a few turns of the event loop. */
export async function turns(n = 5): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Tracks whether a promise settled, without changing it. */
export function watch<T>(promise: Promise<T>): { readonly settled: boolean; promise: Promise<T> } {
  const state = { settled: false, promise };
  promise.then(
    () => {
      state.settled = true;
    },
    () => {
      state.settled = true;
    },
  );
  return state;
}

export function isCode(code: string): (err: unknown) => boolean {
  return (err: unknown) => {
    const actual = (err as { code?: unknown }).code;
    if (actual !== code) throw new Error(`expected ${code}, got ${String(actual)}: ${String(err)}`);
    return true;
  };
}

export interface LogLine {
  level: string;
  msg: string;
  [key: string]: unknown;
}

export interface LogCapture {
  readonly log: Logger;
  /** Every line so far (debug and up), parsed. */
  readonly lines: LogLine[];
  /** Resolves with the first line (past or future) matching; rejects after `timeoutMs`. */
  waitFor(predicate: (line: LogLine) => boolean, what: string, timeoutMs?: number): Promise<LogLine>;
}

/** A real pino logger (the forwarder's format) whose lines the test can read and await. */
export function captureLog(): LogCapture {
  const lines: LogLine[] = [];
  const waiters = new Set<() => void>();
  const log = createLogger({
    level: "debug",
    destination: {
      write(text: string) {
        lines.push(JSON.parse(text) as LogLine);
        for (const w of waiters) w();
      },
    },
  });
  return {
    log,
    lines,
    waitFor(predicate, what, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = lines.find(predicate);
          if (found === undefined) return;
          done();
          resolve(found);
        };
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out waiting for log: ${what}\n${lines.map((l) => l.msg).join("\n")}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}
