// Turns the config's YAML text into a plain value, with every failure a ConfigError that names the key
// path and line and never quotes the text. The YAML library's own messages can quote the source: an
// unresolved alias repeats its name, so `client_secret: *Zq9...` would print the secret. Here each error
// is described by its code only, and the nesting depth and the alias expansion are bounded.
import {
  type Alias,
  CST,
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  Lexer,
  LineCounter,
  type Node,
  parseDocument,
  visit,
} from "yaml";
import { ConfigError, type ConfigIssue, formatPath } from "../errors.js";
import { findMisindentedLine } from "./yaml-indent.js";

/** Deeper than any config needs; bounds the parser's memory (1 MiB of `[` otherwise takes 600 MB). */
export const MAX_YAML_DEPTH = 64;
/** Nodes an alias may expand to, all aliases counted: stops an alias bomb ("billion laughs"). */
export const MAX_ALIAS_EXPANSION = 1_000;

const QUOTE_HINT = "quote a value that starts with * & ! | > ' \" % @ or `";

const DESCRIPTIONS: Readonly<Record<string, string>> = {
  ALIAS_PROPS: "an alias (*name) cannot have an anchor or a tag",
  BAD_ALIAS: `a malformed alias (*name) or anchor (&name); ${QUOTE_HINT}`,
  BAD_COLLECTION_TYPE: "a collection of the wrong type",
  BAD_DIRECTIVE: "a malformed % directive",
  BAD_DQ_ESCAPE: "an invalid \\ escape in a double-quoted value (single quotes take \\ literally)",
  BAD_INDENT: "wrong indentation",
  BAD_PROP_ORDER: "an anchor or tag in the wrong place",
  BAD_SCALAR_START: `a plain value cannot start with @, \` or %; ${QUOTE_HINT}`,
  BLOCK_AS_IMPLICIT_KEY:
    'a nested mapping where a value was expected (a value containing ": " must be quoted)',
  BLOCK_IN_FLOW: "a block value inside [ ] or { }",
  DUPLICATE_KEY: "a key appears twice",
  FLOW_NOT_CLOSED: "a { or [ opened here is not closed (or a line inside it is not indented)",
  KEY_OVER_1024_CHARS: "a key longer than 1024 characters",
  MISSING_CHAR: "a quote or bracket is not closed",
  MULTILINE_IMPLICIT_KEY: "a key spans several lines (a missing colon or quote?)",
  MULTIPLE_ANCHORS: "a value with two anchors",
  MULTIPLE_DOCS: "more than one YAML document (---) in the file",
  MULTIPLE_TAGS: "a value with two tags",
  NON_STRING_KEY: "a key that is not a string",
  RESOURCE_EXHAUSTION: `nesting deeper than ${MAX_YAML_DEPTH} levels`,
  TAB_AS_INDENT: "a tab used for indentation (use spaces)",
  TAG_RESOLVE_FAILED: `an unknown tag (!name); ${QUOTE_HINT}`,
  UNEXPECTED_TOKEN: `unexpected text; ${QUOTE_HINT}`,
};

export interface ParsedYaml {
  /** The document, null-free: an empty file is `{}`. */
  value: unknown;
  /** Line (1-based) of the node at a key path, or of its nearest ancestor that exists. */
  locate(path: readonly PropertyKey[]): number | undefined;
}

