// Parsing an API response at a bounded cost, whatever it holds. The body (already capped at
// poll.max_response_bytes) is scanned once without building anything: its items (the elements of a root
// array, or of the `value` array of a root object: the SIEM API's and OData's shapes) are located, and each
// is measured. Only then are the items parsed, one by one, so that
//   - a response with too many items, or whose items would take too much memory once parsed (a million `{}`
//     fit in 3 MB and take 70 MB), fails as a whole (JsonBoundsError "too_large") before anything is built;
//   - an item nested too deeply (which would overflow the stack wherever it is serialised later), too large,
//     or that is not an object is not parsed at all: it stays in place as a rejected item (its raw text,
//     bounded), so that counts and paging still see it, and the poller quarantines it.
// The scan follows JSON's structure loosely (it counts brackets and skips strings); JSON.parse checks each
// item exactly, so a body that is not JSON still fails as such.
import { isAscii } from "node:buffer";
import { createHash } from "node:crypto";
import { MAX_QUARANTINE_RAW_BYTES, type QuarantineReason, rejectedItem } from "../record.js";

export interface JsonLimits {
  /** Items in one response at most. */
  readonly maxItems: number;
  /** Nesting levels within one item at most (the item itself is level 1). */
  readonly maxDepth: number;
  /** Bytes of one item at most. */
  readonly maxItemBytes: number;
  /**
   * What the parsed response may cost, in units of about 16 bytes of heap: a string, number or literal
   * counts 1, an object or array 4 (measured: `{}` takes 72 bytes in an array, a small number 16).
   */
  readonly maxUnits: number;
}

export const DEFAULT_JSON_LIMITS: JsonLimits = {
  // The largest `limit` (poll.max_per_request) there is: a server sending more is ignoring it.
  maxItems: 100_000,
  // Real alerts nest 6 or 7 levels (evidence, file details); 64 is far from the stack's limits.
  maxDepth: 64,
  maxItemBytes: 4 * 1_048_576,
  // About 130 MB at worst; a 64 MiB response of real detections takes about 2.5 million units.
  maxUnits: 8_000_000,
};

/**
 * The text of each item parsed from compact JSON (no white space between tokens), until taken: storing it
 * saves encoding the item again (JSON.stringify of a detection cost 5% of a backfill), and it parses back to
 * the same object. Weak, so an item nobody takes (a full response thrown away) leaves with its text.
 */
const compactTexts = new WeakMap<object, string>();

/**
 * Item text kept per response at most, in characters: a response of 5,000 real detections (about 11 MB)
 * keeps all of it, while the largest response the bounds accept does not double its cost (the hostile
 * benchmark's 64 MiB of detections peaked at 422 MB with every text kept, against 400 MB allowed).
 */
const MAX_KEPT_TEXT = 16 * 1_048_576;

/** The compact JSON text `item` was parsed from, once (the entry is removed); undefined when there is none. */
export function takeItemText(item: unknown): string | undefined {
  if (typeof item !== "object" || item === null) return undefined;
  const text = compactTexts.get(item);
  if (text !== undefined) compactTexts.delete(item);
  return text;
}

