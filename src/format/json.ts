// JSON encoder: the detection as received, one compact object per message.
import { ForwarderError } from "../errors.js";
import type { Detection } from "../record.js";
import type { BodyEncoder, EncodedText } from "./cef.js";
import { FIT_FLOOR_BYTES, waterLevel } from "./fit.js";
import { KEEP_WHOLE } from "./mapping.js";

function stringify(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw new ForwarderError("E_FORMAT", "the detection cannot be serialised as JSON", { cause: err });
  }
  if (text === undefined) throw new ForwarderError("E_FORMAT", "the detection serialises to nothing");
  return escapeLineSeparators(text);
}

const LINE_SEPARATORS = /[\u0085\u2028\u2029]/g;

/**
 * JSON.stringify writes NEL, LINE SEPARATOR and PARAGRAPH SEPARATOR raw; receivers that end lines on them
 * would split the event. They can only stand inside strings there, where `\uXXXX` means the same.
 */
function escapeLineSeparators(text: string): string {
  // Three searches for one character each (memchr-like, and nothing at all for U+2028/U+2029 in a text of
  // Latin-1 characters) cost a tenth of one pass of a regular expression over the whole message.
  if (text.indexOf("\u0085") === -1 && text.indexOf("\u2028") === -1 && text.indexOf("\u2029") === -1) {
    return text;
  }
  return text.replace(LINE_SEPARATORS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * `JSON.stringify` already keeps the message on one line: it escapes CR, LF, NUL and every other
 * control character, and (since ES2019) writes lone surrogates as `\udXXX` escapes; stringify() above
 * escapes the line separators U+0085, U+2028 and U+2029 as well.
 */
export function encodeJson(detection: Detection): EncodedText {
  return { text: stringify(detection), truncated: 0 };
}

/** UTF-8 bytes of one code point (or lone surrogate) inside a JSON string, as JSON.stringify writes it. */
function jsonUnitBytes(code: number, pair: boolean): number {
  if (pair) return 4;
  if (code === 0x22 || code === 0x5c) return 2; // \" \\
  if (code < 0x20)
    return code === 0x08 || code === 0x09 || code === 0x0a || code === 0x0c || code === 0x0d ? 2 : 6;
  if (code < 0x80) return 1;
  if (code === 0x85 || code === 0x2028 || code === 0x2029) return 6; // \u0085 \u2028 \u2029
  if (code < 0x800) return 2;
  if (code >= 0xd800 && code <= 0xdfff) return 6; // a lone surrogate: \udXXX
  return 3;
}

/** The longest prefix of `value` whose JSON escaping (quotes excluded) takes at most `maxBytes` bytes. */
export function cutJsonString(value: string, maxBytes: number): string {
  let bytes = 0;
  let i = 0;
  while (i < value.length) {
    const c = value.charCodeAt(i);
    const next = value.charCodeAt(i + 1);
    const pair = c >= 0xd800 && c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff;
    const size = jsonUnitBytes(c, pair);
    if (bytes + size > maxBytes) return value.slice(0, i);
    bytes += size;
    i += pair ? 2 : 1;
  }
  return value;
}

/** The JSON body encoder: `fit` shortens the longest top-level string values, keeping valid JSON. */
export const jsonEncoder: BodyEncoder = {
  encode: encodeJson,
  fit(detection, maxBytes) {
    const text = stringify(detection);
    // FullId and AlertId stay whole: a SIEM needs them to drop resent duplicates.
    const names = Object.keys(detection).filter(
      (k) => typeof detection[k] === "string" && !KEEP_WHOLE.has(k),
    );
    // Inside quotes, escapes included: what cutting a value can save.
    const lengths = names.map((k) => Buffer.byteLength(JSON.stringify(detection[k])) - 2);
    const level = waterLevel(lengths, Buffer.byteLength(text) - maxBytes) ?? FIT_FLOOR_BYTES;
    const copy: Record<string, unknown> = { ...detection };
    let truncated = 0;
    names.forEach((name, i) => {
      if ((lengths[i] ?? 0) <= level) return;
      copy[name] = cutJsonString(detection[name] as string, level);
      truncated++;
    });
    return { text: truncated === 0 ? text : stringify(copy), truncated };
  },
};

/** Top-level keys of an alert that stay whole, like FullId and AlertId of a detection: its identity. */
const ALERT_KEEP_WHOLE: ReadonlySet<string> = new Set(["id", "providerAlertId", ...KEEP_WHOLE]);

/**
 * The JSON encoder for alerts (Alerts API, Graph): the alert as received; `fit` shortens the longest
 * string values at any depth (an alert's bulk is in its nested evidence), keeping valid JSON, the same
 * structure and the alert's id whole.
 */
export const alertJsonEncoder: BodyEncoder = {
  encode: encodeJson,
  fit(alert, maxBytes) {
    const text = stringify(alert);
    // Two walks in the same order: the first measures every string, the second cuts the long ones.
    const lengths: number[] = [];
    serialise(alert, function (this: unknown, key: string, value: unknown) {
      if (typeof value === "string") {
        const whole = this === alert && ALERT_KEEP_WHOLE.has(key);
        lengths.push(whole ? 0 : Buffer.byteLength(JSON.stringify(value)) - 2);
      }
      return value;
    });
    const level = waterLevel(lengths, Buffer.byteLength(text) - maxBytes) ?? FIT_FLOOR_BYTES;
    if (level === Number.POSITIVE_INFINITY) return { text, truncated: 0 };
    let truncated = 0;
    let i = 0;
    const cut = serialise(alert, (_key: string, value: unknown) => {
      if (typeof value !== "string") return value;
      if ((lengths[i++] ?? 0) <= level) return value;
      truncated++;
      return cutJsonString(value, level);
    });
    return { text: truncated === 0 ? text : cut, truncated };
  },
};

function serialise(
  value: unknown,
  replacer: (this: unknown, key: string, value: unknown) => unknown,
): string {
  try {
    return escapeLineSeparators(JSON.stringify(value, replacer) ?? "");
  } catch (err) {
    throw new ForwarderError("E_FORMAT", "the detection cannot be serialised as JSON", { cause: err });
  }
}