export function parseYaml(text: string, file: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const lineOf = (offset: number | undefined): number | undefined =>
    offset === undefined ? undefined : lineCounter.linePos(offset).line;

  const deep = depthExceededAt(text);
  if (deep !== undefined) {
    // The parser has not run, so there is no line counter: count the lines up to the offset.
    const line = text.slice(0, deep).split("\n").length;
    throw new ConfigError([{ path: "", line, message: `YAML: ${DESCRIPTIONS.RESOURCE_EXHAUSTION}` }], file);
  }

  let doc: Document.Parsed;
  try {
    doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  } catch {
    throw new ConfigError([{ path: "", message: "YAML: the document cannot be read" }], file);
  }
  const issue = (code: string, offset: number | undefined): ConfigIssue => {
    const path = offset === undefined ? [] : pathAt(doc.contents, offset, lineOf);
    // The parser finds an unclosed quote or bracket where the file ends (or at the next line less
    // indented): name the line it opens on, that of the key whose value runs on, or of the { or [.
    let line = lineOf(offset);
    let at = path;
    if (code === "MISSING_CHAR" && path.length > 0) line = lineOf(nodeAt(doc.contents, path));
    const flow =
      code === "FLOW_NOT_CLOSED" && offset !== undefined
        ? unclosedFlowAt(doc.contents, path, offset)
        : undefined;
    if (flow !== undefined) {
      line = lineOf(flow.offset) ?? line;
      at = path.slice(0, flow.depth);
    }
    return {
      path: formatPath(at),
      line,
      message: `YAML: ${DESCRIPTIONS[code] ?? `syntax error (${code})`}`,
    };
  };
  // An unknown tag is only a warning to the library, which then keeps the text after the tag: a secret
  // written `!Zq9...` unquoted would silently become something else.
  const problems = [...doc.errors, ...doc.warnings.filter((w) => w.code === "TAG_RESOLVE_FAILED")];
  // The library reports an unclosed { or [ as an indentation error where the block goes on (after the
  // errors its contents caused): its code alone cannot tell them apart, its own text (never printed: it
  // may quote the file) can. When there is one, it is the cause.
  const unclosed = problems.find((p) => p.code === "BAD_INDENT" && /^Flow (map|sequence) /.test(p.message));
  const first = unclosed ?? problems.sort((a, b) => a.pos[0] - b.pos[0])[0];
  const code = unclosed !== undefined ? "FLOW_NOT_CLOSED" : first?.code;
  if (first !== undefined) {
    // One message: what follows a syntax error is mostly its consequences (a mis-indented line gives two
    // per line below it). A mis-indented line is named as such, on its own line, when it explains it.
    const indentation = findMisindentedLine(text);
    const firstLine = lineOf(first.pos[0]) ?? 0;
    if (indentation && indentation.line >= firstLine - 3 && indentation.line <= firstLine + 1) {
      throw new ConfigError(
        [
          {
            path: formatPath(indentation.path),
            line: indentation.line,
            message: `YAML: ${indentation.message}`,
          },
        ],
        file,
      );
    }
    throw new ConfigError([issue(code ?? first.code, first.pos[0])], file);
  }
  const unresolved = unresolvedAliases(doc);
  if (unresolved.length > 0) {
    throw new ConfigError(
      unresolved.map((a) => ({
        ...issue("", a.range?.[0]),
        message: `YAML: an alias (*name) without an anchor (&name) before it; ${QUOTE_HINT}`,
      })),
      file,
    );
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_EXPANSION });
  } catch (err) {
    const aliases = err instanceof ReferenceError;
    const first = firstAlias(doc);
    throw new ConfigError(
      [
        {
          ...issue("", aliases ? first?.range?.[0] : undefined),
          message: aliases
            ? `YAML: aliases expand to too much (more than ${MAX_ALIAS_EXPANSION} nodes)`
            : "YAML: the document cannot be read",
        },
      ],
      file,
    );
  }
  return {
    value: value ?? {},
    locate: (path) => lineOf(nodeAt(doc.contents, path)),
  };
}

/**
 * The offset where flow brackets and block indicators on one line nest deeper than MAX_YAML_DEPTH, from
 * the lexer alone (cheap: no tree is built). Nesting by indentation needs n² characters for n levels, so
 * the file size cap bounds it already.
 */
function depthExceededAt(text: string): number | undefined {
  let flow = 0;
  let onLine = 0;
  let offset = 0;
  for (const token of new Lexer().lex(text)) {
    const type = CST.tokenType(token);
    if (type === "flow-map-start" || type === "flow-seq-start") flow++;
    else if (type === "flow-map-end" || type === "flow-seq-end") flow = Math.max(0, flow - 1);
    else if (type === "newline") onLine = 0;
    else if (type === "seq-item-ind" || type === "explicit-key-ind") onLine++;
    if (flow + onLine > MAX_YAML_DEPTH) return offset;
    // The lexer's control tokens (document start, scalar, flow error end) are not in the source.
    if (token !== CST.DOCUMENT && token !== CST.SCALAR && token !== CST.FLOW_END) offset += token.length;
  }
  return undefined;
}

