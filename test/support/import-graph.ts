// The import graph of a source tree, for the boundary test (test/unit/module-boundaries.test.ts). The
// import statements are read with TypeScript's own pre-processor (already a dev dependency), which sees
// `import`, `import type`, `export ... from`, side-effect imports and `import("...")`, and skips comments
// and strings. Type-only imports count: a type shared across a boundary couples the modules all the same.
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import ts from "typescript";

export interface ImportGraph {
  /** Files relative to the root, `/`-separated (`sink/stream.ts`), in sorted order. */
  readonly files: readonly string[];
  /** For each file, the files it imports (relative imports, resolved). */
  readonly edges: ReadonlyMap<string, readonly string[]>;
  /** For each file, the packages it imports (`node:net`, `zod`, `better-sqlite3`). */
  readonly packages: ReadonlyMap<string, readonly string[]>;
  /** Relative imports that name no file of the tree, as `from -> specifier`. */
  readonly unresolved: readonly string[];
}

function listTs(dir: string, root: string, out: string[]): string[] {
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) listTs(full, root, out);
    else if (entry.endsWith(".ts") && !entry.endsWith(".d.ts")) {
      out.push(path.relative(root, full).split(path.sep).join("/"));
    }
  }
  return out;
}

/** The import graph of every .ts file under `root`. */
export function readImportGraph(root: string): ImportGraph {
  const files = listTs(root, root, []).sort();
  const known = new Set(files);
  const edges = new Map<string, string[]>();
  const packages = new Map<string, string[]>();
  const unresolved: string[] = [];
  for (const file of files) {
    const text = readFileSync(path.join(root, file), "utf8");
    const targets: string[] = [];
    const pkgs: string[] = [];
    for (const { fileName } of ts.preProcessFile(text, true, true).importedFiles) {
      if (!fileName.startsWith(".")) {
        pkgs.push(fileName);
        continue;
      }
      // ESM imports name the emitted .js file; the source is the .ts beside it.
      const target = path.posix
        .normalize(path.posix.join(path.posix.dirname(file), fileName))
        .replace(/\.js$/, ".ts");
      if (known.has(target)) targets.push(target);
      else unresolved.push(`${file} -> ${fileName}`);
    }
    edges.set(file, [...new Set(targets)].sort());
    packages.set(file, [...new Set(pkgs)].sort());
  }
  return { files, edges, packages, unresolved };
}

/**
 * Every cycle of the graph, one per strongly connected component of more than one node (or a node that
 * imports itself), each given as a path that starts and ends at the same node: `a -> b -> a`.
 */
export function findCycles(edges: ReadonlyMap<string, readonly string[]>): string[][] {
  // Tarjan's algorithm, over the nodes in sorted order so that the report is stable.
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter++;
    stack.push(node);
    onStack.add(node);
    for (const next of edges.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node) ?? 0, low.get(next) ?? 0));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node) ?? 0, index.get(next) ?? 0));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    for (;;) {
      const top = stack.pop();
      if (top === undefined) break;
      onStack.delete(top);
      component.push(top);
      if (top === node) break;
    }
    if (component.length > 1 || (edges.get(node) ?? []).includes(node)) components.push(component);
  };
  for (const node of [...edges.keys()].sort()) if (!index.has(node)) visit(node);
  return components.map((component) => cyclePath(component, edges));
}

/** One concrete cycle through a strongly connected component, from its first node in sorted order. */
function cyclePath(component: readonly string[], edges: ReadonlyMap<string, readonly string[]>): string[] {
  const members = new Set(component);
  const start = [...component].sort()[0] as string;
  // Breadth-first from start back to start, inside the component: the shortest cycle through it.
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift() as string;
    for (const next of edges.get(node) ?? []) {
      if (!members.has(next)) continue;
      if (next === start) {
        const path = [start];
        for (let at: string | undefined = node; at !== undefined && at !== start; at = previous.get(at)) {
          path.unshift(at);
        }
        path.unshift(start);
        return path;
      }
      if (!previous.has(next)) {
        previous.set(next, node);
        queue.push(next);
      }
    }
  }
  return [start, start];
}
