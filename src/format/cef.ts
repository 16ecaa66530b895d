// CEF (ArcSight Common Event Format) encoder: header + extension, one line, UTF-8.
import type { Detection } from "../record.js";
import { escapeCefHeader, escapeCefValue, type TruncationCounter } from "./escape.js";
import { compileFieldPlan, type FieldTarget, type KeyText } from "./field-plan.js";
import { fitFields } from "./fit.js";
import { CEF_PROFILE, cefSeverity, eventClassId, eventName, type MappingProfile } from "./mapping.js";

/** The product-identifying header fields; vendor + product must stay stable for SIEM content. */
export interface CefHeaderFields {
  readonly vendor?: string;
  readonly product?: string;
  readonly version?: string;
}

export interface CefEncoderOptions extends CefHeaderFields {
  /** The mapping, defaults and overrides resolved (see resolveMapping); CEF_PROFILE by default. */
  readonly profile?: MappingProfile;
}

/** An encoded message body (no syslog header) and how many values were cut to fit their limits. */
export interface EncodedText {
  readonly text: string;
  readonly truncated: number;
}

/** Encodes one detection; `fit` also cuts the longest values so the body takes at most `maxBytes`. */
export interface BodyEncoder {
  encode(detection: Detection): EncodedText;
  /**
   * The same body with the longest values cut (water-filling, never below FIT_FLOOR_BYTES, header
   * fields and constants never; expendable values first, see fitLevels) until it takes at most
   * `maxBytes` UTF-8 bytes. When it cannot fit, the result is the smallest body there is, longer
   * than `maxBytes`: the caller checks the length.
   */
  fit(detection: Detection, maxBytes: number): EncodedText;
}

export const CEF_DEFAULT_HEADER = {
  vendor: "Microsoft",
  product: "Microsoft Defender ATP",
  version: "2.0",
} as const;

// Header lengths from the CEF standard, in UTF-8 bytes after escaping.
export const CEF_HEADER_LIMITS = { vendor: 63, product: 63, version: 31 } as const;
const CLASS_ID_MAX = 1023;
const NAME_MAX = 512;

/** Builds an encoder with the constant part of the header escaped once (once per product). */
export function createCefEncoder(options: CefEncoderOptions = {}): BodyEncoder {
  const profile = options.profile ?? CEF_PROFILE;
  const constant: TruncationCounter = { truncated: 0 };
  const vendor = escapeCefHeader(
    options.vendor ?? CEF_DEFAULT_HEADER.vendor,
    CEF_HEADER_LIMITS.vendor,
    constant,
  );
  const version = escapeCefHeader(
    options.version ?? CEF_DEFAULT_HEADER.version,
    CEF_HEADER_LIMITS.version,
    constant,
  );
  const prefixOf = (product: string, counter: TruncationCounter): string =>
    `CEF:0|${vendor}|${escapeCefHeader(product, CEF_HEADER_LIMITS.product, counter)}|${version}|`;
  const prefix = prefixOf(options.product ?? CEF_DEFAULT_HEADER.product, constant);
  const { productOf } = profile;
  // A product per service: a handful of them, each escaped once (a product cut to fit counts each time).
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
  const nameOf = profile.eventName ?? eventName;

  const header = (detection: Detection, counter: TruncationCounter): string =>
    prefixFor(detection, counter) +
    `${escapeCefHeader(classIdOf(detection), CLASS_ID_MAX, counter)}|` +
    `${escapeCefHeader(nameOf(detection), NAME_MAX, counter)}|` +
    `${cefSeverity(detection)}|`;

  const plan = compileFieldPlan(profile, cefKeyText);

  /** The header followed by the pairs; an empty value is left out together with its label. */
  const assemble = (head: string, targets: readonly FieldTarget[], values: readonly string[]): string => {
    let text = head;
    let first = true;
    for (let i = 0; i < targets.length; i++) {
      const value = values[i] ?? "";
      // Whitespace-only values end up empty after trimming: omitted like any empty value.
      if (value === "") continue;
      const target = targets[i] as FieldTarget;
      text += first ? target.first : target.next;
      text += value;
      text += target.after;
      first = false;
    }
    return text;
  };

  return {
    encode(detection) {
      const counter: TruncationCounter = { truncated: constant.truncated };
      let text = header(detection, counter);
      const { count, targets, values } = plan.map(detection);
      let first = true;
      for (let i = 0; i < count; i++) {
        const target = targets[i] as FieldTarget;
        const value = escapeCefValue(values[i] as string, target.maxBytes, counter);
        if (value === "") continue;
        text += first ? target.first : target.next;
        text += value;
        text += target.after;
        first = false;
      }
      return { text, truncated: counter.truncated };
    },

    fit(detection, maxBytes) {
      const headerCounter: TruncationCounter = { truncated: constant.truncated };
      const head = header(detection, headerCounter);
      const fitted = fitFields(
        plan.map(detection),
        escapeCefValue,
        (targets, values) => assemble(head, targets, values),
        maxBytes,
      );
      return { text: fitted.text, truncated: headerCounter.truncated + fitted.truncated };
    },
  };
}

/** CEF pairs: `key=value`, a space before every pair but the first, the label pair after its value. */
const cefKeyText = (key: string, label: string | undefined): KeyText => ({
  first: `${key}=`,
  next: ` ${key}=`,
  after: label === undefined ? "" : ` ${key}Label=${label}`,
});

const defaultEncoder = createCefEncoder();

/** Encodes one detection as a CEF message (no syslog header). */
export function encodeCef(detection: Detection, header?: CefHeaderFields): EncodedText {
  return header === undefined ? defaultEncoder.encode(detection) : createCefEncoder(header).encode(detection);
}
