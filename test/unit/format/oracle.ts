// The documented replacements and limits, written independently of src/format so that the tests
// check the encoder against the contract rather than against itself.
import assert from "node:assert/strict";

/**
 * Per code point: lone surrogates → U+FFFD; C0 controls (except those in `keep`), DEL and the line
 * separators U+0085, U+2028, U+2029 → space.
 */
function sanitize(value: string, keep: ReadonlySet<string>, alsoSpace: ReadonlySet<string>): string {
  let out = "";
  for (const ch of value) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp >= 0xd800 && cp <= 0xdfff) out += "\ufffd";
    else if (alsoSpace.has(ch)) out += " ";
    else if ((cp < 0x20 || cp === 0x7f) && !keep.has(ch)) out += " ";
    else if (cp === 0x85 || cp === 0x2028 || cp === 0x2029) out += " ";
    else out += ch;
  }
  return out;
}

const NONE = new Set<string>();
const CR_LF = new Set(["\r", "\n"]);
const PIPE = new Set(["|"]);

/** What a CEF extension value reads as after unescaping (before truncation and trimming). */
export const cefValueText = (value: string): string => sanitize(value, CR_LF, NONE);
/** What a CEF header field reads as after unescaping (before truncation). */
export const cefHeaderText = (value: string): string => sanitize(value, NONE, NONE);
export const leefValueText = (value: string): string => sanitize(value, NONE, NONE);
/** A LEEF value with a configured delimiter: that character becomes a space too. */
export const leefValueTextWith = (delimiter: string) => {
  const space = new Set([delimiter]);
  return (value: string): string => sanitize(value, NONE, space);
};
export const leefHeaderText = (value: string): string => sanitize(value, NONE, PIPE);

const count = (value: string, chars: RegExp): number => value.match(chars)?.length ?? 0;
/** UTF-8 length after CEF extension escaping of an already sanitised value. */
export const cefValueBytes = (text: string): number => Buffer.byteLength(text) + count(text, /[\\=\r\n]/g);
export const cefHeaderBytes = (text: string): number => Buffer.byteLength(text) + count(text, /[\\|]/g);
export const plainBytes = (text: string): number => Buffer.byteLength(text);

export const trimSpaces = (value: string): string => value.replace(/ +$/, "");

/**
 * Asserts that `parsed` is `text` (sanitised, unescaped form of the input) cut to `maxBytes`
 * escaped bytes at the last possible unit boundary, and with trailing spaces trimmed if `trim`.
 * Returns whether a truncation had to happen. `parsed` undefined means the key was absent.
 */
export function checkValue(
  what: string,
  parsed: string | undefined,
  text: string,
  maxBytes: number,
  bytes: (text: string) => number,
  trim: boolean,
): boolean {
  // Trailing spaces are trimmed before the length is measured: blanks never cause (or count as) a cut.
  if (trim) text = trimSpaces(text);
  const truncated = bytes(text) > maxBytes;
  const got = parsed ?? "";
  if (!truncated) {
    assert.equal(got, text, `${what}: value differs`);
    return false;
  }
  assert.ok(text.startsWith(got), `${what}: truncated value is not a prefix`);
  assert.ok(bytes(got) <= maxBytes, `${what}: ${bytes(got)} bytes exceed ${maxBytes}`);
  if (trim) assert.ok(!got.endsWith(" "), `${what}: trailing space`);
  // Maximal: the next code point (after any trimmed spaces) would not have fitted.
  let j = got.length;
  while (trim && text[j] === " ") j++;
  const cp = text.codePointAt(j) ?? 0;
  const end = j + (cp > 0xffff ? 2 : 1);
  assert.ok(bytes(text.slice(0, end)) > maxBytes, `${what}: cut earlier than needed`);
  return true;
}

/** The message is one line of well-formed UTF-8 without raw CR, LF, NUL, NEL, LS or PS. */
export function assertOneLine(bytes: Buffer): string {
  const text = bytes.toString("utf8");
  assert.ok(Buffer.from(text, "utf8").equals(bytes), "message is not well-formed UTF-8");
  for (const b of [0x0a, 0x0d, 0x00]) assert.equal(bytes.indexOf(b), -1, `raw byte 0x${b.toString(16)}`);
  assert.doesNotMatch(text, /[\u0085\u2028\u2029]/, "raw line separator");
  return text;
}

/** Field name → CEF user-defined key, per the documented rule. */
export const cefExtraKey = (name: string): string => `MicrosoftDefender${name.replace(/[^A-Za-z0-9]/g, "")}`;

/** What a string value of a detection takes inside JSON quotes, escapes included, in UTF-8 bytes. */
export const jsonStringBytes = (value: string): number => Buffer.byteLength(JSON.stringify(value)) - 2;

/**
 * For a value that may also have been cut to make the message fit: `parsed` must be a prefix of
 * `text` (trimmed of trailing spaces if `trim`) within `maxBytes`; returns whether it was cut.
 */
export function checkPrefix(
  what: string,
  parsed: string | undefined,
  text: string,
  maxBytes: number,
  bytes: (text: string) => number,
  trim: boolean,
): boolean {
  if (trim) text = trimSpaces(text);
  const got = parsed ?? "";
  assert.ok(text.startsWith(got), `${what}: ${JSON.stringify(got)} is not a prefix`);
  assert.ok(bytes(got) <= maxBytes, `${what}: ${bytes(got)} bytes exceed ${maxBytes}`);
  if (trim) assert.ok(!got.endsWith(" "), `${what}: trailing space`);
  return got !== text;
}