function unresolvedAliases(doc: Document.Parsed): Alias[] {
  const anchors = new Map<string, number>();
  const aliases: Alias[] = [];
  visit(doc, {
    Node(_key, node) {
      if (isAlias(node)) aliases.push(node);
      else if (node.anchor !== undefined && !anchors.has(node.anchor)) {
        anchors.set(node.anchor, node.range?.[0] ?? 0);
      }
    },
  });
  return aliases.filter((a) => {
    const at = anchors.get(a.source);
    return at === undefined || at > (a.range?.[0] ?? 0);
  });
}

function firstAlias(doc: Document.Parsed): Alias | undefined {
  let found: Alias | undefined;
  visit(doc, {
    Alias(_key, node) {
      found = node;
      return visit.BREAK;
    },
  });
  return found;
}

/**
 * The key path of the deepest node whose span holds `offset`, for a syntax error. A broken file can turn
 * a value into a key (`client_secret: Zq9: x` is a mapping inside a mapping on one line): the path stops
 * before a key that is not a snake_case config key or that sits on its parent key's line.
 */
function pathAt(
  root: Node | null,
  offset: number,
  lineOf: (offset: number | undefined) => number | undefined,
): PropertyKey[] {
  const path: PropertyKey[] = [];
  let node: unknown = root;
  let parentLine: number | undefined;
  for (;;) {
    if (isMap(node)) {
      const pair = node.items.find((p) => {
        const start = (isScalar(p.key) ? p.key.range?.[0] : undefined) ?? Number.POSITIVE_INFINITY;
        const end = (p.value as Node | null)?.range?.[2] ?? (isScalar(p.key) ? p.key.range?.[2] : undefined);
        return end !== undefined && start <= offset && offset <= end;
      });
      if (!pair || !isScalar(pair.key)) return path;
      const key = String(pair.key.value);
      const line = lineOf(pair.key.range?.[0]);
      if (!/^[a-z][a-z0-9_]{0,63}$/.test(key) || (parentLine !== undefined && line === parentLine))
        return path;
      path.push(key);
      parentLine = line;
      node = pair.value;
    } else if (isSeq(node)) {
      const index = node.items.findIndex((item) => {
        const range = (item as Node | null)?.range;
        return range != null && range[0] <= offset && offset <= range[2];
      });
      if (index === -1) return path;
      path.push(index);
      parentLine = undefined;
      node = node.items[index];
    } else {
      return path;
    }
  }
}

/**
 * Where the innermost flow collection ({ } or [ ]) on `path` that is still open at `errorAt` starts (an
 * unclosed one runs on to the error), and how deep in `path` it is.
 */
function unclosedFlowAt(
  root: Node | null,
  path: readonly PropertyKey[],
  errorAt: number,
): { offset: number; depth: number } | undefined {
  let node: unknown = root;
  let found: { offset: number; depth: number } | undefined;
  for (let i = 0; ; i++) {
    const range = (isMap(node) || isSeq(node)) && node.flow ? node.range : undefined;
    if (range != null && range[1] >= errorAt) found = { offset: range[0], depth: i };
    const key = path[i];
    if (key === undefined) return found;
    if (isMap(node)) {
      node = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(key))?.value;
    } else if (isSeq(node) && typeof key === "number") {
      node = node.items[key];
    } else {
      return found;
    }
  }
}

/** Offset of the node at `path`, or of the nearest ancestor that exists (a missing key points at its parent). */
function nodeAt(root: Node | null, path: readonly PropertyKey[]): number | undefined {
  let node: unknown = root;
  let offset = root?.range?.[0];
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(key));
      if (!pair) break;
      // The key's line reads best in a message ("port (line 12)"), also when the value is a block below it.
      offset = (isScalar(pair.key) ? pair.key.range?.[0] : undefined) ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof key === "number") {
      const item = node.items[key] as Node | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return offset;
}
