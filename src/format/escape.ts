// Escaping, sanitising and truncation for CEF and LEEF in one pass over the string.
// Lengths are UTF-8 bytes of the *escaped* text (what a receiver's dictionary limit sees), and a
// cut lands only between two output units: never inside a code point or an escape pair.
import { ForwarderError } from "../errors.js";

/** Collects how many values were cut to fit their length limit, across one message. */
export interface TruncationCounter {
  truncated: number;
}

/**
 * Replacement for each ASCII code unit (`undefined` keeps the character as it is), and `special`: a
 * regular expression matching any unit the slow path would change (those and every surrogate, since a
 * surrogate may be lone). Most values match nothing and are sent as they are without the loop below.
 * `scan` is `special` with the `g` flag, to step from one special unit to the next; `escaped` holds the
 * replacements that are a backslash before the character itself (CEF's `\\=`, `\\\\`, `\\|`).
 */
interface AsciiTable {
  readonly replace: readonly (string | undefined)[];
  readonly special: RegExp;
  readonly scan: RegExp;
  readonly escaped: readonly (string | undefined)[];
}

/** A regular expression class of the code units `codes` (ascending) as ranges, and `extra` as it is. */
function unitClass(codes: readonly number[], extra: string): string {
  const hex = (c: number) => `\\u${c.toString(16).padStart(4, "0")}`;
  let out = "";
  for (let i = 0; i < codes.length; ) {
    let j = i;
    while (j + 1 < codes.length && codes[j + 1] === (codes[j] as number) + 1) j++;
    out += i === j ? hex(codes[i] as number) : `${hex(codes[i] as number)}-${hex(codes[j] as number)}`;
    i = j + 1;
  }
  return `[${out}${extra}]`;
}

// Without the `u` flag a class matches single UTF-16 code units: any surrogate, paired or not. The line
// separators NEL, LS and PS are line ends to some receivers (Java's, JavaScript's): a space like a control.
const NON_ASCII_SPECIALS = "\\u2028\\u2029\\ud800-\\udfff";

