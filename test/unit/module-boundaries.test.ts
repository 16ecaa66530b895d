// The module boundaries of src/, enforced (issue 13, finding 4): no import cycle anywhere, and each module
// imports only the modules the table below allows, so that data flows one way: source, state, format and
// sink never import each other; only the pipeline (and the CLI, the composition root) wires them.
// docs/architecture.md shows the same table; the last test keeps the two in step.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { findCycles, readImportGraph } from "../support/import-graph.js";

const SRC = fileURLToPath(new URL("../../src/", import.meta.url));

/**
 * The modules. A file belongs to the module of its directory; the files at the top of src/ are the shared
 * vocabulary, and config/ is two modules: its building blocks, which every module's own config.ts uses,
 * and the composition of those config.ts files into the one schema, which only the CLI uses.
 */
const MODULES = [
  "shared",
  "config-kit",
  "metrics",
  "events",
  "source",
  "state",
  "format",
  "sink",
  "pipeline",
  "config",
  "simulator",
  "cli",
] as const;
type Module = (typeof MODULES)[number];

const CONFIG_KIT = new Set([
  "config/types.ts",
  "config/read-file.ts",
  "config/key-doc.ts",
  "config/markdown-table.ts",
]);

function moduleOf(file: string): Module | undefined {
  if (!file.includes("/")) return "shared";
  if (CONFIG_KIT.has(file)) return "config-kit";
  const dir = file.slice(0, file.indexOf("/"));
  return (MODULES as readonly string[]).includes(dir) ? (dir as Module) : undefined;
}

const STAGES = ["source", "state", "format", "sink"] as const;

/** What each module may import besides itself. */
const MAY_IMPORT: Record<Module, readonly Module[]> = {
  // errors, log, record, timestamp, retry, clock, url-credentials: used everywhere, so they use nothing else.
  shared: [],
  // zod building blocks (durations, sizes) and bounded file reads, for every module's config.
  "config-kit": ["shared"],
  // The registry and its definitions are passed in (deps.metrics); a module may import their types.
  metrics: ["shared", "config-kit"],
  // Each noteworthy occurrence logs and counts in one function (events/); passed in like the metrics.
  events: ["shared", "metrics"],
  source: ["shared", "config-kit", "metrics", "events"],
  state: ["shared", "config-kit", "metrics", "events"],
  format: ["shared", "config-kit", "metrics", "events"],
  sink: ["shared", "config-kit", "metrics", "events"],
  // The one module that knows more than one stage: it runs the poll and drain loops between them.
  pipeline: ["shared", "config-kit", "metrics", "events", ...STAGES],
  // The schema composes each module's config.ts (see ENTRY_POINTS).
  config: ["shared", "config-kit", "metrics", ...STAGES, "pipeline"],
  // The bundled MDE API simulator shares the detection vocabulary and nothing else.
  simulator: ["shared", "config-kit"],
  // The composition root: builds everything.
  cli: MODULES.filter((m) => m !== "cli"),
};

/**
 * Where an import that crosses from one module into another must land, when it is restricted: the
 * pipeline uses a stage through its public face (index.ts), the config schema a module through its
 * config.ts, every module the events through events/index.ts. Imports from the CLI (the composition
 * root) and into shared, config-kit and metrics are free.
 */
const THROUGH_EVENTS_INDEX = { events: ["events/index.ts"] } as const;
const ENTRY_POINTS: Partial<Record<Module, Partial<Record<Module, readonly string[]>>>> = {
  source: THROUGH_EVENTS_INDEX,
  state: THROUGH_EVENTS_INDEX,
  format: THROUGH_EVENTS_INDEX,
  sink: THROUGH_EVENTS_INDEX,
  pipeline: { ...Object.fromEntries(STAGES.map((s) => [s, [`${s}/index.ts`]])), ...THROUGH_EVENTS_INDEX },
  config: Object.fromEntries([...STAGES, "metrics", "pipeline"].map((m) => [m, [`${m}/config.ts`]])),
};

/** Runtime packages that belong to one module: the store alone speaks SQL, the metrics module alone prom-client... */
const PACKAGE_OWNERS: Record<string, readonly Module[]> = {
  "better-sqlite3": ["state"],
  "prom-client": ["metrics"],
  got: ["source"],
  pino: ["shared"],
};

interface Violation {
  readonly from: string;
  readonly to: string;
  readonly why: string;
}

