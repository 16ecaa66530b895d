import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import { createProgressLine } from "../../../src/cli/progress.js";

function terminal(isTTY: boolean) {
  const stream = new PassThrough() as PassThrough & { isTTY: boolean };
  stream.isTTY = isTTY;
  const chunks: string[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c.toString()));
  return { stream: stream as unknown as NodeJS.WriteStream, text: () => chunks.join("") };
}

test("on a terminal: one line rewritten in place, rate and counts, a newline at the end", () => {
  const t = terminal(true);
  const line = createProgressLine(t.stream);
  line.update({ tenant: "contoso", parts: 3, received: 12_000, inserted: 11_000, elapsedMs: 2_000 });
  line.update({ tenant: "contoso", parts: 4, received: 15_000, inserted: 14_000, elapsedMs: 2_100 }); // throttled
  line.done();
  const text = t.text();
  const clearLine = "\r\u001b[2K";
  assert.ok(text.startsWith(`${clearLine}contoso: 3 windows, 12,000 detections (11,000 new), 6,000/s`), text);
  assert.match(
    text,
    /contoso: 4 windows, 15,000 detections \(14,000 new\), 7,143\/s\n$/,
    "done prints the latest",
  );
  assert.equal(text.split("\n").length, 2, "one line");
});

test("not a terminal: nothing at all", () => {
  const t = terminal(false);
  const line = createProgressLine(t.stream);
  line.update({ tenant: "contoso", parts: 1, received: 1, inserted: 1, elapsedMs: 1 });
  line.done();
  assert.equal(t.text(), "");
});
