// The format module: one detection in, one syslog message (header + CEF/LEEF/JSON) out.
// Pure: no I/O, no metrics, no logging. The caller counts `truncated`, handles `tooLarge` and E_FORMAT.
import os from "node:os";
import type { Detection, SourceKind } from "../record.js";
import { type BodyEncoder, createCefEncoder } from "./cef.js";
import type { FormatConfig } from "./config.js";
import { alertJsonEncoder, jsonEncoder } from "./json.js";
import { createLeefEncoder } from "./leef.js";
import type { MappingProfile } from "./mapping.js";
import { fitsBytes } from "./message-bytes.js";
import { normalizeDetection, selectionFieldsOf } from "./normalize.js";
import { INCIDENT_PRODUCT, serviceProduct } from "./service-products.js";
import { createSyslogHeader, syslogSeverity, syslogSeverityOf } from "./syslog-header.js";

export {
  type BodyEncoder,
  type CefEncoderOptions,
  type CefHeaderFields,
  createCefEncoder,
  type EncodedText,
  encodeCef,
} from "./cef.js";
export {
  buildFormatConfig,
  type FormatConfig,
  type FormatIssue,
  type FormatOptions,
  type FormatOptionsInput,
  formatConfigFrom,
  formatOptionsShape,
  refineFormatOptions,
  validateFormatOptions,
} from "./config.js";
export { FIT_FLOOR_BYTES } from "./fit.js";
export { alertJsonEncoder, encodeJson, jsonEncoder } from "./json.js";
export {
  createLeefEncoder,
  encodeLeef,
  type LeefDelimiter,
  type LeefOptions,
  type LeefVersion,
  parseLeefDelimiter,
} from "./leef.js";
export { type MappingOverrides, resolveMapping } from "./mapping-overrides.js";
export { fitsBytes } from "./message-bytes.js";
export { normalizeDetection, type SelectionFields, selectionFieldsOf } from "./normalize.js";
export {
  ALERT_EXTRA_FIELDS,
  INCIDENT_FIELDS,
  NORMALIZED_FIELDS,
  type NormalizedField,
  SIEM_FIELDS,
} from "./normalized-fields.js";
export { INCIDENT_PRODUCT, SERVICE_PRODUCTS, serviceProduct } from "./service-products.js";
export {
  createSyslogHeader,
  type SyslogHeaderFields,
  type SyslogHeaderOptions,
  type SyslogHeaderStyle,
  syslogHeader,
  syslogSeverity,
  syslogSeverityOf,
} from "./syslog-header.js";

export interface FormattedMessage {
  /**
   * One syslog message, no framing, no trailing LF; never contains raw CR, LF or NUL (json/cef/leef).
   * When `tooLarge`, the smallest message there was, still over max_message_bytes.
   */
  readonly text: string;
  /**
   * `text` as UTF-8, made on first use: a caller that frames or prints strings never pays for it. Costs
   * about as much as the body (bench/encoders.bench.ts, "bytes" rows), whoever converts.
   */
  readonly bytes: Buffer;
  /** How many field values were cut: to their dictionary lengths (cef, leef) or to fit max_message_bytes. */
  readonly truncated: number;
  /** True when even with every value cut to its floor the message exceeds max_message_bytes: do not send it. */
  readonly tooLarge: boolean;
}

/** A message as text; its bytes when asked for. */
class Formatted implements FormattedMessage {
  private utf8: Buffer | undefined;
  constructor(
    readonly text: string,
    readonly truncated: number,
    readonly tooLarge: boolean,
  ) {}
  get bytes(): Buffer {
    this.utf8 ??= Buffer.from(this.text, "utf8");
    return this.utf8;
  }
}