function asciiTable(overrides: Readonly<Record<string, string>>): AsciiTable {
  const replace: (string | undefined)[] = new Array(128).fill(undefined);
  // C0 controls and DEL: TAB included, since some CEF parsers split pairs on TAB and it is LEEF's delimiter.
  for (let c = 0; c < 0x20; c++) replace[c] = " ";
  replace[0x7f] = " ";
  for (const [char, replacement] of Object.entries(overrides)) replace[char.charCodeAt(0)] = replacement;
  const changed: number[] = [];
  const escaped: (string | undefined)[] = new Array(128).fill(undefined);
  replace.forEach((r, c) => {
    if (r === undefined) return;
    if (c < 0x7f) changed.push(c);
    if (r === `\\${String.fromCharCode(c)}`) escaped[c] = r;
  });
  // The C1 block 0x80-0x9f is taken whole around NEL (and DEL next to it): one range is cheaper to test
  // per character than two, and the few C1 characters it catches needlessly are kept all the same.
  const units = unitClass([...changed, ...range(0x7f, 0x9f)], NON_ASCII_SPECIALS);
  return { replace, special: new RegExp(units), scan: new RegExp(units, "g"), escaped };
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** NEL (U+0085), LINE SEPARATOR (U+2028), PARAGRAPH SEPARATOR (U+2029): sent as a space in every value. */
function isLineSeparator(c: number): boolean {
  return c === 0x85 || c === 0x2028 || c === 0x2029;
}

/**
 * True when `value` goes out unchanged: nothing to replace, no trailing space to trim, and within
 * `maxBytes`. UTF-8 takes at most 3 bytes per UTF-16 unit, so only long values are measured.
 */
function unchanged(value: string, maxBytes: number, table: AsciiTable, trim: boolean): boolean {
  const n = value.length;
  if (n * 3 > maxBytes && (n > maxBytes || Buffer.byteLength(value) > maxBytes)) return false;
  if (trim && n > 0 && value.charCodeAt(n - 1) === 0x20) return false;
  return !table.special.test(value);
}

const CEF_EXTENSION = asciiTable({ "\n": "\\n", "\r": "\\r", "\\": "\\\\", "=": "\\=" });
const CEF_HEADER = asciiTable({ "\\": "\\\\", "|": "\\|" });
const LEEF_HEADER = asciiTable({ "|": " " });
/** LEEF value tables per delimiter: TAB (the default, already a control) and the few configured ones. */
const LEEF_VALUE = new Map<string, AsciiTable>([["\t", asciiTable({})]]);

function leefValueTable(delimiter: string): AsciiTable {
  let table = LEEF_VALUE.get(delimiter);
  if (table === undefined) {
    // The config allows printable ASCII delimiters only; anything else is a programming error.
    if (delimiter.length !== 1 || delimiter.charCodeAt(0) >= 0x80) {
      throw new ForwarderError("E_INTERNAL", "a LEEF delimiter must be one ASCII character");
    }
    table = asciiTable({ [delimiter]: " " });
    LEEF_VALUE.set(delimiter, table);
  }
  return table;
}

const REPLACEMENT_CHARACTER = "\ufffd";

/**
 * What `encode` returns when nothing can be cut: every unit at most 3 UTF-8 bytes once replaced, so a
 * value of at most maxBytes / 3 units. The same mapping without counting bytes, in half the time.
 */
function substitute(value: string, table: AsciiTable): string {
  // The usual specials are only characters to escape (`=` and `\` in a URL, a path, base64): the regular
  // expression steps from one to the next natively; anything else there goes to the loop.
  const { scan, escaped } = table;
  scan.lastIndex = 0;
  let out = "";
  let run = 0;
  while (scan.test(value)) {
    const at = scan.lastIndex - 1;
    const c = value.charCodeAt(at);
    const backslashed = escaped[c];
    if (backslashed !== undefined) {
      out += value.slice(run, at) + backslashed;
      run = at + 1;
    } else if (c < 0x80 || c === 0x85 || c > 0x9f) {
      scan.lastIndex = 0;
      return substituteEach(value, table);
    }
    // else a C1 character other than NEL, caught by the wide range: kept.
  }
  return run === 0 ? value : out + value.slice(run);
}

/** substitute one code unit at a time: controls, line separators and lone surrogates as well. */
function substituteEach(value: string, table: AsciiTable): string {
  const { replace } = table;
  const n = value.length;
  let out = "";
  let runStart = 0;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x80) {
      const replacement = replace[c];
      if (replacement === undefined) continue;
      out += value.slice(runStart, i) + replacement;
      runStart = i + 1;
    } else if (isLineSeparator(c)) {
      out += `${value.slice(runStart, i)} `;
      runStart = i + 1;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const next = value.charCodeAt(i + 1); // NaN past the end
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        i++; // a pair: kept
        continue;
      }
      out += value.slice(runStart, i) + REPLACEMENT_CHARACTER;
      runStart = i + 1;
    }
  }
  return runStart === 0 ? value : out + value.slice(runStart);
}

/**
 * Maps every ASCII code unit through `table`, turns lone UTF-16 surrogates into U+FFFD (so the
 * UTF-8 output is well-formed and its length is what we measured) and stops before the first
 * unit that would exceed `maxBytes`. Returns `value` itself when nothing changes.
 */
function encode(value: string, maxBytes: number, table: AsciiTable, counter: TruncationCounter): string {
  const n = value.length;
  let out = "";
  let runStart = 0; // first code unit of the current run copied unchanged
  let bytes = 0;
  let i = 0;
  while (i < n) {
    const c = value.charCodeAt(i);
    let width = 1;
    let size: number;
    let replacement: string | undefined;
    if (c < 0x80) {
      replacement = table.replace[c];
      size = replacement === undefined ? 1 : replacement.length;
    } else if (isLineSeparator(c)) {
      replacement = " ";
      size = 1;
    } else if (c < 0x800) {
      size = 2;
    } else if (c >= 0xd800 && c <= 0xdbff) {
      const next = i + 1 < n ? value.charCodeAt(i + 1) : 0;
      if (next >= 0xdc00 && next <= 0xdfff) {
        size = 4;
        width = 2;
      } else {
        replacement = REPLACEMENT_CHARACTER;
        size = 3;
      }
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      replacement = REPLACEMENT_CHARACTER;
      size = 3;
    } else {
      size = 3;
    }
    if (bytes + size > maxBytes) {
      counter.truncated++;
      return out + value.slice(runStart, i);
    }
    bytes += size;
    if (replacement !== undefined) {
      out += value.slice(runStart, i) + replacement;
      runStart = i + width;
    }
    i += width;
  }
  return runStart === 0 ? value : out + value.slice(runStart);
}

