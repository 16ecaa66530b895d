// Per-destination format options: what the message looks like, before framing. The shape checks each
// key alone; checkFormatOptions adds the rules that tie keys together (header lengths per format, the
// LEEF delimiter per version, mapping overrides against the CEF dictionary). Both run at start-up.
import { z } from "zod";
import { int } from "../config/types.js";
import { ConfigError, type ConfigIssue } from "../errors.js";
import { CEF_HEADER_LIMITS } from "./cef.js";
import { configuredTextProblem, escapeCefHeader, type TruncationCounter } from "./escape.js";
import { LEEF_HEADER_LIMITS, parseLeefDelimiter } from "./leef.js";
import type { MappingProfile } from "./mapping.js";
import { type FormatIssue, resolveMapping } from "./mapping-overrides.js";
import { rfc3164Tag, SYSLOG_HEADER_STYLES } from "./syslog-header.js";

export type { FormatIssue } from "./mapping-overrides.js";

export const FACILITIES = {
  kern: 0,
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  syslog: 5,
  lpr: 6,
  news: 7,
  uucp: 8,
  cron: 9,
  authpriv: 10,
  ftp: 11,
  ntp: 12,
  security: 13,
  console: 14,
  solaris_cron: 15,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
} as const;

export type Facility = keyof typeof FACILITIES;

const facilityNames = Object.keys(FACILITIES) as [Facility, ...Facility[]];

/** The smallest max_message_bytes: a syslog header and a CEF or LEEF header alone take 100-200 bytes. */
export const MIN_MESSAGE_BYTES = 256;

const KEY = /^[A-Za-z0-9]+$/;

/** A vendor, product or version: checked, never silently changed (its length per format comes later). */
function headerText(fallback: string) {
  return z
    .string({ error: 'must be text (quote a number: "2.0")' })
    .superRefine((value, ctx) => {
      const problem = configuredTextProblem(value);
      if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
    })
    .default(fallback);
}

/** A record whose keys must be output keys (letters and digits). */
function keyedRecord<T extends z.ZodType>(value: T) {
  return z.record(z.string(), value).superRefine((record, ctx) => {
    for (const key of Object.keys(record)) {
      if (!KEY.test(key))
        ctx.addIssue({ code: "custom", path: [key], message: "must be a key of letters and digits" });
    }
  });
}

const mappingSchema = z.strictObject({
  /** Detection field -> output key; null drops the field. */
  fields: z
    .record(
      z.string(),
      z
        .string({ error: "must be an output key, or null to drop the field" })
        .regex(KEY, "must be a key of letters and digits, or null to drop the field")
        .nullable(),
    )
    .superRefine((record, ctx) => {
      if (Object.hasOwn(record, ""))
        ctx.addIssue({ code: "custom", message: "a field name must not be empty" });
    })
    .default({}),
  /** CEF custom field (cs1...) -> its label. */
  labels: keyedRecord(z.string({ error: "must be text" })).default({}),
  /** Output key -> a constant sent in every message. */
  constants: keyedRecord(
    z.union([z.string(), z.number()], { error: "must be text or a number" }).transform(String),
  ).default({}),
  /** CEF: keys outside the dictionary allowed as targets. */
  user_defined_keys: z.array(z.string().regex(KEY, "must be a key of letters and digits")).default([]),
  /** false: header.product on every event, whatever product raised it (see service-products.ts). */
  product_per_service: z.boolean({ error: "must be true or false" }).default(true),
});

export const formatOptionsShape = {
  format: z.enum(["cef", "leef", "json"], { error: "must be one of cef, leef, json" }).default("cef"),
  syslog_header: z
    .enum(SYSLOG_HEADER_STYLES, { error: "must be one of rfc5424, rfc3164, none" })
    .default("rfc5424"),
  facility: z.enum(facilityNames, { error: `must be one of ${facilityNames.join(", ")}` }).default("local0"),
  app_name: z
    .string()
    .regex(/^[!-~]{1,48}$/, "must be 1-48 printable ASCII characters without spaces")
    .default("mde-forwarder"),
  /** Defaults to the machine's host name at start-up. */
  hostname: z
    .string()
    .regex(/^[!-~]{1,255}$/, "must be 1-255 printable ASCII characters without spaces")
    .optional(),
  leef_version: z.enum(["1.0", "2.0"], { error: "must be 1.0 or 2.0" }).default("2.0"),
  /** LEEF 2.0 attribute delimiter: one character or `xHH`/`0xHH`; unset means TAB (`x09`). */
  leef_delimiter: z
    .string({ error: 'must be one character or its hex code, quoted: "^" or "x5E"' })
    .superRefine((value, ctx) => {
      const parsed = parseLeefDelimiter(value);
      if (typeof parsed === "string") ctx.addIssue({ code: "custom", message: parsed });
    })
    .optional(),
  /** CEF and LEEF header: vendor, product and version. */
  header: z
    .strictObject({
      vendor: headerText("Microsoft"),
      product: headerText("Microsoft Defender ATP"),
      version: headerText("2.0"),
    })
    .prefault({}),
  /** Mapping overrides (cef, leef): see mapping-overrides.ts. */
  mapping: mappingSchema.optional(),
  /** The whole syslog message (header included, framing not) must fit; unset means no limit. */
  max_message_bytes: int({ min: MIN_MESSAGE_BYTES }).optional(),
};

