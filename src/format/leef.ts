// LEEF (IBM QRadar Log Event Extended Format) encoder, 2.0 by default, 1.0 selectable.
// LEEF has no escaping: anything that could end a value early is replaced (see escape.ts).
import { ForwarderError } from "../errors.js";
import type { Detection } from "../record.js";
import type { BodyEncoder, EncodedText } from "./cef.js";
import { sanitizeLeef, type TruncationCounter } from "./escape.js";
import { compileFieldPlan, type FieldTarget } from "./field-plan.js";
import { fitFields } from "./fit.js";
import { eventClassId, LEEF_PROFILE, type MappingProfile } from "./mapping.js";

export type LeefVersion = "1.0" | "2.0";

export interface LeefOptions {
  readonly version?: LeefVersion;
  readonly vendor?: string;
  readonly product?: string;
  readonly productVersion?: string;
  /**
   * LEEF 2.0 attribute delimiter as configured (`leef_delimiter`): one character or `xHH`/`0xHH`;
   * TAB (`x09`) by default. See parseLeefDelimiter for what is allowed.
   */
  readonly delimiter?: string;
  /** The mapping, defaults and overrides resolved (see resolveMapping); LEEF_PROFILE by default. */
  readonly profile?: MappingProfile;
}

export const LEEF_DEFAULT_HEADER = {
  version: "2.0",
  vendor: "Microsoft",
  product: "Microsoft Defender ATP",
  productVersion: "2.0",
} as const;

// No limits for vendor/product/version are documented; these match CEF's.
export const LEEF_HEADER_LIMITS = { vendor: 63, product: 63, version: 31 } as const;
const EVENT_ID_MAX = 255;

export interface LeefDelimiter {
  /** The character between attributes. */
  readonly char: string;
  /** How the LEEF 2.0 header names it: as configured, except that a literal TAB is written `x09`. */
  readonly field: string;
}

const HEX_DELIMITER = /^(?:0x|x)([0-9A-Fa-f]{1,4})$/;
// `=` splits key from value, `|` the header fields, `\` is everywhere in Windows paths, a space or a
// letter or digit in every value or key: none of them can separate attributes safely.
const REFUSED_DELIMITERS = new Set(["=", "|", "\\", " "]);

/**
 * Parses a LEEF 2.0 delimiter: one character, or IBM's hex form `xHH`/`0xHH` (1-4 hex digits).
 * Allowed: TAB, or one printable ASCII character other than a letter, digit, `=`, `|`, `\` or space.
 * Returns the reason as a string when it is not allowed.
 */
export function parseLeefDelimiter(spec: string): LeefDelimiter | string {
  const hex = HEX_DELIMITER.exec(spec);
  let char: string;
  if (hex?.[1] !== undefined) char = String.fromCharCode(Number.parseInt(hex[1], 16));
  else if (spec.length === 1) char = spec;
  else return 'must be one character, or its hex code written "xHH" or "0xHH" (for example "^" or "x5E")';
  const code = char.charCodeAt(0);
  if (char === "\t") return { char, field: spec === "\t" ? "x09" : spec };
  if (code < 0x20 || code >= 0x7f) return "must be TAB (x09) or a printable ASCII character";
  if (/[A-Za-z0-9]/.test(char) || REFUSED_DELIMITERS.has(char)) {
    return "cannot be a letter, a digit, a space, =, | or \\ (they occur in keys, values or the header)";
  }
  return { char, field: spec };
}

const TAB_DELIMITER: LeefDelimiter = { char: "\t", field: "x09" };

