// The `once` progress line on a terminal (issue 14, finding 6): a fake TTY stream and a small terminal
// emulator show what the operator sees: log lines never overwrite or collide with the line, which shows
// the time range read, received, new and delivered counts and the rate.
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import { createProgressLine, render } from "../../../src/cli/progress.js";
import type { PollProgress } from "../../../src/pipeline/poll.js";

function terminal(isTTY: boolean, columns?: number) {
  const stream = new PassThrough() as PassThrough & { isTTY: boolean; columns?: number };
  stream.isTTY = isTTY;
  stream.columns = columns;
  const chunks: string[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c.toString()));
  return { stream: stream as unknown as NodeJS.WriteStream, text: () => chunks.join("") };
}

/** What a terminal shows after `text`: \r goes to column 0, ESC[2K clears the line, \n starts a new one. */
function screen(text: string): string[] {
  const lines: string[] = [""];
  let col = 0;
  for (let i = 0; i < text.length; i++) {
    const row = lines.length - 1;
    if (text.startsWith("\u001b[2K", i)) {
      lines[row] = "";
      i += 3;
    } else if (text[i] === "\r") {
      col = 0;
    } else if (text[i] === "\n") {
      lines.push("");
      col = 0;
    } else {
      const line = (lines[row] ?? "").padEnd(col);
      lines[row] = line.slice(0, col) + text[i] + line.slice(col + 1);
      col++;
    }
  }
  return lines;
}

function progress(over: Partial<PollProgress> = {}): PollProgress {
  return {
    tenant: "contoso",
    from: "2024-11-28T18:28:36.1234567Z",
    to: "2024-12-05T20:28:36.0000000Z",
    reached: "2024-12-01T04:00:00.5000000Z",
    parts: 3,
    received: 12_000,
    inserted: 11_000,
    elapsedMs: 2_000,
    ...over,
  };
}

test("finding 6: the line shows the time range read, received, new and delivered counts and the rate", () => {
  assert.equal(
    render([progress()], 9_800),
    "contoso 11-28 18:28:36 → 12-01 04:00:00 UTC (to 12-05 20:28:36): 12,000 received, 11,000 new | 9,800 delivered | 6,000/s",
  );
  assert.match(
    render([progress({ reached: undefined, received: 0, inserted: 0 })], 0),
    /11-28 18:28:36 → … UTC/,
  );
  const two = render([progress(), progress({ tenant: "fabrikam", received: 4_000, elapsedMs: 4_000 })], 0);
  assert.match(
    two,
    /^contoso .* \| fabrikam .* \| 0 delivered \| 4,000\/s$/,
    "both tenants; the rate over the longest",
  );
});

test("finding 6: on a terminal the line is rewritten in place at most four times a second, and ended at the end", () => {
  const t = terminal(true);
  let clock = 1_000;
  const line = createProgressLine(t.stream, { now: () => clock });
  line.update(progress());
  clock += 100;
  line.update(progress({ received: 15_000 })); // throttled
  line.delivered(500); // throttled
  assert.equal(screen(t.text()).length, 1, "one line so far");
  assert.match(screen(t.text())[0] ?? "", /12,000 received.* 0 delivered/);
  clock += 200;
  line.delivered(9_800);
  assert.match(screen(t.text())[0] ?? "", /15,000 received.* 9,800 delivered/);
  line.done();
  assert.deepEqual(screen(t.text()).slice(1), [""], "ended with a newline");
  assert.equal(t.text().split("\n").length, 2);
});

test("finding 6: a log line never lands on the progress line: cleared, written, the line drawn again below", () => {
  const t = terminal(true);
  const line = createProgressLine(t.stream, { now: () => 0 });
  // The logger writes to the same terminal (stdout and stderr both on it).
  const log = line.wrap({ write: (msg: string) => t.stream.write(msg) });
  log.write("2024-12-05T12:17:36.800Z INFO  [poll] Before any progress.\n");
  line.update(progress());
  log.write("2024-12-05T12:17:36.820Z INFO  [poll] Poll finished.\n");
  line.delivered(100);
  log.write("2024-12-05T12:17:37.000Z WARN  [drain] Send failed.\n");
  line.done();
  const shown = screen(t.text());
  assert.deepEqual(shown.slice(0, 3), [
    "2024-12-05T12:17:36.800Z INFO  [poll] Before any progress.",
    "2024-12-05T12:17:36.820Z INFO  [poll] Poll finished.",
    "2024-12-05T12:17:37.000Z WARN  [drain] Send failed.",
  ]);
  assert.match(shown[3] ?? "", /^contoso 11-28 18:28:36 → 12-01 04:00:00 UTC .* 100 delivered \| 6,000\/s$/);
  assert.equal(shown[4], "");
  assert.equal(shown.length, 5);
});

test("finding 6: a line wider than the terminal is cut, so that it never wraps and can always be cleared", () => {
  const t = terminal(true, 60);
  const line = createProgressLine(t.stream, { now: () => 0 });
  line.update(progress());
  line.done();
  const first = screen(t.text())[0] ?? "";
  assert.ok(first.length < 60, first);
  assert.ok(first.endsWith("…"));
});

test("not a terminal: nothing at all, and log lines pass through untouched", () => {
  const t = terminal(false);
  const line = createProgressLine(t.stream);
  assert.equal(line.active, false);
  const written: string[] = [];
  line.wrap({ write: (msg: string) => written.push(msg) }).write("a log line\n");
  line.update(progress());
  line.delivered(1);
  line.done();
  assert.equal(t.text(), "");
  assert.deepEqual(written, ["a log line\n"]);
});
