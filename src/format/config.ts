// Per-destination format options: what the message looks like, before framing. The shape checks each
// key alone; refineFormatOptions, run by the destination schema, adds the rules that tie keys together
// (header lengths per format, the LEEF delimiter per version, mapping overrides against the CEF
// dictionary). buildFormatConfig then turns the accepted options into the formatter's config, once.
import { z } from "zod";
import { keyDocs } from "../config/key-doc.js";
import { int } from "../config/types.js";
import { ConfigError, type ConfigIssue, formatPath } from "../errors.js";
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
    .default({})
    .register(keyDocs, {
      description: "Detection field -> output key; `null` drops the field (not re-added elsewhere)",
      example: { Md5: "MicrosoftDefenderMd5", MachineGroup: "cs5", Actor: null },
    }),
  /** CEF custom field (cs1...) -> its label. */
  labels: keyedRecord(z.string({ error: "must be text" }))
    .default({})
    .register(keyDocs, {
      description: "CEF custom field (`cs1`...) -> its label; default: the field name",
      example: { cs5: "MachineGroup" },
    }),
  /** Output key -> a constant sent in every message. */
  constants: keyedRecord(
    z.union([z.string(), z.number()], { error: "must be text or a number" }).transform(String),
  )
    .default({})
    .register(keyDocs, {
      description: "Output key -> a constant sent in every message",
      example: { dvchost: "mde-forwarder-01" },
    }),
  /** CEF: keys outside the dictionary allowed as targets. */
  user_defined_keys: z
    .array(z.string().regex(KEY, "must be a key of letters and digits"))
    .default([])
    .register(keyDocs, {
      description: "CEF: keys outside the ArcSight dictionary allowed as targets",
      example: ["MicrosoftDefenderMd5"],
    }),
  /** false: header.product on every event, whatever product raised it (see service-products.ts). */
  product_per_service: z
    .boolean({ error: "must be true or false" })
    .default(true)
    .register(keyDocs, {
      description: "A Graph alert or an incident names its own product in the header",
      details:
        "`product_per_service: true` gives a Graph alert of another product than Defender for Endpoint that " +
        "product's name in the header, and an incident `Microsoft Defender XDR`; `false` pins every event to " +
        "`header.product`, for SIEM content keyed on one product.",
    }),
});

export const formatOptionsShape = {
  format: z
    .enum(["cef", "leef", "json"], { error: "must be one of cef, leef, json" })
    .default("cef")
    .register(keyDocs, { description: "CEF (ArcSight), LEEF (QRadar) or the detection as received (JSON)" }),
  syslog_header: z
    .enum(SYSLOG_HEADER_STYLES, { error: "must be one of rfc5424, rfc3164, none" })
    .default("rfc5424")
    .register(keyDocs, { description: "The syslog header before the message, or none" }),
  facility: z
    .enum(facilityNames, { error: `must be one of ${facilityNames.join(", ")}` })
    .default("local0")
    .register(keyDocs, { description: "Syslog facility of the PRI" }),
  app_name: z
    .string()
    .regex(/^[!-~]{1,48}$/, "must be 1-48 printable ASCII characters without spaces")
    .default("mde-forwarder")
    .register(keyDocs, { description: "RFC 5424 APP-NAME; RFC 3164 TAG (reduced to 32 alphanumerics)" }),
  /** Defaults to the machine's host name at start-up. */
  hostname: z
    .string()
    .regex(/^[!-~]{1,255}$/, "must be 1-255 printable ASCII characters without spaces")
    .optional()
    .register(keyDocs, {
      description: "HOSTNAME in the syslog header",
      default: "this machine's host name",
      example: "forwarder-01",
    }),
  leef_version: z
    .enum(["1.0", "2.0"], { error: "must be 1.0 or 2.0" })
    .default("2.0")
    .register(keyDocs, { description: 'LEEF version (format `leef` only); quote it: `"2.0"`' }),
  /** LEEF 2.0 attribute delimiter: one character or `xHH`/`0xHH`; unset means TAB (`x09`). */
  leef_delimiter: z
    .string({ error: 'must be one character or its hex code, quoted: "^" or "x5E"' })
    .superRefine((value, ctx) => {
      const parsed = parseLeefDelimiter(value);
      if (typeof parsed === "string") ctx.addIssue({ code: "custom", message: parsed });
    })
    .optional()
    .register(keyDocs, {
      description: 'LEEF 2.0 attribute delimiter: one character (`"^"`) or its hex code (`"x5E"`)',
      default: "TAB (`x09`)",
      example: "^",
      details:
        "Quote it. The delimiter is TAB or printable ASCII other than letters, digits, space, `=`, `|`, `\\`; " +
        'the hex code may also be written `"0x5E"`. Format `leef` with `leef_version: "2.0"` only.',
    }),
  /** CEF and LEEF header: vendor, product and version. */
  header: z
    .strictObject({
      vendor: headerText("Microsoft").register(keyDocs, {
        description: "CEF and LEEF header vendor; at most 63 bytes",
      }),
      product: headerText("Microsoft Defender ATP").register(keyDocs, {
        description: "CEF and LEEF header product; at most 63 bytes",
      }),
      version: headerText("2.0").register(keyDocs, {
        description: 'CEF and LEEF header version; at most 31 bytes; quote it: `"2.0"`',
      }),
    })
    .prefault({})
    .register(keyDocs, {
      description: "The CEF and LEEF header; refused at start-up rather than cut",
      details:
        "`header.vendor`, `header.product` and `header.version` must be non-empty, without control characters, " +
        "at most 63/63/31 bytes (CEF: after escaping `\\` and `|`; LEEF refuses `|`).",
    }),
  /** Mapping overrides (cef, leef): see mapping-overrides.ts. */
  mapping: mappingSchema.optional().register(keyDocs, {
    description: "Overrides of the CEF/LEEF mapping (see Mapping overrides in docs/mapping.md)",
    default: "unset (default mapping)",
    details:
      "Formats `cef` and `leef` only. An override changes only what it names; the rules for each key are in " +
      "[Mapping overrides](mapping.md#mapping-overrides).",
  }),
  /** The whole syslog message (header included, framing not) must fit; unset means no limit. */
  max_message_bytes: int({ min: MIN_MESSAGE_BYTES })
    .optional()
    .register(keyDocs, {
      description: "The whole syslog message (header included, framing not) must fit",
      default: "udp: 2048; else unset",
      example: 2048,
      details:
        "The longest values are cut first; a message that cannot fit is not sent and is counted as dropped " +
        "(`too_large`).",
    }),
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

/** The rules that tie keys together; paths relative to the destination. */
function check(options: FormatOptions): FormatIssue[] {
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
  }
  return issues;
}

