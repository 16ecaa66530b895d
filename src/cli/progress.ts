// The progress line of a long `once` backfill on a terminal: parts of the window read, detections, rate.
// Rewritten in place at most four times a second; nothing is printed when stderr is not a terminal.
import type { PollProgress } from "../pipeline/poll.js";

export interface ProgressLine {
  update(progress: PollProgress): void;
  /** Ends the line (a newline) if anything was printed. */
  done(): void;
}

export function createProgressLine(stream: NodeJS.WriteStream = process.stderr): ProgressLine {
  if (!stream.isTTY) return { update() {}, done() {} };
  const latest = new Map<string, PollProgress>();
  // Not 0: performance.now() starts at the process start, and the first update must always print.
  let lastPrint = Number.NEGATIVE_INFINITY;
  let printed = false;
  const print = () => {
    const parts = [...latest.values()].map((p) => {
      const rate = p.elapsedMs > 0 ? Math.round((p.received / p.elapsedMs) * 1000) : 0;
      return `${p.tenant}: ${p.parts} windows, ${p.received.toLocaleString("en")} detections (${p.inserted.toLocaleString("en")} new), ${rate.toLocaleString("en")}/s`;
    });
    stream.write(`\r\x1b[2K${parts.join(" | ")}`);
    printed = true;
  };
  return {
    update(progress) {
      latest.set(progress.tenant, progress);
      const now = performance.now();
      if (now - lastPrint < 250) return;
      lastPrint = now;
      print();
    },
    done() {
      if (latest.size > 0) print();
      if (printed) stream.write("\n");
    },
  };
}
