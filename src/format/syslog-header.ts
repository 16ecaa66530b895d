// The syslog header put in front of each message: RFC 5424, RFC 3164 (BSD) or none.
import { isIP } from "node:net";
import { ForwarderError } from "../errors.js";
import type { Detection } from "../record.js";
import { severityLevel } from "./mapping.js";

/** The `syslog_header` values; the config schema (config.ts) takes its enum from here. */
export const SYSLOG_HEADER_STYLES = ["rfc5424", "rfc3164", "none"] as const;

export type SyslogHeaderStyle = (typeof SYSLOG_HEADER_STYLES)[number];

/** Syslog severity from the detection: High 3 (error), Medium 4, Low 5, Informational 6, other 5 (notice). */
export function syslogSeverity(detection: Detection): number {
  return syslogSeverityOf(detection.Severity);
}

/** The same, from a severity value (an alert's `severity`, any case). */
export function syslogSeverityOf(severity: unknown): number {
  switch (severityLevel(severity)) {
    case "High":
      return 3;
    case "Medium":
      return 4;
    case "Informational":
      return 6;
    default:
      return 5;
  }
}

const HOSTNAME_MAX = 255;
const APP_NAME_MAX = 48;
const TAG_MAX = 32;
const NON_ALPHANUMERIC = /[^A-Za-z0-9]/g;

/** Printable ASCII without spaces (RFC 5424 PRINTUSASCII): anything else becomes `-`, per code point. */
function printableAscii(value: string, max: number): string {
  let out = "";
  for (const ch of value) {
    const c = ch.charCodeAt(0);
    out += c > 0x20 && c < 0x7f ? ch : "-";
    if (out.length >= max) break;
  }
  return out === "" ? "-" : out;
}

/** HOSTNAME field: printable ASCII without spaces, at most 255; `-` (NILVALUE) when empty. */
export function sanitizeHostname(name: string): string {
  return printableAscii(name, HOSTNAME_MAX);
}

/** RFC 3164 HOSTNAME: no domain part. An IP address is kept whole (its dots are not a domain). */
export function shortHostname(name: string): string {
  const host = sanitizeHostname(name);
  if (isIP(host) !== 0) return host;
  const dot = host.indexOf(".");
  return dot === -1 ? host : dot === 0 ? "-" : host.slice(0, dot);
}

/** RFC 3164 TAG: the app name reduced to `[A-Za-z0-9]`, at most 32 characters; may be empty. */
export function rfc3164Tag(appName: string): string {
  return appName.replace(NON_ALPHANUMERIC, "").slice(0, TAG_MAX);
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"] as const;

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** `Mmm dd hh:mm:ss` in UTC, day space-padded (`Oct  9`): no year, zone or fraction in RFC 3164. */
export function rfc3164Timestamp(time: Date): string {
  const day = time.getUTCDate();
  return (
    `${MONTHS[time.getUTCMonth()]} ${day < 10 ? " " : ""}${day} ` +
    `${pad2(time.getUTCHours())}:${pad2(time.getUTCMinutes())}:${pad2(time.getUTCSeconds())}`
  );
}

export interface SyslogHeaderOptions {
  readonly style: SyslogHeaderStyle;
  /** 0-23 (see FACILITIES). */
  readonly facility: number;
  readonly hostname: string;
  readonly appName: string;
}

/** A header builder with everything but the severity and the time computed once. */
export type SyslogHeaderBuilder = (severity: number, time: Date) => string;

export function createSyslogHeader(options: SyslogHeaderOptions): SyslogHeaderBuilder {
  const { style, facility } = options;
  if (style === "none") return () => "";
  if (!Number.isInteger(facility) || facility < 0 || facility > 23) {
    throw new ForwarderError("E_CONFIG_INVALID", `syslog facility ${facility} is not 0-23`);
  }
  // PRI = facility * 8 + severity, one string per severity.
  const pri = Array.from({ length: 8 }, (_, severity) => `<${facility * 8 + severity}>`);
  const priOf = (severity: number): string => {
    const value = pri[severity];
    if (value === undefined) throw new ForwarderError("E_INTERNAL", `syslog severity ${severity} is not 0-7`);
    return value;
  };
  /**
   * Messages come many per millisecond (RFC 5424) or per second (RFC 3164): the header of each
   * severity is built once per time step and reused until the clock moves on.
   */
  const cached = (step: number, build: (pri: string, time: Date) => string): SyslogHeaderBuilder => {
    let last = Number.NaN;
    const lines: (string | undefined)[] = [];
    return (severity, time) => {
      const ms = time.getTime();
      if (Number.isNaN(ms)) throw new ForwarderError("E_INTERNAL", "the clock returned an invalid date");
      const at = Math.floor(ms / step);
      if (at !== last) {
        last = at;
        lines.length = 0;
      }
      let line = lines[severity];
      if (line === undefined) {
        line = build(priOf(severity), time);
        lines[severity] = line;
      }
      return line;
    };
  };

  if (style === "rfc5424") {
    const rest = ` ${sanitizeHostname(options.hostname)} ${printableAscii(options.appName, APP_NAME_MAX)} - - - `;
    // No BOM before MSG: RFC 5424 allows one, but CEF and LEEF parsers expect the message to start at `CEF:`.
    return cached(1, (pri, time) => `${pri}1 ${time.toISOString()}${rest}`);
  }

  const tag = rfc3164Tag(options.appName);
  if (tag === "") {
    throw new ForwarderError(
      "E_CONFIG_INVALID",
      "app_name must contain at least one letter or digit for an RFC 3164 TAG",
    );
  }
  const rest = ` ${shortHostname(options.hostname)} ${tag}: `;
  return cached(1000, (pri, time) => `${pri}${rfc3164Timestamp(time)}${rest}`);
}

export interface SyslogHeaderFields {
  readonly facility: number;
  readonly severity: number;
  readonly time: Date;
  readonly hostname: string;
  readonly appName: string;
}

/** The header for one message, including the space before MSG; `""` for `none`. */
export function syslogHeader(style: SyslogHeaderStyle, fields: SyslogHeaderFields): string {
  return createSyslogHeader({ style, ...fields })(fields.severity, fields.time);
}
