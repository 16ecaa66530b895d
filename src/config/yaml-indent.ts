// Finds the line whose indentation fits no block around it, for a config the YAML parser rejected. The
// parser reports the consequences of one mis-indented line (up to two messages per line after it, often
// starting on the line before, worded as "a nested mapping" or "a quote is not closed"); this names the
// line itself. It reads only the indentation and the keys, never quotes a value, and only explains an
// error the parser found: a file the parser accepts is never refused because of it.

export interface IndentProblem {
  /** 1-based. */
  readonly line: number;
  /** Key path of the line, as well as a broken file lets it be told: ["destinations", 0, "port"]. */
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

interface Level {
  /** 0-based column where the keys (or `-` items) of this block start. */
  readonly col: number;
  readonly kind: "map" | "seq";
  /** Key path of the block. */
  readonly path: readonly PropertyKey[];
  /** seq: items seen so far. */
  items: number;
  /** seq: at its parent key's column (`key:` then `- item` below it, not indented). */
  readonly compact?: boolean;
}

interface ContentLine {
  readonly line: number;
  /** Column of the line's key, or of its last `-` when it has no key. */
  readonly col: number;
  /** A key without a value, or a `-` without one: the next lines may be deeper. */
  readonly opens: boolean;
  /** `- key: value`: the item's first key. */
  readonly item: boolean;
  readonly path: readonly PropertyKey[];
  readonly itemPath: readonly PropertyKey[];
}

/** A key (after any `- `): `name:`, `name: value`, `"quoted key": value`; group 1 the key, 2 the value. */
const KEY =
  /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"{[\]},&*!|>%@`?-][^#:]*?|-[^\s#][^#:]*?)\s*:(?:\s+(.*))?$/;

export function findMisindentedLine(text: string): IndentProblem | undefined {
  const stack: Level[] = [];
  const top = () => stack[stack.length - 1];
  let previous: ContentLine | undefined;
  /** Inside a block scalar (`|`, `>`): lines deeper than this column are its text. */
  let scalarAbove: number | undefined;
  /** Inside a flow collection or a quoted value that goes on over several lines: the character ending it. */
  let openUntil: string | undefined;

  const lines = text.split("\n");
  for (let index = 0; index < lines.length; index++) {
    const raw = (lines[index] ?? "").replace(/\r$/, "");
    const lineNo = index + 1;
    const indent = raw.length - raw.trimStart().length;
    const content = raw.trim();
    if (openUntil !== undefined) {
      if (raw.includes(openUntil)) openUntil = undefined;
      continue;
    }
    if (content === "" || content.startsWith("#")) continue;
    if (scalarAbove !== undefined) {
      if (indent > scalarAbove) continue;
      scalarAbove = undefined;
    }
    // Tabs, directives, document markers, explicit keys: the parser's own message says it better.
    if (/^ *\t/.test(raw) || /^(---|\.\.\.|%|\?)/.test(content)) return undefined;

    // `- - key: value`: each `- ` opens a sequence item; what follows the last one starts at `col`.
    let col = indent;
    let rest = content;
    const dashes: number[] = [];
    while (rest === "-" || rest.startsWith("- ")) {
      dashes.push(col);
      const after = rest.slice(1);
      col += 1 + (after.length - after.trimStart().length);
      rest = after.trimStart();
    }
    const key = KEY.exec(rest);
    // A continuation of a value (a plain scalar over several lines) is not a block of its own.
    if (dashes.length === 0 && key === null) continue;
    const name = key === null ? [] : [unquote(key[1] ?? "")];

    // Where does the line belong: under the previous line, or beside a line above it?
    // The first line starts the document's top block.
    const child =
      previous === undefined ||
      (previous.opens && (indent > previous.col || (indent === previous.col && dashes.length > 0)));
    let container: readonly PropertyKey[];
    if (child) {
      container = previous?.path ?? [];
    } else {
      let closed: Level | undefined;
      while ((top()?.col ?? -1) > indent) closed = stack.pop();
      // A list at its parent key's column (`key:` then `- item`) ends at the next key of that column.
      if (top()?.compact === true && top()?.col === indent && dashes.length === 0) stack.pop();
      const level = top();
      if (level === undefined || level.col !== indent) {
        if (previous !== undefined && indent > previous.col) {
          if (previous.item) {
            return {
              line: previous.line,
              path: previous.itemPath,
              message: `wrong indentation: the keys of this list item do not line up (column ${previous.col + 1} here, column ${indent + 1} on line ${lineNo})`,
            };
          }
          return {
            line: lineNo,
            path: [...(level?.path ?? []), ...name],
            message: `wrong indentation: column ${indent + 1} is deeper than the key on line ${previous.line} (column ${previous.col + 1}), which already has a value`,
          };
        }
        // Meant to line up with the nearer block of its own kind (a key with a mapping, a `-` with a list).
        const kind = dashes.length > 0 ? "seq" : "map";
        const meant =
          [closed, level]
            .filter((l): l is Level => l !== undefined && l.kind === kind)
            .sort((a, b) => Math.abs(a.col - indent) - Math.abs(b.col - indent))[0] ??
          closed ??
          level;
        return {
          line: lineNo,
          path: [...(meant?.path ?? []), ...name],
          message: `wrong indentation: no block above starts at column ${indent + 1}${
            meant === undefined ? "" : ` (its neighbours start at column ${meant.col + 1})`
          }`,
        };
      }
      if (level.kind === "seq" && dashes.length === 0) {
        return {
          line: lineNo,
          path: [...(closed?.path ?? level.path), ...name],
          message: `wrong indentation: a key at column ${indent + 1}, where the list above has its "-" items${
            closed === undefined ? "" : `; indent it to column ${closed.col + 1} with the item's other keys`
          }`,
        };
      }
      if (level.kind === "map" && dashes.length > 0) return undefined;
      container = level.path;
    }

    // The blocks the line is in: a sequence item per `-`, then a mapping for its key.
    let path: readonly PropertyKey[] = container;
    for (const dash of dashes) {
      let seq = top();
      if (seq === undefined || seq.col !== dash || seq.kind !== "seq") {
        seq = { col: dash, kind: "seq", path, items: 0, compact: child && dash === previous?.col };
        stack.push(seq);
      }
      path = [...seq.path, seq.items++];
    }
    const itemPath = path;
    if (key !== null) {
      let map = top();
      if (map === undefined || map.col !== col || map.kind !== "map") {
        map = { col, kind: "map", path, items: 0 };
        stack.push(map);
      }
      path = [...map.path, ...name];
    }
    const value = (key === null ? rest : (key[2] ?? "")).replace(/(^|\s+)#.*$/, "").trim();
    if (key !== null && /^[|>][-+0-9]*$/.test(value)) scalarAbove = col;
    openUntil = unclosed(value);
    previous = {
      line: lineNo,
      col: key === null ? (dashes[dashes.length - 1] ?? col) : col,
      // Nothing but an anchor or a tag: the value is the block below.
      opens: /^([&!]\S*)?$/.test(value),
      item: dashes.length > 0 && key !== null,
      path,
      itemPath,
    };
  }
  return undefined;
}

function unquote(name: string): string {
  return /^["']/.test(name) ? name.slice(1, -1) : name;
}

/** The character ending a value that goes on over the next lines (an open quote or bracket), if any. */
function unclosed(value: string): string | undefined {
  if (value.startsWith('"'))
    return (value.replace(/\\./g, "").match(/"/g)?.length ?? 0) % 2 === 1 ? '"' : undefined;
  if (value.startsWith("'"))
    return (value.replace(/''/g, "").match(/'/g)?.length ?? 0) % 2 === 1 ? "'" : undefined;
  const depth = (open: string, close: string) =>
    value.split("").reduce((n, c) => n + (c === open ? 1 : c === close ? -1 : 0), 0);
  if (value.startsWith("[") && depth("[", "]") > 0) return "]";
  if (value.startsWith("{") && depth("{", "}") > 0) return "}";
  return undefined;
}