/** Why a body could not be parsed: not JSON (or cut), or over a bound of the whole response. */
export class JsonBoundsError extends Error {
  constructor(
    readonly kind: "syntax" | "too_large",
    message: string,
  ) {
    super(message);
    this.name = "JsonBoundsError";
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const VALUE_KEY = Buffer.from('"value"');

function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** Where a value ends, how deep it nests (a scalar 0, `{}` 1) and what it costs once parsed. */
interface Extent {
  end: number;
  depth: number;
  units: number;
}

/**
 * Parses `body` within `limits`. Returns the root value with every item parsed in place, or replaced by a
 * rejected-item marker. Throws JsonBoundsError.
 */
export function parseBoundedJson(body: Buffer, limits: JsonLimits = DEFAULT_JSON_LIMITS): unknown {
  const n = body.length;
  let pos = 0;
  let units = 0;
  // A UTF-8 byte order mark is not JSON, but harmless.
  if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) pos = 3;

  const syntax = (what: string) => new JsonBoundsError("syntax", `${what} at byte ${pos}`);
  const spend = (cost: number) => {
    units += cost;
    if (units > limits.maxUnits) {
      throw new JsonBoundsError(
        "too_large",
        `the response holds more values than the forwarder parses at once (over ${limits.maxUnits} units)`,
      );
    }
  };
  /** Characters of item text kept for the caller so far (compactTexts). */
  let keptText = 0;
  /**
   * A body of at most MAX_KEPT_TEXT bytes (a real response) is decoded once as latin1: one character per
   * byte, so offsets agree, and the scan reads it (String indexOf finds a string's end in a fraction of what
   * Buffer indexOf costs per call: about 1.5 us per detection). When it is ASCII, each item's text is a slice
   * of it too: a few dozen bytes per item instead of a copy of ~2 kB that the young generation copies again
   * at each scavenge it survives (the texts live until the ingest). A slice keeps the whole text alive while
   * any item's text is, so larger bodies, where that would exceed the MAX_KEPT_TEXT bound, are scanned as
   * bytes, and they and bodies that are not ASCII get a copy per item.
   */
  const src = n <= MAX_KEPT_TEXT ? body.toString("latin1") : undefined;
  let whole: string | undefined;
  let wholeDecided = false;
  const itemText = (start: number, end: number): string => {
    if (!wholeDecided) {
      wholeDecided = true;
      if (src !== undefined && isAscii(body)) whole = src;
    }
    return whole === undefined ? body.toString("utf8", start, end) : whole.slice(start, end);
  };
  /** Whether the value scanned last has white space between its tokens (its text is not compact JSON). */
  let spaced = false;
  const skipSpace = () => {
    while (pos < n && isSpace(body[pos])) pos++;
  };

  /** Skips the string starting at `from` (its opening quote); returns the index after its closing quote. */
  const skipString = (from: number): number => {
    let at = from + 1;
    for (;;) {
      const quote = src === undefined ? body.indexOf(QUOTE, at) : src.indexOf('"', at);
      if (quote === -1) {
        pos = n;
        throw syntax("unterminated string");
      }
      let backslashes = 0;
      while (body[quote - 1 - backslashes] === BACKSLASH) backslashes++;
      if (backslashes % 2 === 0) return quote + 1;
      at = quote + 1;
    }
  };

  /**
   * Scans one value from `pos` (no leading space); leaves `pos` after it. The hot loop of a backfill's parse:
   * it keeps the position in a local, and writes it back when it is done or fails.
   */
  const scanValue = (): Extent => {
    let p = pos;
    let isSpaced = false;
    let depth = 0;
    let deepest = 0;
    let cost = 0;
    let error: string | undefined;
    let whole = false;
    while (p < n) {
      const c = src === undefined ? (body[p] as number) : src.charCodeAt(p);
      if (c === QUOTE) {
        p = skipString(p);
        cost++;
        if (depth === 0) {
          whole = true;
          break;
        }
      } else if (c === COMMA || c === COLON) {
        if (depth === 0) {
          error = "unexpected character";
          break;
        }
        p++;
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        depth++;
        if (depth > deepest) deepest = depth;
        cost += 4;
        p++;
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (depth === 0) {
          error = "unexpected closing bracket";
          break;
        }
        depth--;
        p++;
        if (depth === 0) {
          whole = true;
          break;
        }
      } else if (isSpace(c)) {
        if (depth === 0) {
          error = "unexpected character";
          break;
        }
        isSpaced = true;
        p++;
      } else {
        // A number or a literal: up to the next delimiter (JSON.parse checks what it is).
        const start = p;
        while (p < n) {
          const d = src === undefined ? body[p] : src.charCodeAt(p);
          if (d === COMMA || d === CLOSE_BRACE || d === CLOSE_BRACKET || d === COLON || isSpace(d)) break;
          if (d === QUOTE || d === OPEN_BRACE || d === OPEN_BRACKET) break;
          p++;
        }
        if (p === start) {
          error = "unexpected character";
          break;
        }
        cost++;
        if (depth === 0) {
          whole = true;
          break;
        }
      }
    }
    pos = p;
    if (!whole) throw syntax(error ?? "the body ends inside a value (cut?)");
    spaced = isSpaced;
    return { end: p, depth: deepest, units: cost };
  };

  /** Scans the array of items starting at `pos` (its `[`); returns the parsed items and where it ends. */
  const scanItems = (): { items: unknown[]; end: number } => {
    spend(4);
    pos++;
    const items: unknown[] = [];
    skipSpace();
    if (body[pos] === CLOSE_BRACKET) {
      pos++;
      return { items, end: pos };
    }
    for (;;) {
      skipSpace();
      if (pos >= n) throw syntax("the body ends inside the array (cut?)");
      const start = pos;
      const extent = scanValue();
      if (items.length >= limits.maxItems) {
        throw new JsonBoundsError(
          "too_large",
          `the response holds more than ${limits.maxItems} items (the API ignores the requested limit?)`,
        );
      }
      items.push(item(start, extent));
      skipSpace();
      const c = body[pos];
      pos++;
      if (c === COMMA) continue;
      if (c === CLOSE_BRACKET) return { items, end: pos };
      pos--;
      throw syntax(pos >= n ? "the body ends inside the array (cut?)" : "expected , or ]");
    }
  };

  const item = (start: number, extent: Extent): unknown => {
    const bytes = extent.end - start;
    let reason: QuarantineReason | undefined;
    if (body[start] !== OPEN_BRACE) reason = "not_an_object";
    else if (extent.depth > limits.maxDepth) reason = "too_deep";
    else if (bytes > limits.maxItemBytes) reason = "too_large";
    if (reason !== undefined) {
      return rejectedItem({
        reason,
        raw: body.toString("utf8", start, Math.min(extent.end, start + MAX_QUARANTINE_RAW_BYTES)),
        bytes,
        hash: createHash("sha256").update(body.subarray(start, extent.end)).digest("hex"),
      });
    }
    spend(extent.units);
    const text = itemText(start, extent.end);
    const value = parse(text, start) as object;
    if (!spaced && keptText + text.length <= MAX_KEPT_TEXT) {
      compactTexts.set(value, text);
      keptText += text.length;
    }
    return value;
  };

  const parse = (text: string, at: number): unknown => {
    try {
      return JSON.parse(text);
    } catch {
      throw new JsonBoundsError("syntax", `not JSON (in the value at byte ${at})`);
    }
  };

  skipSpace();
  const root = body[pos];
  if (root === OPEN_BRACKET) {
    const { items } = scanItems();
    skipSpace();
    if (pos < n) throw syntax("unexpected data after the JSON value");
    return items;
  }
  if (root !== OPEN_BRACE) {
    // Not a shape any API answers with: parsed whole (within the byte cap) so the caller can say what it is.
    const start = pos;
    spend(scanValue().units);
    skipSpace();
    if (pos < n) throw syntax("unexpected data after the JSON value");
    return parse(body.toString("utf8", start, n), start);
  }

  // A root object (OData): every member is scanned; the `value` array's elements are the items, the rest
  // (context, nextLink) is parsed as one small object with `value` left empty.
  const rootStart = pos;
  spend(4);
  pos++;
  let items: { items: unknown[]; start: number; end: number } | undefined;
  skipSpace();
  if (body[pos] === CLOSE_BRACE) pos++;
  else {
    for (;;) {
      skipSpace();
      if (body[pos] !== QUOTE)
        throw syntax(pos >= n ? "the body ends inside an object (cut?)" : "expected a key");
      const keyStart = pos;
      pos = skipString(pos);
      const isValue = items === undefined && body.subarray(keyStart, pos).equals(VALUE_KEY);
      skipSpace();
      if (body[pos] !== COLON) throw syntax("expected :");
      pos++;
      skipSpace();
      if (pos >= n) throw syntax("the body ends inside an object (cut?)");
      if (isValue && body[pos] === OPEN_BRACKET) {
        const start = pos;
        const scanned = scanItems();
        items = { items: scanned.items, start, end: scanned.end };
      } else {
        spend(scanValue().units);
      }
      skipSpace();
      const c = body[pos];
      pos++;
      if (c === COMMA) continue;
      if (c === CLOSE_BRACE) break;
      pos--;
      throw syntax(pos >= n ? "the body ends inside an object (cut?)" : "expected , or }");
    }
  }
  const rootEnd = pos;
  skipSpace();
  if (pos < n) throw syntax("unexpected data after the JSON value");
  const text =
    items === undefined
      ? body.toString("utf8", rootStart, rootEnd)
      : `${body.toString("utf8", rootStart, items.start)}[]${body.toString("utf8", items.end, rootEnd)}`;
  const wrapper = parse(text, rootStart) as Record<string, unknown>;
  if (items !== undefined) wrapper.value = items.items;
  return wrapper;
}
