// Log output: JSON lines by default, one readable line per entry on a terminal (log.format), secrets
// redacted either way.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ForwarderError } from "../../src/errors.js";
import { createLogger, type LogOptions } from "../../src/log.js";
import { formatLine } from "../../src/log-pretty.js";

/** A logger whose output is collected, one string per write. */
function capture(options: Omit<LogOptions, "destination" | "level"> & { level?: LogOptions["level"] }) {
  const writes: string[] = [];
  const log = createLogger({
    level: "info",
    ...options,
    destination: { write: (s: string) => writes.push(s) },
  });
  return { log, writes };
}

const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z /;

test("pretty: one line per entry with time, level, module, message and fields", () => {
  const { log, writes } = capture({ format: "pretty", color: false });
  log
    .child({ module: "pipeline" })
    .info({ component: "poll", tenant: "contoso", received: 12, new: 3 }, "Poll finished.");
  log.warn({ destination: "siem", pending: { siem: 4 }, tags: ["a", "b"] }, "Outbox growing.");
  log.info({ note: "two words", empty: "", nothing: null }, "Quoted.");
  log.debug("Below the level: not written.");

  assert.equal(writes.length, 3);
  for (const w of writes) {
    assert.match(w, TIME);
    assert.ok(w.endsWith("\n") && w.indexOf("\n") === w.length - 1, `one line: ${JSON.stringify(w)}`);
  }
  assert.equal(
    writes[0]?.replace(TIME, ""),
    "INFO  [pipeline/poll] Poll finished. tenant=contoso received=12 new=3\n",
  );
  assert.equal(
    writes[1]?.replace(TIME, ""),
    'WARN  Outbox growing. destination=siem pending.siem=4 tags=["a","b"]\n',
  );
  assert.equal(writes[2]?.replace(TIME, ""), 'INFO  Quoted. note="two words" empty="" nothing=null\n');
});

test("pretty: an error's fields are shown (code, details), its stack is not", () => {
  const { log, writes } = capture({ format: "pretty", color: false });
  const err = new ForwarderError("E_SINK_CONNECT", "connect ECONNREFUSED 127.0.0.1:514", {
    details: { destination: "siem" },
  });
  log.error({ err, destination: "siem" }, "Send failed.");
  const line = writes[0] ?? "";
  assert.match(line, /ERROR Send failed\. /);
  assert.match(line, / err\.type=ForwarderError /);
  assert.match(line, / err\.message="connect ECONNREFUSED 127\.0\.0\.1:514" /);
  assert.match(line, / err\.code=E_SINK_CONNECT /);
  assert.match(line, / err\.details\.destination=siem /);
  assert.doesNotMatch(line, /stack|at .*\.ts/);
  assert.equal(line.split("\n").length, 2, "still one line");
});

test("pretty: secrets under redacted paths never appear", () => {
  const { log, writes } = capture({ format: "pretty", color: false });
  log.info(
    {
      tenant: { name: "contoso", client_secret: "hunter2-secret" },
      access_token: "eyJ-token-value",
      headers: { authorization: "Bearer eyJ-token-value" },
    },
    "Token refreshed.",
  );
  const line = writes.join("");
  assert.ok(!line.includes("hunter2-secret"), line);
  assert.ok(!line.includes("eyJ-token-value"), line);
  assert.match(line, /tenant\.client_secret=\[redacted\]/);
  assert.match(line, /access_token=\[redacted\]/);
  assert.match(line, /headers\.authorization=\[redacted\]/);
});

test("pretty: control characters from remote peers cannot drive the terminal", () => {
  const { log, writes } = capture({ format: "pretty", color: false });
  log.warn({ reason: "evil\u001b[2J\u001b[31mred\u202eflip", code: "E_API_SERVER" }, "Line\nbreak.");
  const line = writes[0] ?? "";
  assert.ok(!line.includes("\u001b"), JSON.stringify(line));
  assert.ok(!line.includes("\u202e"), JSON.stringify(line));
  assert.match(line, /WARN {2}Line\\nbreak\. /);
  assert.match(line, /reason="evil\\u001b\[2J\\u001b\[31mred\\u202eflip"/);
});

test("pretty: the level is coloured on a terminal, and only then", () => {
  const coloured = capture({ format: "pretty", color: true });
  coloured.log.error("Boom.");
  assert.ok((coloured.writes[0] ?? "").includes("\u001b[31mERROR\u001b[0m Boom."), coloured.writes[0]);
  const plain = capture({ format: "pretty", color: false });
  plain.log.error("Boom.");
  assert.ok(!(plain.writes[0] ?? "").includes("\u001b"));
});

test("json is the default; auto chooses pretty only for a terminal", () => {
  for (const options of [
    {},
    { format: "json" as const, tty: true },
    { format: "auto" as const, tty: false },
  ]) {
    const { log, writes } = capture(options);
    log.info({ tenant: "contoso", client_secret: "s3cret" }, "Started.");
    const entry = JSON.parse(writes[0] ?? "") as Record<string, unknown>;
    assert.equal(entry.msg, "Started.");
    assert.equal(entry.level, "info");
    assert.equal(entry.client_secret, "[redacted]");
  }
  const { log, writes } = capture({ format: "auto", tty: true, color: false });
  log.info("Started.");
  assert.match(writes[0] ?? "", /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z INFO {2}Started\.\n$/);
});

test("formatLine passes a line that is not JSON through, made safe", () => {
  assert.equal(formatLine("not json \u001b[0m\n", { color: false }), "not json \\u001b[0m");
  assert.equal(formatLine('"a string"', { color: false }), '"a string"');
});

test("issue 14, finding 10: pretty lines show the time in UTC with the date, as the JSON lines and the demo do", () => {
  const json = '{"level":"info","time":"2024-12-31T23:59:58.007Z","module":"poll","msg":"Poll finished."}';
  // Whatever the machine's time zone (Node applies a TZ set at run time): the JSON line's instant.
  const zone = process.env.TZ;
  process.env.TZ = "America/New_York";
  try {
    assert.equal(formatLine(json, { color: false }), "2024-12-31T23:59:58.007Z INFO  [poll] Poll finished.");
  } finally {
    if (zone === undefined) delete process.env.TZ;
    else process.env.TZ = zone;
  }
  assert.match(
    formatLine('{"level":"info","msg":"no time"}', { color: false }),
    /^-{10}T--:--:--\.---Z INFO {2}no time$/,
  );
});
