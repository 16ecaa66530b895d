// The OData query options the alert and incident APIs take: $filter (comparisons joined by `and` and `or`),
// $orderby on the last-update field (and the id within one instant), $top, $skip, $expand, $count and, for
// server-driven paging, $skiptoken.
// Names are matched case-insensitively; anything the simulator does not implement is a 400 naming
// the option, so a client never mistakes an ignored option for an applied one.
import { parseTimestamp, type Ticks } from "../timestamp.js";
import type { Keyset, TickBound } from "./alert-store.js";

export type FieldSpec<T> =
  | { kind: "time"; get: (item: T) => Ticks | null }
  /** `ordered`: also gt/ge/lt/le, comparing ordinally and case-sensitively (ids); else eq/ne, any case. */
  | { kind: "string"; get: (item: T) => string | null; ordered?: boolean }
  | { kind: "number"; get: (item: T) => number | null };

export interface ODataDialect<T> {
  /** Filterable fields as the API spells them. */
  fields: Readonly<Record<string, FieldSpec<T>>>;
  /** The last-update field: the sort key, and bounds on it narrow the index instead of filtering. */
  cursorField: string;
  /** A field that may follow the cursor field in $orderby (`lastUpdateTime asc, id asc`), or stand alone when
   * the filter pins one instant (`lastUpdateTime eq …`): the item's id. */
  tieField?: string;
  maxTop: number;
  defaultTop: number;
  /** Allowed $expand values. */
  expand: readonly string[];
  count: boolean;
  skiptoken: boolean;
  /** Order without $orderby. */
  defaultOrder: "asc" | "desc";
}

/** What a continuation carries to reproduce the query it continues. */
export interface ContinuationState {
  filter?: string;
  orderby?: string;
  top: number;
  count: boolean;
  expand?: string;
}

export interface ODataQuery<T> {
  lo?: TickBound;
  hi?: TickBound;
  where: (item: T) => boolean;
  order: "asc" | "desc";
  /** Within one instant, by id. */
  tieById: boolean;
  skip: number;
  top: number;
  expand: ReadonlySet<string>;
  count: boolean;
  after?: Keyset;
  state: ContinuationState;
}

export type ParsedODataQuery<T> = { ok: true; query: ODataQuery<T> } | { ok: false; message: string };

type Op = "eq" | "ne" | "gt" | "ge" | "lt" | "le";
const OPS: readonly Op[] = ["eq", "ne", "gt", "ge", "lt", "le"];
const KNOWN = new Set(["$filter", "$orderby", "$top", "$skip", "$expand", "$count", "$skiptoken"]);
/** An OData DateTimeOffset literal: the offset is required. */
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,12})?)?(Z|[+-]\d{2}:\d{2})$/i;

class ODataError extends Error {}

export function parseODataQuery<T>(params: URLSearchParams, dialect: ODataDialect<T>): ParsedODataQuery<T> {
  try {
    return { ok: true, query: parse(params, dialect) };
  } catch (err) {
    if (err instanceof ODataError) return { ok: false, message: err.message };
    throw err;
  }
}

export function encodeSkiptoken(state: ContinuationState, after: Keyset): string {
  return Buffer.from(JSON.stringify({ ...state, k: [after.ticks.toString(), after.seq] })).toString(
    "base64url",
  );
}

function parse<T>(params: URLSearchParams, dialect: ODataDialect<T>): ODataQuery<T> {
  const options = new Map<string, string>();
  for (const [rawName, value] of params) {
    const name = rawName.toLowerCase();
    if (!name.startsWith("$")) continue; // Not an OData option: ignored, as the services do.
    if (!KNOWN.has(name)) throw new ODataError(`The query option '${rawName}' is not supported.`);
    if (options.has(name)) throw new ODataError(`The query option '${rawName}' is given more than once.`);
    options.set(name, value);
  }

  const token = options.get("$skiptoken");
  if (token !== undefined) {
    if (!dialect.skiptoken) throw new ODataError("The query option '$skiptoken' is not supported.");
    // A nextLink is opaque: options added to it would change the query under the continuation.
    if (options.size > 1) throw new ODataError("$skiptoken cannot be combined with other query options.");
    const { state, after } = decodeSkiptoken(token);
    const query = build(dialect, {
      filter: state.filter,
      orderby: state.orderby,
      top: String(state.top),
      count: state.count ? "true" : undefined,
      expand: state.expand,
    });
    return { ...query, after };
  }
  return build(dialect, {
    filter: options.get("$filter"),
    orderby: options.get("$orderby"),
    top: options.get("$top"),
    skip: options.get("$skip"),
    expand: options.get("$expand"),
    count: options.get("$count"),
  });
}

