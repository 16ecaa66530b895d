// The OData query options the two alert APIs take: $filter (comparisons joined by `and`), $orderby on
// the last-update field, $top, $skip, $expand, $count and, for server-driven paging, $skiptoken.
// Names are matched case-insensitively; anything the simulator does not implement is a 400 naming
// the option, so a client never mistakes an ignored option for an applied one.
import { parseTimestamp, type Ticks } from "../timestamp.js";
import type { Keyset, TickBound } from "./alert-store.js";

export type FieldSpec<T> =
  | { kind: "time"; get: (item: T) => Ticks | null }
  | { kind: "string"; get: (item: T) => string | null }
  | { kind: "number"; get: (item: T) => number | null };

export interface ODataDialect<T> {
  /** Filterable fields as the API spells them. */
  fields: Readonly<Record<string, FieldSpec<T>>>;
  /** The last-update field: the only sort key, and bounds on it narrow the index instead of filtering. */
  cursorField: string;
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
}

export interface ODataQuery<T> {
  lo?: TickBound;
  hi?: TickBound;
  where: (item: T) => boolean;
  order: "asc" | "desc";
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
  if (raw.orderby !== undefined) {
    const m = /^\s*([A-Za-z]+)(?:\s+(asc|desc))?\s*$/i.exec(raw.orderby);
    if (!m || m[1]?.toLowerCase() !== dialect.cursorField.toLowerCase()) {
      throw new ODataError(
        `$orderby supports only '${dialect.cursorField} asc' or '${dialect.cursorField} desc': ${raw.orderby}`,
      );
    }
    order = (m[2]?.toLowerCase() as "asc" | "desc" | undefined) ?? "asc";
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
  return {
    lo: filter?.lo,
    hi: filter?.hi,
    where: filter?.where ?? (() => true),
    order,
    skip,
    top,
    expand,
    count,
    state: { filter: raw.filter, orderby: raw.orderby, top, count },
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
      (v.orderby !== undefined && typeof v.orderby !== "string")
    ) {
      throw new Error("shape");
    }
    return {
      state: {
        filter: v.filter as string | undefined,
        orderby: v.orderby as string | undefined,
        top: v.top as number,
        count: v.count,
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

  // conjunction := term ('and' term)*;  term := '(' conjunction ')' | field op literal
  const conjunction = (): void => {
    term();
    for (;;) {
      const t = peek();
      if (t?.kind !== "word") return;
      const keyword = t.text.toLowerCase();
      if (keyword === "or" || keyword === "not") {
        throw new ODataError(
          `$filter: the simulator supports only 'and' between comparisons, not '${t.text}'.`,
        );
      }
      if (keyword !== "and") throw new ODataError(`$filter: unexpected '${t.text}'.`);
      pos++;
      term();
    }
  };
  const term = (): void => {
    if (peek()?.kind === "(") {
      pos++;
      conjunction();
      if (tokens[pos++]?.kind !== ")") throw new ODataError("$filter: missing ')'.");
      return;
    }
    const name = word("a property name");
    const opText = word("an operator");
    const op = OPS.find((o) => o === opText.toLowerCase());
    if (op === undefined) throw new ODataError(`$filter: unsupported operator '${opText}'.`);
    const literal = tokens[pos++];
    if (literal === undefined || !("text" in literal)) {
      throw new ODataError(`$filter: expected a value after '${name} ${opText}'.`);
    }
    comparison(name, op, literal);
  };

  const comparison = (name: string, op: Op, literal: Extract<Token, { text: string }>): void => {
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
        bound(op, ticks);
        return;
      }
      const get = field.get;
      result.predicates.push((item) => {
        const v = get(item);
        return v !== null && compare(op, v < ticks ? -1 : v > ticks ? 1 : 0);
      });
      return;
    }
    if (field.kind === "number") {
      if (isNull) {
        nullPredicate(key, op, field.get);
        return;
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
      return;
    }
    if (isNull) {
      nullPredicate(key, op, field.get);
      return;
    }
    if (literal.kind !== "string") {
      throw new ODataError(`$filter: ${key} takes a quoted string such as '${key}': ${literal.text}`);
    }
    if (op !== "eq" && op !== "ne") throw new ODataError(`$filter: ${key} supports only eq and ne.`);
    // Enum members and user names compare case-insensitively.
    const wanted = literal.text.toLowerCase();
    const get = field.get;
    result.predicates.push((item) => (get(item)?.toLowerCase() === wanted) === (op === "eq"));
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

  conjunction();
  if (pos !== tokens.length) throw new ODataError(`$filter: unexpected text after token ${pos}.`);
  const predicates = result.predicates;
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
