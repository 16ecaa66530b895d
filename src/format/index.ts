// The format module: one detection in, one syslog message (header + CEF/LEEF/JSON) out.
// Pure: no I/O, no metrics, no logging. The caller counts `truncated`, handles `tooLarge` and E_FORMAT.
import os from "node:os";
import type { Detection, SourceKind } from "../record.js";
import { type BodyEncoder, createCefEncoder } from "./cef.js";
import { FACILITIES, type FormatOptionsInput, parseFormatOptions } from "./config.js";
import { jsonEncoder } from "./json.js";
import { createLeefEncoder } from "./leef.js";
import { createSyslogHeader, syslogSeverity } from "./syslog-header.js";

export {
  type BodyEncoder,
  type CefEncoderOptions,
  type CefHeaderFields,
  createCefEncoder,
  type EncodedText,
  encodeCef,
} from "./cef.js";
export {
  checkFormatOptions,
  type FormatIssue,
  type FormatOptions,
  type FormatOptionsInput,
  formatOptionsShape,
  refineFormatOptions,
  validateFormatOptions,
} from "./config.js";
export { FIT_FLOOR_BYTES } from "./fit.js";
export { encodeJson, jsonEncoder } from "./json.js";
export {
  createLeefEncoder,
  encodeLeef,
  type LeefDelimiter,
  type LeefOptions,
  type LeefVersion,
  parseLeefDelimiter,
} from "./leef.js";
export { type MappingOverrides, resolveMapping } from "./mapping-overrides.js";
export {
  createSyslogHeader,
  type SyslogHeaderFields,
  type SyslogHeaderOptions,
  type SyslogHeaderStyle,
  syslogHeader,
  syslogSeverity,
} from "./syslog-header.js";

export interface FormattedMessage {
  /**
   * One syslog message, UTF-8, no framing, no trailing LF; never contains raw CR, LF or NUL
   * (json/cef/leef). When `tooLarge`, the smallest message there was, still over max_message_bytes.
   */
  readonly bytes: Buffer;
  /** How many field values were cut: to their dictionary lengths (cef, leef) or to fit max_message_bytes. */
  readonly truncated: number;
  /** True when even with every value cut to its floor the message exceeds max_message_bytes: do not send it. */
  readonly tooLarge: boolean;
}

export interface Formatter {
  /** `kind`: the schema of `detection` (SIEM API detection by default). */
  format(detection: Detection, kind?: SourceKind): FormattedMessage;
}

export interface FormatterDeps {
  /** Injected clock for the syslog header timestamp (defaults to () => new Date()). */
  clock?: () => Date;
  /** Host name for the syslog header when options.hostname is unset (defaults to os.hostname()). */
  hostname?: string;
}

/**
 * Validates the options once (ConfigError, code E_CONFIG_INVALID, every problem with its key path),
 * resolves the mapping overrides and returns a formatter. `format()` throws ForwarderError E_FORMAT
 * only for a detection that cannot be serialised.
 */
export function createFormatter(input: FormatOptionsInput, deps: FormatterDeps = {}): Formatter {
  const { options, profile } = parseFormatOptions(input);
  const { header: names } = options;
  const encoder: BodyEncoder =
    options.format === "cef"
      ? createCefEncoder({ ...names, profile })
      : options.format === "leef"
        ? createLeefEncoder({
            version: options.leef_version,
            vendor: names.vendor,
            product: names.product,
            productVersion: names.version,
            delimiter: options.leef_delimiter,
            profile,
          })
        : jsonEncoder;
  const header = createSyslogHeader({
    style: options.syslog_header,
    facility: FACILITIES[options.facility],
    hostname: options.hostname ?? deps.hostname ?? os.hostname(),
    appName: options.app_name,
  });
  const clock = deps.clock ?? (() => new Date());
  const withHeader = options.syslog_header !== "none";
  const max = options.max_message_bytes;

  return {
    format(detection) {
      const body = encoder.encode(detection);
      const head = withHeader ? header(syslogSeverity(detection), clock()) : "";
      const bytes = Buffer.from(head + body.text, "utf8");
      // The common case: it fits, and nothing more is done.
      if (max === undefined || bytes.length <= max)
        return { bytes, truncated: body.truncated, tooLarge: false };
      const fitted = encoder.fit(detection, max - Buffer.byteLength(head));
      const cut = Buffer.from(head + fitted.text, "utf8");
      return { bytes: cut, truncated: fitted.truncated, tooLarge: cut.length > max };
    },
  };
}
