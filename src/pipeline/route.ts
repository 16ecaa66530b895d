// Routing: the destinations a detection is for, from each destination's selection (min_severity,
// include, exclude). Unfiltered destinations get everything.
import { selectionFieldsOf } from "../format/index.js";
import type { Detection, SourceKind } from "../record.js";
import { SEVERITY_ORDER, type Selection, type SeverityName } from "./config.js";

export type Router = (detection: Detection, kind?: SourceKind) => readonly string[];

interface CompiledSelection {
  name: string;
  minRank: number;
  includeCategories: ReadonlySet<string> | undefined;
  includeGroups: ReadonlySet<string> | undefined;
  excludeCategories: ReadonlySet<string>;
  excludeGroups: ReadonlySet<string>;
}

/** Undefined when no destination filters anything: every detection goes everywhere (the store's default). */
export function createRouter(destinations: ReadonlyArray<{ name: string } & Selection>): Router | undefined {
  const compiled = destinations.map(compile);
  if (compiled.every(isOpen)) return undefined;
  return (detection, kind = "siem") => {
    // The same fields for every API: the Alerts API's and Graph's alerts are read through their SIEM names.
    const fields = selectionFieldsOf(detection, kind);
    const rank = severityRank(fields.severity);
    const category = lower(fields.category);
    const group = lower(fields.machineGroup);
    return compiled.filter((c) => accepts(c, rank, category, group)).map((c) => c.name);
  };
}

function compile(d: { name: string } & Selection): CompiledSelection {
  const set = (values: readonly string[]) => new Set(values.map((v) => v.toLowerCase()));
  return {
    name: d.name,
    minRank: d.min_severity === undefined ? -1 : SEVERITY_ORDER.indexOf(d.min_severity),
    includeCategories: d.include.categories.length > 0 ? set(d.include.categories) : undefined,
    includeGroups: d.include.machine_groups.length > 0 ? set(d.include.machine_groups) : undefined,
    excludeCategories: set(d.exclude.categories),
    excludeGroups: set(d.exclude.machine_groups),
  };
}

function isOpen(c: CompiledSelection): boolean {
  return (
    c.minRank === -1 &&
    c.includeCategories === undefined &&
    c.includeGroups === undefined &&
    c.excludeCategories.size === 0 &&
    c.excludeGroups.size === 0
  );
}

function accepts(c: CompiledSelection, rank: number, category: string, group: string): boolean {
  // An unknown severity is sent: a filter must never hide what it cannot judge.
  if (rank !== -1 && rank < c.minRank) return false;
  if (c.includeCategories && !c.includeCategories.has(category)) return false;
  if (c.includeGroups && !c.includeGroups.has(group)) return false;
  if (c.excludeCategories.has(category) || c.excludeGroups.has(group)) return false;
  return true;
}

function severityRank(value: unknown): number {
  return typeof value === "string" ? SEVERITY_ORDER.indexOf(value.trim().toLowerCase() as SeverityName) : -1;
}

function lower(value: unknown): string {
  return typeof value === "string" ? value.trim().toLowerCase() : "";
}
