// LEEF (IBM QRadar Log Event Extended Format) encoder, 2.0 by default, 1.0 selectable.
// LEEF has no escaping: anything that could end a value early is replaced (see escape.ts).
import type { Detection } from "../record.js";
import type { EncodedText } from "./cef.js";
import { sanitizeLeef, type TruncationCounter } from "./escape.js";
import { eventClassId, LEEF_PROFILE, mapDetection } from "./mapping.js";

export type LeefVersion = "1.0" | "2.0";

export interface LeefOptions {
  readonly version?: LeefVersion;
  readonly vendor?: string;
  readonly product?: string;
  readonly productVersion?: string;
}

export const LEEF_DEFAULT_HEADER = {
  version: "2.0",
  vendor: "Microsoft",
  product: "Microsoft Defender ATP",
  productVersion: "2.0",
} as const;

// TAB for both versions: 1.0 fixes it, and for 2.0 it is the one character our values never
// contain after sanitising (so `x09` in the header is always true).
const DELIMITER = "\t";
const EVENT_ID_MAX = 255;
// No limits for vendor/product/version are documented; these match CEF's.
const VENDOR_MAX = 63;
const PRODUCT_MAX = 63;
const VERSION_MAX = 31;

/** Builds an encoder with the constant part of the header sanitised once. */
export function createLeefEncoder(options: LeefOptions = {}): (detection: Detection) => EncodedText {
  const version = options.version ?? LEEF_DEFAULT_HEADER.version;
  const constant: TruncationCounter = { truncated: 0 };
  const prefix =
    `LEEF:${version}|` +
    `${sanitizeLeef(options.vendor ?? LEEF_DEFAULT_HEADER.vendor, VENDOR_MAX, constant, "header")}|` +
    `${sanitizeLeef(options.product ?? LEEF_DEFAULT_HEADER.product, PRODUCT_MAX, constant, "header")}|` +
    `${sanitizeLeef(options.productVersion ?? LEEF_DEFAULT_HEADER.productVersion, VERSION_MAX, constant, "header")}|`;
  // 2.0 names its delimiter in a sixth header field; 1.0 ends the header after the EventID.
  const delimiterField = version === "2.0" ? "x09|" : "";

  return (detection) => {
    const counter: TruncationCounter = { truncated: constant.truncated };
    let text = `${prefix}${sanitizeLeef(eventClassId(detection), EVENT_ID_MAX, counter, "header")}|${delimiterField}`;
    let first = true;
    for (const field of mapDetection(detection, LEEF_PROFILE)) {
      const value = sanitizeLeef(field.value, field.maxBytes, counter, "value");
      text += first ? `${field.key}=${value}` : `${DELIMITER}${field.key}=${value}`;
      first = false;
    }
    return { text, truncated: counter.truncated };
  };
}

const encoders: Record<LeefVersion, (detection: Detection) => EncodedText> = {
  "1.0": createLeefEncoder({ version: "1.0" }),
  "2.0": createLeefEncoder({ version: "2.0" }),
};

/** Encodes one detection as a LEEF message (no syslog header). */
export function encodeLeef(detection: Detection, options: LeefOptions = {}): EncodedText {
  const onlyVersion =
    options.vendor === undefined && options.product === undefined && options.productVersion === undefined;
  return onlyVersion
    ? encoders[options.version ?? LEEF_DEFAULT_HEADER.version](detection)
    : createLeefEncoder(options)(detection);
}
