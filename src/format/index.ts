// The format module: one detection in, one syslog message (header + CEF/LEEF/JSON) out.
// Pure: no I/O, no metrics, no logging. The caller counts `truncated` and handles E_FORMAT.
import os from "node:os";
import { ConfigError, type ConfigIssue } from "../errors.js";
import type { Detection } from "../record.js";
import { createCefEncoder, type EncodedText } from "./cef.js";
import { FACILITIES, type FormatOptions } from "./config.js";
import { encodeJson } from "./json.js";
import { createLeefEncoder } from "./leef.js";
import { createSyslogHeader, rfc3164Tag, syslogSeverity } from "./syslog-header.js";

export { type CefHeaderFields, createCefEncoder, type EncodedText, encodeCef } from "./cef.js";
export { encodeJson } from "./json.js";
export { createLeefEncoder, encodeLeef, type LeefOptions, type LeefVersion } from "./leef.js";
export {
  createSyslogHeader,
  type SyslogHeaderFields,
  type SyslogHeaderOptions,
  type SyslogHeaderStyle,
  syslogHeader,
  syslogSeverity,
} from "./syslog-header.js";

export interface FormattedMessage {
  /** One syslog message, UTF-8, no framing, no trailing LF; never contains raw CR, LF or NUL (json/cef/leef). */
  readonly bytes: Buffer;
  /** How many field values were truncated to fit CEF dictionary lengths (0 for json). */
  readonly truncated: number;
}

export interface Formatter {
  format(detection: Detection): FormattedMessage;
}

export interface FormatterDeps {
  /** Injected clock for the syslog header timestamp (defaults to () => new Date()). */
  clock?: () => Date;
  /** Host name for the syslog header when options.hostname is unset (defaults to os.hostname()). */
  hostname?: string;
}

const PRINTABLE = /^[!-~]+$/;

/** The same rules as the config schema, for callers that build options by hand. */
function validate(options: FormatOptions): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const o = options as Partial<Record<keyof FormatOptions, unknown>>;
  if (o.format !== "cef" && o.format !== "leef" && o.format !== "json") {
    issues.push({ path: "format", message: "must be one of cef, leef, json" });
  }
  if (o.syslog_header !== "rfc5424" && o.syslog_header !== "rfc3164" && o.syslog_header !== "none") {
    issues.push({ path: "syslog_header", message: "must be one of rfc5424, rfc3164, none" });
  }
  if (typeof o.facility !== "string" || !Object.hasOwn(FACILITIES, o.facility)) {
    issues.push({ path: "facility", message: `must be one of ${Object.keys(FACILITIES).join(", ")}` });
  }
  if (typeof o.app_name !== "string" || o.app_name.length > 48 || !PRINTABLE.test(o.app_name)) {
    issues.push({ path: "app_name", message: "must be 1-48 printable ASCII characters without spaces" });
  } else if (o.syslog_header === "rfc3164" && rfc3164Tag(o.app_name) === "") {
    issues.push({ path: "app_name", message: "must contain a letter or digit (the RFC 3164 TAG)" });
  }
  if (
    o.hostname !== undefined &&
    (typeof o.hostname !== "string" || o.hostname.length > 255 || !PRINTABLE.test(o.hostname))
  ) {
    issues.push({ path: "hostname", message: "must be 1-255 printable ASCII characters without spaces" });
  }
  if (o.leef_version !== "1.0" && o.leef_version !== "2.0") {
    issues.push({ path: "leef_version", message: "must be 1.0 or 2.0" });
  }
  return issues;
}

/**
 * Validates the options once (ConfigError, code E_CONFIG_INVALID) and returns a formatter.
 * `format()` throws ForwarderError E_FORMAT only for a detection that cannot be serialised.
 */
export function createFormatter(options: FormatOptions, deps: FormatterDeps = {}): Formatter {
  const issues = validate(options);
  if (issues.length > 0) throw new ConfigError(issues);

  const encode: (detection: Detection) => EncodedText =
    options.format === "cef"
      ? createCefEncoder()
      : options.format === "leef"
        ? createLeefEncoder({ version: options.leef_version })
        : encodeJson;
  const header = createSyslogHeader({
    style: options.syslog_header,
    facility: FACILITIES[options.facility],
    hostname: options.hostname ?? deps.hostname ?? os.hostname(),
    appName: options.app_name,
  });
  const clock = deps.clock ?? (() => new Date());
  const withHeader = options.syslog_header !== "none";

  return {
    format(detection) {
      const body = encode(detection);
      const text = withHeader ? header(syslogSeverity(detection), clock()) + body.text : body.text;
      return { bytes: Buffer.from(text, "utf8"), truncated: body.truncated };
    },
  };
}