/**
 * The rules that tie keys together, for the destination schema's superRefine (the one place they are
 * checked): adds every problem to `ctx`, with paths relative to the destination. It does nothing when a
 * format key failed alone (that problem is reported already), whatever the other keys of the destination.
 */
export function refineFormatOptions(options: unknown, ctx: z.RefinementCtx): void {
  const parsed = formatOptionsSchema.safeParse(options);
  if (!parsed.success) return;
  for (const issue of check(parsed.data)) {
    ctx.addIssue({ code: "custom", path: [...issue.path], message: issue.message });
  }
}

/** The format options of a destination with their own rules, for callers that have no config file. */
const checkedFormatOptionsSchema = formatOptionsSchema.superRefine(refineFormatOptions);

/**
 * Every problem the config schema would report for these options (each key alone, then together), with
 * paths relative to the destination (`mapping.fields.Actor`).
 */
export function validateFormatOptions(input: FormatOptionsInput): ConfigIssue[] {
  const parsed = checkedFormatOptionsSchema.safeParse(input);
  return parsed.success
    ? []
    : parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
}

/**
 * A format config from options written as in a destination, for callers without a config file (tests,
 * benchmarks): checked by the same schema, then built. Throws ConfigError (E_CONFIG_INVALID) listing every
 * problem.
 */
export function formatConfigFrom(input: FormatOptionsInput): FormatConfig {
  const parsed = checkedFormatOptionsSchema.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })));
  }
  return buildFormatConfig(parsed.data);
}

/** A destination's format, ready for createFormatter: nothing left to check, parse or look up. */
export interface FormatConfig {
  readonly format: FormatOptions["format"];
  readonly syslogHeader: {
    readonly style: FormatOptions["syslog_header"];
    /** 0-23 (see FACILITIES). */
    readonly facility: number;
    readonly appName: string;
    /** Configured HOSTNAME; unset: the formatter's deps, else the machine's host name. */
    readonly hostname: string | undefined;
  };
  /** CEF and LEEF header. */
  readonly vendor: string;
  readonly product: string;
  readonly productVersion: string;
  readonly leefVersion: FormatOptions["leef_version"];
  /** LEEF 2.0 attribute delimiter as configured (leef.ts parses it); unset: TAB. */
  readonly leefDelimiter: string | undefined;
  /** The resolved mappings (defaults and overrides) for cef and leef; undefined for json. */
  readonly profiles: Profiles | undefined;
  /** Graph alerts and incidents name their own product in the header (mapping.product_per_service). */
  readonly productPerService: boolean;
  /** The whole syslog message must fit; undefined: no limit. */
  readonly maxMessageBytes: number | undefined;
}

/**
 * Turns the options the schema accepted (and refineFormatOptions checked) into the formatter's config.
 * Checks nothing: a problem found here would be a second, competing rule.
 */
export function buildFormatConfig(options: FormatOptions): FormatConfig {
  let profiles: Profiles | undefined;
  if (options.format !== "json") {
    const parsed =
      options.leef_delimiter === undefined ? undefined : parseLeefDelimiter(options.leef_delimiter);
    const delimiter = parsed === undefined || typeof parsed === "string" ? "\t" : parsed.char;
    profiles = {
      alerts: resolveMapping(options.format, options.mapping, delimiter, "alerts").profile,
      incidents: resolveMapping(options.format, options.mapping, delimiter, "incidents").profile,
    };
  }
  return {
    format: options.format,
    syslogHeader: {
      style: options.syslog_header,
      facility: FACILITIES[options.facility],
      appName: options.app_name,
      hostname: options.hostname,
    },
    vendor: options.header.vendor,
    product: options.header.product,
    productVersion: options.header.version,
    leefVersion: options.leef_version,
    leefDelimiter: options.leef_delimiter,
    profiles,
    productPerService: options.mapping?.product_per_service !== false,
    maxMessageBytes: options.max_message_bytes,
  };
}