interface RawOptions {
  filter?: string | undefined;
  orderby?: string | undefined;
  top?: string | undefined;
  skip?: string | undefined;
  expand?: string | undefined;
  count?: string | undefined;
}

function build<T>(dialect: ODataDialect<T>, raw: RawOptions): ODataQuery<T> {
  const top = raw.top === undefined ? dialect.defaultTop : whole(raw.top, "$top");
  if (top > dialect.maxTop) throw new ODataError(`$top must be at most ${dialect.maxTop}: ${raw.top}`);
  const skip = raw.skip === undefined ? 0 : whole(raw.skip, "$skip");

  let order = dialect.defaultOrder;
  let tieById = false;
  let idOnly = false;
  if (raw.orderby !== undefined) {
    const keys = raw.orderby.split(",").map((k) => /^\s*([A-Za-z]+)(?:\s+(asc|desc))?\s*$/i.exec(k));
    const named = (m: RegExpExecArray | null | undefined, field: string | undefined) =>
      field !== undefined && m?.[1]?.toLowerCase() === field.toLowerCase();
    const dir = (m: RegExpExecArray | null | undefined) =>
      (m?.[2]?.toLowerCase() as "asc" | "desc" | undefined) ?? "asc";
    const [first, second] = keys;
    if (keys.length === 1 && named(first, dialect.cursorField)) {
      order = dir(first);
    } else if (keys.length === 2 && named(first, dialect.cursorField) && named(second, dialect.tieField)) {
      order = dir(first);
      if (dir(second) !== order)
        throw new ODataError(`$orderby: both keys must go the same way: ${raw.orderby}`);
      tieById = true;
    } else if (keys.length === 1 && named(first, dialect.tieField)) {
      order = dir(first);
      tieById = true;
      idOnly = true;
    } else {
      const tie = dialect.tieField === undefined ? "" : ` (then '${dialect.tieField}')`;
      throw new ODataError(
        `$orderby supports only '${dialect.cursorField} asc' or '${dialect.cursorField} desc'${tie}: ${raw.orderby}`,
      );
    }
  }

  const expand = new Set<string>();
  if (raw.expand !== undefined && dialect.expand.length === 0) {
    throw new ODataError("The query option '$expand' is not supported.");
  }
  if (raw.expand !== undefined) {
    for (const item of raw.expand.split(",")) {
      const name = dialect.expand.find((e) => e.toLowerCase() === item.trim().toLowerCase());
      if (name === undefined) throw new ODataError(`$expand cannot expand '${item.trim()}'.`);
      expand.add(name);
    }
  }

  let count = false;
  if (raw.count !== undefined) {
    if (!dialect.count) throw new ODataError("The query option '$count' is not supported.");
    if (!/^(true|false)$/i.test(raw.count))
      throw new ODataError(`$count must be true or false: ${raw.count}`);
    count = raw.count.toLowerCase() === "true";
  }

  const filter = raw.filter === undefined ? undefined : compileFilter(raw.filter, dialect);
  // Ordering by id alone is ordering by (time, id) only within one instant: the simulator needs the filter
  // to pin it.
  if (
    idOnly &&
    (filter?.lo === undefined || filter.hi === undefined || filter.lo.ticks !== filter.hi.ticks)
  ) {
    throw new ODataError(
      `$orderby=${dialect.tieField}: the simulator orders by ${dialect.tieField} only with '${dialect.cursorField} eq …' in $filter.`,
    );
  }
  return {
    lo: filter?.lo,
    hi: filter?.hi,
    where: filter?.where ?? (() => true),
    order,
    tieById,
    skip,
    top,
    expand,
    count,
    state: { filter: raw.filter, orderby: raw.orderby, top, count, expand: raw.expand },
  };
}

function whole(value: string, name: string): number {
  if (!/^\d{1,9}$/.test(value)) throw new ODataError(`${name} must be a whole number: ${value}`);
  return Number(value);
}

function decodeSkiptoken(token: string): { state: ContinuationState; after: Keyset } {
  try {
    const v = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as Record<string, unknown>;
    const k = v.k;
    if (
      !Array.isArray(k) ||
      typeof k[0] !== "string" ||
      !/^-?\d+$/.test(k[0]) ||
      !Number.isInteger(k[1]) ||
      !Number.isInteger(v.top) ||
      typeof v.count !== "boolean" ||
      (v.filter !== undefined && typeof v.filter !== "string") ||
      (v.orderby !== undefined && typeof v.orderby !== "string") ||
      (v.expand !== undefined && typeof v.expand !== "string")
    ) {
      throw new Error("shape");
    }
    return {
      state: {
        filter: v.filter as string | undefined,
        orderby: v.orderby as string | undefined,
        top: v.top as number,
        count: v.count,
        expand: v.expand as string | undefined,
      },
      after: { ticks: BigInt(k[0]), seq: k[1] as number },
    };
  } catch {
    throw new ODataError("The $skiptoken is invalid.");
  }
}

