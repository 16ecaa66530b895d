// The progress line of a long `once` backfill on a terminal: per tenant the time range read so far,
// detections received and new; then the events delivered and the rate. Rewritten in place at most four
// times a second. Log lines never collide with it: wrap() gives the logger an output that clears the
// line, writes the log line, and draws the progress line again below it. Nothing is printed when the
// stream is not a terminal.
import type { PollProgress } from "../pipeline/poll.js";

export interface ProgressLine {
  /** Whether anything can be shown (the stream is a terminal). */
  readonly active: boolean;
  update(progress: PollProgress): void;
  /** Events confirmed sent so far, all destinations together. */
  delivered(count: number): void;
  /** An output for log lines that keeps them off the progress line. */
  wrap<T extends { write(msg: string): unknown }>(out: T): { write(msg: string): void };
  /** Prints the final state and ends the line (a newline) if anything was printed. */
  done(): void;
}

export interface ProgressOptions {
  /** Milliseconds, monotonic (tests pass their own). */
  now?: () => number;
}

const CLEAR = "\r\u001b[2K";
/** The line is not redrawn more often than this, so a fast backfill does not flood the terminal. */
const MIN_INTERVAL_MS = 250;

export function createProgressLine(
  stream: NodeJS.WriteStream = process.stderr,
  options: ProgressOptions = {},
): ProgressLine {
  if (!stream.isTTY) {
    return {
      active: false,
      update() {},
      delivered() {},
      wrap: (out) => out as { write(msg: string): void },
      done() {},
    };
  }
  const now = options.now ?? (() => performance.now());
  const latest = new Map<string, PollProgress>();
  let sent = 0;
  // Not 0: performance.now() starts at the process start, and the first update must always print.
  let lastPrint = Number.NEGATIVE_INFINITY;
  /** The line is on screen (printed and not cleared). */
  let shown = false;
  let finished = false;

  const draw = () => {
    if (latest.size === 0 || finished) return;
    stream.write(`${CLEAR}${fit(render([...latest.values()], sent), stream.columns)}`);
    shown = true;
    lastPrint = now();
  };
  const throttled = () => {
    if (now() - lastPrint >= MIN_INTERVAL_MS) draw();
  };

  return {
    active: true,
    update(progress) {
      latest.set(progress.tenant, progress);
      throttled();
    },
    delivered(count) {
      sent = count;
      throttled();
    },
    wrap(out) {
      return {
        write(msg: string) {
          if (shown) {
            stream.write(CLEAR);
            shown = false;
          }
          out.write(msg);
          // Below the log line, at once: it must not look as if the backfill stopped.
          draw();
        },
      };
    },
    done() {
      if (latest.size > 0) draw();
      if (shown) stream.write("\n");
      shown = false;
      finished = true;
    },
  };
}

/**
 * `contoso 11-28 18:28:36 → 12-01 04:00:00 UTC (to 12-05 20:28:36): 12,000 received, 11,000 new |
 * 9,800 delivered | 6,000/s` (one line; tenants separated by ` | `).
 */
export function render(tenants: readonly PollProgress[], delivered: number): string {
  const n = (value: number) => value.toLocaleString("en");
  const parts = tenants.map((p) => {
    const range = `${when(p.from)} → ${p.reached === undefined ? "…" : when(p.reached)} UTC (to ${when(p.to)})`;
    return `${p.tenant} ${range}: ${n(p.received)} received, ${n(p.inserted)} new`;
  });
  const received = tenants.reduce((sum, p) => sum + p.received, 0);
  const elapsed = Math.max(0, ...tenants.map((p) => p.elapsedMs));
  const rate = elapsed > 0 ? Math.round((received / elapsed) * 1000) : 0;
  return [...parts, `${n(delivered)} delivered`, `${n(rate)}/s`].join(" | ");
}

/** `12-01 04:00:00` from a 100-ns timestamp (`2024-12-01T04:00:00.1234567Z`); as is if it is not one. */
function when(timestamp: string): string {
  const m = /^\d{4}-(\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})/.exec(timestamp);
  return m ? `${m[1]} ${m[2]}` : timestamp;
}

/** A line longer than the terminal would wrap, and `\r` could then no longer clear it: cut it. */
function fit(line: string, columns: number | undefined): string {
  if (columns === undefined || columns <= 1 || line.length < columns) return line;
  return `${line.slice(0, columns - 2)}…`;
}