export interface Formatter {
  /**
   * `kind`: the schema of `detection` (SIEM API detection by default). CEF and LEEF encode an alert
   * ("alerts", "graph") normalized to the SIEM schema (see normalize.ts), so the mapping and its
   * overrides apply to SIEM field names for every kind, and an incident ("incidents") normalized to the
   * incident fields; JSON sends it as received. The syslog and CEF/LEEF severities come from the
   * normalized Severity. A Graph alert's header product follows its serviceSource, an incident's is
   * Defender XDR's, unless `mapping.product_per_service` is false.
   */
  format(detection: Detection, kind?: SourceKind): FormattedMessage;
}

export interface FormatterDeps {
  /** Injected clock for the syslog header timestamp (defaults to () => new Date()). */
  clock?: () => Date;
  /** Host name for the syslog header when the destination sets no hostname (defaults to os.hostname()). */
  hostname?: string;
}

/**
 * Builds a formatter from a destination's format config (buildFormatConfig: the schema has checked it).
 * `format()` throws ForwarderError E_FORMAT only for a detection that cannot be serialised.
 */
export function createFormatter(config: FormatConfig, deps: FormatterDeps = {}): Formatter {
  const { profiles } = config;
  const make = (profile: MappingProfile | undefined): BodyEncoder =>
    config.format === "cef"
      ? createCefEncoder({
          vendor: config.vendor,
          product: config.product,
          version: config.productVersion,
          profile,
        })
      : config.format === "leef"
        ? createLeefEncoder({
            version: config.leefVersion,
            vendor: config.vendor,
            product: config.product,
            productVersion: config.productVersion,
            delimiter: config.leefDelimiter,
            profile,
          })
        : jsonEncoder;
  const encoder = make(profiles?.alerts);
  const perService = config.productPerService;
  // Made on first use: most destinations only ever see one source.
  let graphEncoder: BodyEncoder | undefined;
  let incidentEncoder: BodyEncoder | undefined;
  const graph = (): BodyEncoder => {
    graphEncoder ??=
      perService && profiles !== undefined
        ? make({ ...profiles.alerts, productOf: (d) => serviceProduct(d.ServiceSource) })
        : encoder;
    return graphEncoder;
  };
  const incidents = (): BodyEncoder => {
    if (incidentEncoder === undefined) {
      const profile = profiles?.incidents;
      incidentEncoder = make(
        perService && profile !== undefined ? { ...profile, productOf: () => INCIDENT_PRODUCT } : profile,
      );
    }
    return incidentEncoder;
  };
  const { syslogHeader } = config;
  const header = createSyslogHeader({
    style: syslogHeader.style,
    facility: syslogHeader.facility,
    hostname: syslogHeader.hostname ?? deps.hostname ?? os.hostname(),
    appName: syslogHeader.appName,
  });
  const clock = deps.clock ?? (() => new Date());
  const withHeader = syslogHeader.style !== "none";
  const max = config.maxMessageBytes;

  const emit = (body: BodyEncoder, detection: Detection, severity: number): FormattedMessage => {
    const encoded = body.encode(detection);
    const head = withHeader ? header(severity, clock()) : "";
    const text = head + encoded.text;
    // The common case: it fits, and nothing more is done.
    if (max === undefined || fitsBytes(text, max)) return new Formatted(text, encoded.truncated, false);
    const fitted = body.fit(detection, max - Buffer.byteLength(head));
    const cut = head + fitted.text;
    return new Formatted(cut, fitted.truncated, !fitsBytes(cut, max));
  };

  return {
    format(detection, kind) {
      if (kind === undefined || kind === "siem") return emit(encoder, detection, syslogSeverity(detection));
      if (config.format === "json") {
        return emit(
          alertJsonEncoder,
          detection,
          syslogSeverityOf(selectionFieldsOf(detection, kind).severity),
        );
      }
      const normalized = normalizeDetection(detection, kind);
      const body = kind === "graph" ? graph() : kind === "incidents" ? incidents() : encoder;
      return emit(body, normalized, syslogSeverity(normalized));
    },
  };
}