// --- $filter -------------------------------------------------------------------------------------

type Token = { kind: "(" | ")" } | { kind: "word"; text: string } | { kind: "string"; text: string };

interface CompiledFilter<T> {
  lo?: TickBound;
  hi?: TickBound;
  where: (item: T) => boolean;
}

function compileFilter<T>(text: string, dialect: ODataDialect<T>): CompiledFilter<T> {
  const tokens = lex(text);
  if (tokens.length === 0) throw new ODataError("$filter is empty.");
  let pos = 0;
  const result: { lo?: TickBound; hi?: TickBound; predicates: Array<(item: T) => boolean> } = {
    predicates: [],
  };

  const peek = (): Token | undefined => tokens[pos];
  const word = (what: string): string => {
    const t = tokens[pos++];
    if (t?.kind !== "word") throw new ODataError(`$filter: expected ${what} at token ${pos}.`);
    return t.text;
  };
  const keyword = (): string | undefined => {
    const t = peek();
    return t?.kind === "word" ? t.text.toLowerCase() : undefined;
  };

  // disjunction := conjunction ('or' conjunction)*;  conjunction := term ('and' term)*;
  // term := '(' disjunction ')' | field op literal.
  // Bounds on the cursor field narrow the index, so they are taken only where every match must meet them:
  // in a conjunction with no `or` above it. A cursor comparison under an `or` is refused, not half applied.
  let depthInOr = 0;
  /** Whether the expression starting at `pos` has an `or` at its own level (before its closing paren). */
  const orAhead = (): boolean => {
    let depth = 0;
    for (let i = pos; i < tokens.length; i++) {
      const t = tokens[i];
      if (t?.kind === "(") depth++;
      else if (t?.kind === ")") {
        if (depth === 0) return false;
        depth--;
      } else if (depth === 0 && t?.kind === "word" && t.text.toLowerCase() === "or") return true;
    }
    return false;
  };
  const disjunction = (): Array<(item: T) => boolean> => {
    const hasOr = orAhead();
    if (hasOr) depthInOr++;
    try {
      const alternatives = [conjunction()];
      while (keyword() === "or") {
        pos++;
        alternatives.push(conjunction());
      }
      if (alternatives.length === 1) return alternatives[0] ?? [];
      const ors = alternatives.map((preds) => (item: T) => preds.every((p) => p(item)));
      return [(item) => ors.some((p) => p(item))];
    } finally {
      if (hasOr) depthInOr--;
    }
  };
  const conjunction = (): Array<(item: T) => boolean> => {
    const preds = term();
    for (;;) {
      const k = keyword();
      if (k === undefined || k === "or") return preds;
      if (k === "not") throw new ODataError("$filter: the simulator does not support 'not'.");
      if (k !== "and") throw new ODataError(`$filter: unexpected '${k}'.`);
      pos++;
      preds.push(...term());
    }
  };
  const term = (): Array<(item: T) => boolean> => {
    if (peek()?.kind === "(") {
      pos++;
      const inner = disjunction();
      if (tokens[pos++]?.kind !== ")") throw new ODataError("$filter: missing ')'.");
      return inner;
    }
    const name = word("a property name");
    const opText = word("an operator");
    const op = OPS.find((o) => o === opText.toLowerCase());
    if (op === undefined) throw new ODataError(`$filter: unsupported operator '${opText}'.`);
    const literal = tokens[pos++];
    if (literal === undefined || !("text" in literal)) {
      throw new ODataError(`$filter: expected a value after '${name} ${opText}'.`);
    }
    const before = result.predicates.length;
    if (comparison(name, op, literal) && depthInOr > 0) {
      throw new ODataError(`$filter: the simulator cannot combine ${dialect.cursorField} with 'or'.`);
    }
    return result.predicates.splice(before);
  };

  /** Adds the comparison; true when it is a bound on the cursor field. */
  const comparison = (name: string, op: Op, literal: Extract<Token, { text: string }>): boolean => {
    const key = Object.keys(dialect.fields).find((f) => f.toLowerCase() === name.toLowerCase());
    const field = key === undefined ? undefined : dialect.fields[key];
    if (key === undefined || field === undefined) {
      throw new ODataError(`$filter: the property '${name}' cannot be filtered on.`);
    }
    const isNull = literal.kind === "word" && literal.text.toLowerCase() === "null";
    if (field.kind === "time") {
      if (literal.kind !== "word" || !DATETIME.test(literal.text)) {
        throw new ODataError(
          `$filter: ${key} takes a DateTimeOffset such as 2024-05-01T12:00:00Z: ${literal.text}`,
        );
      }
      const ticks = parseTimestamp(literal.text);
      if (ticks === undefined) throw new ODataError(`$filter: not a valid DateTimeOffset: ${literal.text}`);
      if (key.toLowerCase() === dialect.cursorField.toLowerCase() && op !== "ne") {
        if (depthInOr === 0) bound(op, ticks);
        return true;
      }
      const get = field.get;
      result.predicates.push((item) => {
        const v = get(item);
        return v !== null && compare(op, v < ticks ? -1 : v > ticks ? 1 : 0);
      });
      return false;
    }
    if (field.kind === "number") {
      if (isNull) {
        nullPredicate(key, op, field.get);
        return false;
      }
      if (literal.kind !== "word" || !/^-?\d+$/.test(literal.text)) {
        throw new ODataError(`$filter: ${key} takes a number: ${literal.text}`);
      }
      const n = Number(literal.text);
      const get = field.get;
      result.predicates.push((item) => {
        const v = get(item);
        return v !== null && compare(op, Math.sign(v - n));
      });
      return false;
    }
    if (isNull) {
      nullPredicate(key, op, field.get);
      return false;
    }
    if (literal.kind !== "string") {
      throw new ODataError(`$filter: ${key} takes a quoted string such as '${key}': ${literal.text}`);
    }
    const get = field.get;
    if (field.ordered) {
      // Ids: ordinal and case-sensitive, the order $orderby on the field uses.
      const wanted = literal.text;
      result.predicates.push((item) => {
        const v = get(item);
        return v !== null && compare(op, v < wanted ? -1 : v > wanted ? 1 : 0);
      });
      return false;
    }
    if (op !== "eq" && op !== "ne") throw new ODataError(`$filter: ${key} supports only eq and ne.`);
    // Enum members and user names compare case-insensitively.
    const wanted = literal.text.toLowerCase();
    result.predicates.push((item) => (get(item)?.toLowerCase() === wanted) === (op === "eq"));
    return false;
  };

  const nullPredicate = (key: string, op: Op, get: (item: T) => unknown): void => {
    if (op !== "eq" && op !== "ne")
      throw new ODataError(`$filter: ${key} compares with null only by eq or ne.`);
    result.predicates.push((item) => (get(item) === null) === (op === "eq"));
  };

  const bound = (op: Op, ticks: Ticks): void => {
    if (op === "gt" || op === "ge" || op === "eq") {
      const next = { ticks, inclusive: op !== "gt" };
      const lo = result.lo;
      if (lo === undefined || ticks > lo.ticks || (ticks === lo.ticks && !next.inclusive)) result.lo = next;
    }
    if (op === "lt" || op === "le" || op === "eq") {
      const next = { ticks, inclusive: op !== "lt" };
      const hi = result.hi;
      if (hi === undefined || ticks < hi.ticks || (ticks === hi.ticks && !next.inclusive)) result.hi = next;
    }
  };

  const predicates = disjunction();
  if (pos !== tokens.length) throw new ODataError(`$filter: unexpected text after token ${pos}.`);
  return {
    lo: result.lo,
    hi: result.hi,
    where: (item) => predicates.every((p) => p(item)),
  };
}

function compare(op: Op, sign: number): boolean {
  switch (op) {
    case "eq":
      return sign === 0;
    case "ne":
      return sign !== 0;
    case "gt":
      return sign > 0;
    case "ge":
      return sign >= 0;
    case "lt":
      return sign < 0;
    case "le":
      return sign <= 0;
  }
}

function lex(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? "";
    if (/\s/.test(c)) {
      i++;
    } else if (c === "(" || c === ")") {
      tokens.push({ kind: c });
      i++;
    } else if (c === "'") {
      // OData escapes a quote inside a string by doubling it.
      let value = "";
      i++;
      for (;;) {
        if (i >= text.length) throw new ODataError("$filter: unterminated string.");
        const d = text[i] ?? "";
        if (d === "'") {
          if (text[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += d;
        i++;
      }
      tokens.push({ kind: "string", text: value });
    } else {
      let j = i;
      while (j < text.length && !/[\s()']/.test(text[j] ?? "")) j++;
      tokens.push({ kind: "word", text: text.slice(i, j) });
      i = j;
    }
  }
  return tokens;
}