const formatOptionsSchema = z.object(formatOptionsShape);
export type FormatOptions = z.infer<typeof formatOptionsSchema>;
/** What a caller may pass before defaults are applied (every defaulted key optional). */
export type FormatOptionsInput = z.input<typeof formatOptionsSchema>;

function headerIssues(options: FormatOptions): FormatIssue[] {
  if (options.format === "json") return [];
  const issues: FormatIssue[] = [];
  for (const part of ["vendor", "product", "version"] as const) {
    const value = options.header[part];
    const path = ["header", part];
    if (options.format === "cef") {
      const counter: TruncationCounter = { truncated: 0 };
      escapeCefHeader(value, CEF_HEADER_LIMITS[part], counter);
      if (counter.truncated > 0) {
        issues.push({ path, message: `must be at most ${CEF_HEADER_LIMITS[part]} bytes after CEF escaping` });
      }
    } else if (value.includes("|")) {
      issues.push({
        path,
        message: "must not contain | (LEEF has no escaping; | separates the header fields)",
      });
    } else if (Buffer.byteLength(value) > LEEF_HEADER_LIMITS[part]) {
      issues.push({ path, message: `must be at most ${LEEF_HEADER_LIMITS[part]} bytes` });
    }
  }
  return issues;
}

/** The resolved mappings of a cef or leef destination: detections and alerts, and incident events. */
export interface Profiles {
  readonly alerts: MappingProfile;
  readonly incidents: MappingProfile;
}

interface Checked {
  readonly issues: FormatIssue[];
  /** The resolved mappings for cef and leef; undefined for json or when there are issues. */
  readonly profiles: Profiles | undefined;
}

function check(options: FormatOptions): Checked {
  const issues: FormatIssue[] = [];
  if (options.syslog_header === "rfc3164" && rfc3164Tag(options.app_name) === "") {
    issues.push({ path: ["app_name"], message: "must contain a letter or digit (the RFC 3164 TAG)" });
  }
  let delimiter = "\t";
  if (options.leef_delimiter !== undefined) {
    const parsed = parseLeefDelimiter(options.leef_delimiter);
    if (options.format !== "leef") {
      issues.push({ path: ["leef_delimiter"], message: "applies to format leef only" });
    } else if (options.leef_version === "1.0") {
      issues.push({
        path: ["leef_delimiter"],
        message: 'applies to leef_version "2.0" only (LEEF 1.0 always separates attributes with TAB)',
      });
    } else if (typeof parsed !== "string") {
      delimiter = parsed.char;
    }
  }
  issues.push(...headerIssues(options));
  let profiles: Profiles | undefined;
  if (options.format === "json") {
    if (options.mapping !== undefined) {
      issues.push({
        path: ["mapping"],
        message: "applies to formats cef and leef only (json sends the detection as received)",
      });
    }
  } else {
    // One mapping block for both kinds of event. A key with a problem for alerts is reported for them
    // (fixing it usually fixes both); one that only incident events trip on says so.
    const alerts = resolveMapping(options.format, options.mapping, delimiter, "alerts");
    const incidents = resolveMapping(options.format, options.mapping, delimiter, "incidents");
    const reported = new Set(alerts.issues.map((i) => i.path.join(".")));
    issues.push(...alerts.issues, ...incidents.issues.filter((i) => !reported.has(i.path.join("."))));
    profiles = { alerts: alerts.profile, incidents: incidents.profile };
  }
  return { issues, profiles: issues.length === 0 ? profiles : undefined };
}

/**
 * The rules that tie keys together, for options the shape already accepted; paths relative to the
 * destination. The config schema calls it through refineFormatOptions.
 */
export function checkFormatOptions(options: FormatOptions): FormatIssue[] {
  return check(options).issues;
}

/**
 * For the destination schema's superRefine: adds every problem of checkFormatOptions to `ctx`. It
 * does nothing when a key failed the shape (that problem is reported already).
 */
export function refineFormatOptions(options: unknown, ctx: z.RefinementCtx): void {
  const parsed = formatOptionsSchema.safeParse(options);
  if (!parsed.success) return;
  for (const issue of check(parsed.data).issues) {
    ctx.addIssue({ code: "custom", path: [...issue.path], message: issue.message });
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out;
}

interface Resolved {
  readonly options: FormatOptions;
  readonly issues: ConfigIssue[];
  readonly profiles: Profiles | undefined;
}

function resolve(input: FormatOptionsInput): Resolved {
  const parsed = formatOptionsSchema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
    return { options: input as FormatOptions, issues, profiles: undefined };
  }
  const checked = check(parsed.data);
  const issues = checked.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
  return { options: parsed.data, issues, profiles: checked.profiles };
}

/**
 * Every problem of the options (each key alone, then together), with paths relative to the
 * destination (`mapping.fields.Actor`): what createFormatter throws as a ConfigError.
 */
export function validateFormatOptions(options: FormatOptionsInput): ConfigIssue[] {
  return resolve(options).issues;
}

/**
 * Options with defaults applied and the mapping resolved, for createFormatter; throws ConfigError
 * (E_CONFIG_INVALID) listing every problem.
 */
export function parseFormatOptions(input: FormatOptionsInput): {
  options: FormatOptions;
  profiles: Profiles | undefined;
} {
  const { options, issues, profiles } = resolve(input);
  if (issues.length > 0) throw new ConfigError(issues);
  return { options, profiles };
}
