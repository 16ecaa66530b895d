// CEF (ArcSight Common Event Format) encoder: header + extension, one line, UTF-8.
import type { Detection } from "../record.js";
import { escapeCefHeader, escapeCefValue, type TruncationCounter } from "./escape.js";
import { CEF_PROFILE, cefSeverity, eventClassId, eventName, mapDetection } from "./mapping.js";

/** The product-identifying header fields; vendor + product must stay stable for SIEM content. */
export interface CefHeaderFields {
  readonly vendor?: string;
  readonly product?: string;
  readonly version?: string;
}

/** An encoded message body (no syslog header) and how many values were cut to fit their limits. */
export interface EncodedText {
  readonly text: string;
  readonly truncated: number;
}

export const CEF_DEFAULT_HEADER = {
  vendor: "Microsoft",
  product: "Microsoft Defender ATP",
  version: "2.0",
} as const;

// Header lengths from the CEF standard, in UTF-8 bytes after escaping.
const VENDOR_MAX = 63;
const PRODUCT_MAX = 63;
const VERSION_MAX = 31;
const CLASS_ID_MAX = 1023;
const NAME_MAX = 512;

/** Builds an encoder with the constant part of the header escaped once. */
export function createCefEncoder(header: CefHeaderFields = {}): (detection: Detection) => EncodedText {
  const constant: TruncationCounter = { truncated: 0 };
  const prefix =
    "CEF:0|" +
    `${escapeCefHeader(header.vendor ?? CEF_DEFAULT_HEADER.vendor, VENDOR_MAX, constant)}|` +
    `${escapeCefHeader(header.product ?? CEF_DEFAULT_HEADER.product, PRODUCT_MAX, constant)}|` +
    `${escapeCefHeader(header.version ?? CEF_DEFAULT_HEADER.version, VERSION_MAX, constant)}|`;

  return (detection) => {
    const counter: TruncationCounter = { truncated: constant.truncated };
    let text =
      prefix +
      `${escapeCefHeader(eventClassId(detection), CLASS_ID_MAX, counter)}|` +
      `${escapeCefHeader(eventName(detection), NAME_MAX, counter)}|` +
      `${cefSeverity(detection)}|`;
    let first = true;
    for (const field of mapDetection(detection, CEF_PROFILE)) {
      const value = escapeCefValue(field.value, field.maxBytes, counter);
      // Whitespace-only values end up empty after trimming: omitted like any empty value.
      if (value === "") continue;
      text += first ? `${field.key}=${value}` : ` ${field.key}=${value}`;
      // Labels are constant alphanumeric words well under their 128/1023 limits: no escaping needed.
      if (field.label !== undefined) text += ` ${field.key}Label=${field.label}`;
      first = false;
    }
    return { text, truncated: counter.truncated };
  };
}

const defaultEncoder = createCefEncoder();

/** Encodes one detection as a CEF message (no syslog header). */
export function encodeCef(detection: Detection, header?: CefHeaderFields): EncodedText {
  return header === undefined ? defaultEncoder(detection) : createCefEncoder(header)(detection);
}