/** Builds an encoder with the constant part of the header sanitised once. */
export function createLeefEncoder(options: LeefOptions = {}): BodyEncoder {
  const version = options.version ?? LEEF_DEFAULT_HEADER.version;
  const profile = options.profile ?? LEEF_PROFILE;
  let delimiter = TAB_DELIMITER;
  if (options.delimiter !== undefined) {
    const parsed = parseLeefDelimiter(options.delimiter);
    if (typeof parsed === "string") throw new ForwarderError("E_CONFIG_INVALID", `leef_delimiter ${parsed}`);
    if (version === "1.0" && parsed.char !== "\t") {
      throw new ForwarderError("E_CONFIG_INVALID", "leef_delimiter applies to LEEF 2.0 only (1.0 uses TAB)");
    }
    delimiter = parsed;
  }
  const separator = delimiter.char;
  const constant: TruncationCounter = { truncated: 0 };
  const h = (value: string, max: number, counter = constant) => sanitizeLeef(value, max, counter, "header");
  const vendor = h(options.vendor ?? LEEF_DEFAULT_HEADER.vendor, LEEF_HEADER_LIMITS.vendor);
  const productVersion = h(
    options.productVersion ?? LEEF_DEFAULT_HEADER.productVersion,
    LEEF_HEADER_LIMITS.version,
  );
  const prefixOf = (product: string, counter: TruncationCounter): string =>
    `LEEF:${version}|${vendor}|${h(product, LEEF_HEADER_LIMITS.product, counter)}|${productVersion}|`;
  const prefix = prefixOf(options.product ?? LEEF_DEFAULT_HEADER.product, constant);
  const { productOf } = profile;
  const prefixes = new Map<string, { text: string; truncated: number }>();
  const prefixFor = (detection: Detection, counter: TruncationCounter): string => {
    const product = productOf?.(detection);
    if (product === undefined) return prefix;
    let found = prefixes.get(product);
    if (found === undefined) {
      const cut: TruncationCounter = { truncated: 0 };
      found = { text: prefixOf(product, cut), truncated: cut.truncated };
      if (prefixes.size < 64) prefixes.set(product, found);
    }
    counter.truncated += found.truncated;
    return found.text;
  };
  const classIdOf = profile.eventClassId ?? eventClassId;
  // 2.0 names its delimiter in a sixth header field; 1.0 ends the header after the EventID.
  const delimiterField = version === "2.0" ? `${delimiter.field}|` : "";
  const header = (detection: Detection, counter: TruncationCounter): string =>
    `${prefixFor(detection, counter)}${sanitizeLeef(classIdOf(detection), EVENT_ID_MAX, counter, "header")}|${delimiterField}`;
  const value = (raw: string, max: number, counter: TruncationCounter): string =>
    sanitizeLeef(raw, max, counter, "value", separator);
  // LEEF has no labels: a label a rule may carry is not written.
  const plan = compileFieldPlan(profile, (key) => ({
    first: `${key}=`,
    next: `${separator}${key}=`,
    after: "",
  }));
  const assemble = (head: string, targets: readonly FieldTarget[], values: readonly string[]): string => {
    let text = head;
    for (let i = 0; i < targets.length; i++) {
      const target = targets[i] as FieldTarget;
      text += i === 0 ? target.first : target.next;
      text += values[i];
    }
    return text;
  };

  return {
    encode(detection) {
      const counter: TruncationCounter = { truncated: constant.truncated };
      let text = header(detection, counter);
      const { count, targets, values } = plan.map(detection);
      for (let i = 0; i < count; i++) {
        const target = targets[i] as FieldTarget;
        text += i === 0 ? target.first : target.next;
        text += value(values[i] as string, target.maxBytes, counter);
      }
      return { text, truncated: counter.truncated };
    },

    fit(detection, maxBytes) {
      const headerCounter: TruncationCounter = { truncated: constant.truncated };
      const head = header(detection, headerCounter);
      const fitted = fitFields(
        plan.map(detection),
        value,
        (targets, values) => assemble(head, targets, values),
        maxBytes,
      );
      return { text: fitted.text, truncated: headerCounter.truncated + fitted.truncated };
    },
  };
}

const encoders: Record<LeefVersion, BodyEncoder> = {
  "1.0": createLeefEncoder({ version: "1.0" }),
  "2.0": createLeefEncoder({ version: "2.0" }),
};

/** Encodes one detection as a LEEF message (no syslog header). */
export function encodeLeef(detection: Detection, options: LeefOptions = {}): EncodedText {
  const onlyVersion = Object.entries(options).every(([k, v]) => k === "version" || v === undefined);
  return onlyVersion
    ? encoders[options.version ?? LEEF_DEFAULT_HEADER.version].encode(detection)
    : createLeefEncoder(options).encode(detection);
}