/** Every import of the graph that the tables forbid. */
function boundaryViolations(edges: ReadonlyMap<string, readonly string[]>): Violation[] {
  const out: Violation[] = [];
  for (const [from, targets] of edges) {
    const a = moduleOf(from);
    for (const to of targets) {
      const b = moduleOf(to);
      if (a === undefined || b === undefined || a === b) continue;
      if (!MAY_IMPORT[a].includes(b)) {
        out.push({ from, to, why: `${a} may not import ${b}` });
        continue;
      }
      const entries = ENTRY_POINTS[a]?.[b];
      if (entries !== undefined && !entries.includes(to)) {
        out.push({ from, to, why: `${a} uses ${b} only through ${entries.join(", ")}` });
      }
    }
  }
  return out;
}

const show = (violations: readonly Violation[]): string =>
  violations.map((v) => `  ${v.from} -> ${v.to}: ${v.why}`).join("\n");

const graph = readImportGraph(SRC);

test("the checks catch a cycle and a forbidden import in a made-up graph", () => {
  const edges = new Map<string, string[]>([
    ["sink/stream.ts", ["sink/index.ts", "errors.ts"]],
    ["sink/index.ts", ["sink/stream.ts", "format/index.ts"]],
    ["format/index.ts", ["format/config.ts"]],
    ["format/config.ts", ["format/index.ts"]],
    ["pipeline/drain.ts", ["sink/stream.ts", "state/index.ts"]],
    ["config/schema.ts", ["sink/index.ts"]],
    ["errors.ts", ["errors.ts"]],
  ]);
  assert.deepEqual(findCycles(edges), [
    ["errors.ts", "errors.ts"],
    ["format/config.ts", "format/index.ts", "format/config.ts"],
    ["sink/index.ts", "sink/stream.ts", "sink/index.ts"],
  ]);
  assert.deepEqual(
    boundaryViolations(edges).map((v) => `${v.from} -> ${v.to}: ${v.why}`),
    [
      "sink/index.ts -> format/index.ts: sink may not import format",
      "pipeline/drain.ts -> sink/stream.ts: pipeline uses sink only through sink/index.ts",
      "config/schema.ts -> sink/index.ts: config uses sink only through sink/config.ts",
    ],
  );
});

test("every relative import in src/ names a file of src/", () => {
  assert.ok(graph.files.length > 50, `read ${graph.files.length} files`);
  assert.deepEqual(graph.unresolved, []);
});

test("src/ has no import cycle", () => {
  const cycles = findCycles(graph.edges);
  assert.equal(cycles.length, 0, `import cycles:\n${cycles.map((c) => `  ${c.join(" -> ")}`).join("\n")}`);
});

test("every directory of src/ is a module of the boundary table", () => {
  const dirs = readdirSync(SRC).filter((entry) => statSync(path.join(SRC, entry)).isDirectory());
  for (const dir of dirs) {
    assert.ok(
      (MODULES as readonly string[]).includes(dir),
      `src/${dir}/ is not in the boundary table: add it to MODULES and MAY_IMPORT here and to docs/architecture.md`,
    );
  }
  for (const file of CONFIG_KIT) assert.ok(graph.files.includes(file), `${file} exists`);
});

test("source, state, format and sink never import each other; every module imports only what it may", () => {
  const violations = boundaryViolations(graph.edges);
  assert.equal(violations.length, 0, `imports across a boundary:\n${show(violations)}`);
});

test("the modules form layers: the table itself has no cycle", () => {
  const edges = new Map(MODULES.map((m) => [m, [...MAY_IMPORT[m]]]));
  assert.deepEqual(findCycles(edges), []);
});

test("each runtime package that belongs to one module is imported by that module alone", () => {
  const misplaced: string[] = [];
  for (const [file, packages] of graph.packages) {
    for (const pkg of packages) {
      const owners = PACKAGE_OWNERS[pkg];
      const module = moduleOf(file);
      if (owners !== undefined && module !== undefined && !owners.includes(module)) {
        misplaced.push(`${file} imports ${pkg} (${owners.join(", ")} only)`);
      }
    }
  }
  assert.deepEqual(misplaced, []);
});

test("docs/architecture.md shows the same boundary table", () => {
  const doc = readFileSync(new URL("../../docs/architecture.md", import.meta.url), "utf8");
  const start = doc.indexOf("\n## Module boundaries\n");
  assert.ok(start !== -1, 'docs/architecture.md has a "## Module boundaries" section');
  const end = doc.indexOf("\n## ", start + 4);
  const rows = new Map(
    [...doc.slice(start, end === -1 ? undefined : end).matchAll(/^\| `([a-z-]+)` +\| ([^|]*)\|/gm)].map(
      (m) => [m[1] ?? "", [...(m[2] ?? "").matchAll(/`([a-z-]+)`/g)].map((x) => x[1] ?? "").sort()],
    ),
  );
  for (const module of MODULES) {
    assert.deepEqual(rows.get(module), [...MAY_IMPORT[module]].sort(), `the row of ${module}`);
  }
  assert.deepEqual([...rows.keys()].sort(), [...MODULES].sort());
});
