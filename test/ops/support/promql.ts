// PromQL as the dashboard and the alert rules write it: the metric names an expression reads, Grafana's
// variables replaced so that Prometheus can evaluate it, and the names a scrape exposes.

// Words that are not metric names where they stand without a following "(": binary and set operators,
// modifiers, and the number literals.
const KEYWORDS = new Set([
  "and",
  "or",
  "unless",
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "offset",
  "bool",
  "inf",
  "nan",
  "start",
  "end",
]);

/**
 * The metric names `expr` selects, sorted and unique. Strings, label matchers, ranges and grouping label
 * lists are removed first; a word followed by "(" is a function or an aggregation; `{__name__="x"}` counts.
 */
export function metricNames(expr: string): string[] {
  const names = new Set<string>();
  let text = expr.replace(/#[^\n]*/g, " ");
  // Strings first, so that nothing inside one (a regex, a legend) looks like syntax.
  const strings: string[] = [];
  text = text.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, (s) => {
    strings.push(s);
    return `"${strings.length - 1}"`;
  });
  // Label matchers: keep only a __name__ equality, which names a metric.
  text = text.replace(/\{([^{}]*)\}/g, (_, inside: string) => {
    for (const m of inside.matchAll(/__name__\s*=\s*"(\d+)"/g)) {
      const literal = strings[Number(m[1])] ?? "";
      names.add(literal.slice(1, -1));
    }
    return " ";
  });
  text = text.replace(/\[[^\]]*\]/g, " ");
  text = text.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)/g, " ");
  text = text.replace(/"\d+"/g, " ");
  // A word not glued to a number (1e3, 0x1f, 15m are numbers and durations).
  for (const m of text.matchAll(/(?<![\w.:])[a-zA-Z_:][\w:]*/g)) {
    const word = m[0];
    const after = text.slice((m.index ?? 0) + word.length).trimStart();
    if (after.startsWith("(")) continue;
    if (KEYWORDS.has(word.toLowerCase())) continue;
    names.add(word);
  }
  return [...names].sort();
}

export interface GrafanaVariables {
  /** Dashboard variables (query, custom, ...) and the value each stands for, e.g. tenant -> ".*". */
  readonly values: ReadonlyMap<string, string>;
}

// Grafana's built-in variables, with values like those of a 6-hour view scraped every 15 s.
const BUILT_INS = new Map([
  ["__rate_interval", "1m"],
  ["__interval", "15s"],
  ["__interval_ms", "15000"],
  ["__range", "6h"],
  ["__range_s", "21600"],
  ["__range_ms", "21600000"],
]);

/**
 * `expr` with every variable replaced ($x, ${x}, ${x:format}, [[x]]). Throws on a variable it does not know,
 * so that a new one is handled here rather than sent to Prometheus as text.
 */
export function substituteVariables(expr: string, variables: GrafanaVariables): string {
  return expr.replace(
    /\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\]|\$(\w+)/g,
    (whole, a: string | undefined, b: string | undefined, c: string | undefined) => {
      const name = a ?? b ?? c ?? "";
      const value = variables.values.get(name) ?? BUILT_INS.get(name);
      if (value === undefined) throw new Error(`unhandled Grafana variable ${whole} in: ${expr}`);
      return value;
    },
  );
}

/**
 * The series names a scrape (text exposition format) can give a query: each `# TYPE` name, with
 * `_bucket`, `_sum` and `_count` for a histogram, `_sum` and `_count` for a summary (and not the bare
 * histogram name, which has no series).
 */
export function exposedNames(scrape: string): Set<string> {
  const names = new Set<string>();
  for (const m of scrape.matchAll(/^# TYPE (\S+) (\w+)$/gm)) {
    const [, name = "", type] = m;
    if (type === "histogram") {
      for (const suffix of ["_bucket", "_sum", "_count"]) names.add(name + suffix);
    } else if (type === "summary") {
      for (const suffix of ["", "_sum", "_count"]) names.add(name + suffix);
    } else {
      names.add(name);
    }
  }
  return names;
}