function trimTrailingSpaces(value: string): string {
  let end = value.length;
  while (end > 0 && value.charCodeAt(end - 1) === 0x20) end--;
  return end === value.length ? value : value.slice(0, end);
}

/**
 * CEF extension value: `\`→`\\`, `=`→`\=`, LF→`\n`, CR→`\r`, other C0 controls, DEL and the line
 * separators U+0085, U+2028, U+2029 → space,
 * lone surrogates → U+FFFD, `|` kept. Trailing spaces are trimmed from every value (not only the
 * last one) so a value reads the same wherever it lands in the message: CEF drops trailing spaces
 * of the final pair, and many regex parsers drop them everywhere.
 */
export function escapeCefValue(value: string, maxBytes: number, counter: TruncationCounter): string {
  if (unchanged(value, maxBytes, CEF_EXTENSION, true)) return value;
  // Trailing characters that become spaces go first, so that a value is never counted as cut (or cut
  // at all) for blanks that trimming would drop anyway; a cut that ends on spaces is trimmed after.
  const end = blankTailStart(value, CEF_EXTENSION);
  // Nothing can be cut: nothing left to trim either.
  if (end * 3 <= maxBytes)
    return substitute(end === value.length ? value : value.slice(0, end), CEF_EXTENSION);
  return trimTrailingSpaces(
    encode(end === value.length ? value : value.slice(0, end), maxBytes, CEF_EXTENSION, counter),
  );
}

/** Index where the run of trailing characters that `table` turns into spaces begins. */
function blankTailStart(value: string, table: AsciiTable): number {
  let end = value.length;
  while (end > 0) {
    const c = value.charCodeAt(end - 1);
    if (c === 0x20 || (c < 0x80 && table.replace[c] === " ") || isLineSeparator(c)) end--;
    else break;
  }
  return end;
}

/** CEF header field: `\`→`\\`, `|`→`\|`, CR, LF, other C0 controls, DEL and line separators → space. */
export function escapeCefHeader(value: string, maxBytes: number, counter: TruncationCounter): string {
  if (unchanged(value, maxBytes, CEF_HEADER, false)) return value;
  if (value.length * 3 <= maxBytes) return substitute(value, CEF_HEADER);
  return encode(value, maxBytes, CEF_HEADER, counter);
}

/**
 * LEEF defines no escaping: the attribute delimiter (TAB unless configured), CR, LF, other C0 controls,
 * DEL and the line separators U+0085, U+2028, U+2029 become a space in values, lone surrogates U+FFFD; in
 * header fields `|` becomes a space (the delimiter may stay there: the header is split on `|`). `=` is kept
 * (parsers split on the first `=`).
 */
export function sanitizeLeef(
  value: string,
  maxBytes: number,
  counter: TruncationCounter,
  where: "header" | "value",
  delimiter = "\t",
): string {
  const table = where === "header" ? LEEF_HEADER : leefValueTable(delimiter);
  if (unchanged(value, maxBytes, table, false)) return value;
  if (value.length * 3 <= maxBytes) return substitute(value, table);
  return encode(value, maxBytes, table, counter);
}

/**
 * Why a configured text (a header field, label or constant) cannot be sent as it is, or undefined:
 * such values are refused at start-up rather than silently changed by the sanitising above.
 */
export function configuredTextProblem(value: string): string | undefined {
  if (value.trim() === "") return "must not be empty";
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return "must not contain control characters (tab, CR, LF...)";
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = value.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return "must be valid Unicode text";
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return "must be valid Unicode text";
    }
  }
  return undefined;
}
