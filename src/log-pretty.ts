// Readable log lines for a terminal: a pino destination that turns each JSON line pino wrote (already
// redacted) into `2024-05-01T07:32:32.123Z INFO  [poll] Poll finished. tenant=contoso received=12`.
// Synchronous, so nothing is lost when the process exits, and our own, so no extra dependency.

export interface LineOutput {
  write(line: string): unknown;
}

export interface PrettyOptions {
  /** ANSI colours for the level (only when writing to a terminal). */
  color: boolean;
}

const LEVELS: Record<string, { label: string; color: string }> = {
  trace: { label: "TRACE", color: "90" },
  debug: { label: "DEBUG", color: "34" },
  info: { label: "INFO ", color: "32" },
  warn: { label: "WARN ", color: "33" },
  error: { label: "ERROR", color: "31" },
  fatal: { label: "FATAL", color: "1;35" },
};

/** Keys shown elsewhere on the line, or the same on every line. */
const HIDDEN = new Set(["level", "time", "msg", "service", "module", "component", "pid", "hostname"]);
/** Stack traces stay in the JSON format: on a terminal they would break the one-line-per-entry rule. */
const NO_STACK = new Set(["stack"]);
const MAX_DEPTH = 3;
const ESCAPES: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** A pino destination writing one readable line per entry to `out`. */
export function createPrettyDestination(
  out: LineOutput,
  options: PrettyOptions,
): { write(msg: string): void } {
  return {
    write(msg: string) {
      out.write(`${formatLine(msg, options)}\n`);
    },
  };
}

/** Formats one JSON log line; a line that is not a JSON object is passed through, made safe. */
export function formatLine(json: string, options: PrettyOptions): string {
  let entry: unknown;
  try {
    entry = JSON.parse(json);
  } catch {
    return safe(json.replace(/\n$/, ""));
  }
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) return safe(json.trim());
  const record = entry as Record<string, unknown>;
  const paint = (code: string, text: string) => (options.color ? `\u001b[${code}m${text}\u001b[0m` : text);

  const level = typeof record.level === "string" ? record.level : String(record.level ?? "");
  const known = LEVELS[level];
  const parts = [clock(record.time), known ? paint(known.color, known.label) : level.toUpperCase().padEnd(5)];
  // Where the entry comes from: every child logger names itself with `component` (`module` is still read:
  // lines written by earlier releases, or a caller's own child logger, may carry it).
  const origin = [record.module, record.component].filter((o) => typeof o === "string").join("/");
  if (origin !== "") parts.push(paint("2", `[${safe(origin)}]`));
  if (record.msg !== undefined) parts.push(safe(String(record.msg)));
  const fields: Array<[string, string]> = [];
  for (const [key, value] of Object.entries(record)) {
    if (!HIDDEN.has(key)) flatten(safe(key), value, 1, fields);
  }
  for (const [key, value] of fields) parts.push(`${paint("2", `${key}=`)}${value}`);
  return parts.join(" ");
}

function flatten(key: string, value: unknown, depth: number, out: Array<[string, string]>): void {
  if (value !== null && typeof value === "object" && !Array.isArray(value) && depth < MAX_DEPTH) {
    for (const [k, v] of Object.entries(value)) {
      if (!NO_STACK.has(k)) flatten(`${key}.${safe(k)}`, v, depth + 1, out);
    }
    return;
  }
  out.push([key, render(value)]);
}

function render(value: unknown): string {
  if (typeof value === "string")
    return /^[\w.:/@+,%~#*()[\]{}'<>!?&|^$-]+$/.test(value) ? value : quote(value);
  if (value === undefined) return "undefined";
  return safe(JSON.stringify(value) ?? String(value));
}

/** JSON quoting escapes control characters; `safe` then catches what JSON leaves as is. */
function quote(value: string): string {
  return safe(JSON.stringify(value));
}

/**
 * Text from remote peers (error messages, detection fields) must not drive the terminal: C0/C1 controls,
 * line breaks and bidirectional overrides are shown as \u escapes.
 */
function safe(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => {
    return ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
  });
}

/** UTC with the date and milliseconds, as in the JSON lines and the demo: no guessing the time zone. */
function clock(time: unknown): string {
  const date = typeof time === "string" || typeof time === "number" ? new Date(time) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime())) return "----------T--:--:--.---Z";
  return date.toISOString();
}
