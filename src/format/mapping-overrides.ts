// Per-destination mapping overrides (`mapping:` in the YAML), checked and resolved once at start-up into
// the same rule tables the encoders use: overrides change only what they name, the default mapping
// does the rest. Every problem is reported with its key path; nothing is decided at send time.
import { isIP, isIPv4, isIPv6 } from "node:net";
import { CEF_DICTIONARY, cefLabelKey, isCefLabelKey } from "./cef-dictionary.js";
import { configuredTextProblem, escapeCefValue, type TruncationCounter } from "./escape.js";
import {
  CEF_EXTRA_MAX_BYTES,
  CEF_PROFILE,
  type FieldRule,
  INCIDENT_CEF_PROFILE,
  INCIDENT_LEEF_PROFILE,
  LEEF_PROFILE,
  type MappedField,
  type MappingProfile,
} from "./mapping.js";
import { INCIDENT_FIELDS } from "./normalized-fields.js";

/** The `mapping` block of a destination, as the schema gives it. */
export interface MappingOverrides {
  /** Detection field -> output key, or null to drop the field. */
  readonly fields?: Readonly<Record<string, string | null>>;
  /** CEF custom field -> its label (cs1Label...). */
  readonly labels?: Readonly<Record<string, string>>;
  /** Output key -> a constant value added to every message. */
  readonly constants?: Readonly<Record<string, string>>;
  /** CEF keys outside the dictionary allowed as targets and constants. */
  readonly user_defined_keys?: readonly string[];
  /** false: every event carries header.product, whatever product raised it (default true). */
  readonly product_per_service?: boolean;
}

/** A problem in the format options, its path relative to the destination (`["mapping", "fields", "Actor"]`). */
export interface FormatIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

export interface ResolvedMapping {
  readonly profile: MappingProfile;
  readonly issues: readonly FormatIssue[];
}

// The typing table: which detection fields may feed a typed key. Every other field is text.
// The second half of the time and number lists are fields of a normalized alert (alert-fields.ts).
const TIME_FIELDS = [
  "AlertTime",
  "LastProcessedTimeUtc",
  "FirstActivityTime",
  "LastActivityTime",
  "ResolvedTime",
  "LastUpdateTime",
  "CreatedTime",
];
const IP_FIELDS = ["IpAddress"];
const FLAG_FIELDS = ["RemediationIsSuccess", "WasExecutingWhileDetected"];
const NUMBER_FIELDS = [
  "AlertPart",
  "ReportID",
  "IncidentId",
  "InvestigationId",
  "EvidenceIndex",
  "EvidenceCount",
  "AlertCount",
];
const SEVERITY_FIELDS = ["Severity"];
/** CEF fields carried by the header (Name, Severity): never in the extension, so not mappable. */
const CEF_HEADER_FIELDS = new Set(["AlertTitle", "IncidentName", "Severity"]);

/** What a key holds, and so which fields may go there and how their value is written. */
type KeyType = "string" | "timestamp" | "ipv4" | "ipv6" | "ip" | "integer" | "double" | "mac" | "severity";

interface Target {
  readonly key: string;
  readonly type: KeyType;
  /** UTF-8 bytes after escaping (CEF) or as sent (LEEF). */
  readonly maxBytes: number;
  /** CEF custom fields: the label's dictionary limit. */
  readonly labelMaxBytes?: number;
}

/** CEF string keys without a documented length get the common 1023. */
const CEF_STRING_DEFAULT_MAX = 1023;

function cefTarget(key: string, userDefined: ReadonlySet<string>): Target | string {
  const entry = CEF_DICTIONARY.get(key);
  if (entry === undefined) {
    if (userDefined.has(key)) return { key, type: "string", maxBytes: CEF_EXTRA_MAX_BYTES };
    return `"${key}" is not a CEF dictionary key; list it in mapping.user_defined_keys to send it as a user-defined key`;
  }
  if (entry.audience === "consumer") {
    return `"${key}" is a consumer key: ArcSight sets it on ingestion, a producer must not send it`;
  }
  if (isCefLabelKey(key)) return `"${key}" is a label: set it in mapping.labels.${key.slice(0, -5)}`;
  const labelKey = cefLabelKey(key);
  const labelEntry = labelKey === undefined ? undefined : CEF_DICTIONARY.get(labelKey);
  const labelMaxBytes =
    labelEntry !== undefined && labelEntry.audience !== "consumer" ? labelEntry.maxBytes : undefined;
  const type: KeyType = entry.type === "long" ? "integer" : entry.type;
  const maxBytes = type === "string" ? (entry.maxBytes ?? CEF_STRING_DEFAULT_MAX) : Number.POSITIVE_INFINITY;
  return labelMaxBytes === undefined ? { key, type, maxBytes } : { key, type, maxBytes, labelMaxBytes };
}

// LEEF predefined keys that need a particular value (IBM's LEEF attribute table); others are text.
const LEEF_KEY_TYPES: ReadonlyMap<string, KeyType> = new Map<string, KeyType>([
  ["devTime", "timestamp"],
  ["sev", "severity"],
  ...["src", "dst", "srcPreNAT", "dstPreNAT", "srcPostNAT", "dstPostNAT", "identSrc"].map(
    (k) => [k, "ip"] as [string, KeyType],
  ),
  ...[
    "srcPort",
    "dstPort",
    "srcPreNATPort",
    "dstPreNATPort",
    "srcPostNATPort",
    "dstPostNATPort",
    "srcBytes",
    "dstBytes",
    "srcPackets",
    "dstPackets",
    "totalPackets",
  ].map((k) => [k, "integer"] as [string, KeyType]),
  ["srcMAC", "mac"],
  ["dstMAC", "mac"],
]);
const LEEF_KEY_LIMITS: ReadonlyMap<string, number> = new Map([
  ["usrName", 255],
  ["identHostName", 255],
  ["identNetBios", 255],
  ["identGrpName", 255],
]);

function leefTarget(key: string): Target | string {
  // devTime is always epoch milliseconds, which QRadar reads without a format; a format would break it.
  if (key === "devTimeFormat") return '"devTimeFormat" cannot be set: devTime is sent as epoch milliseconds';
  const type = LEEF_KEY_TYPES.get(key) ?? "string";
  return { key, type, maxBytes: LEEF_KEY_LIMITS.get(key) ?? Number.POSITIVE_INFINITY };
}

const list = (fields: readonly string[]): string => fields.join(", ");

const INCIDENT_FIELD_SET: ReadonlySet<string> = new Set(INCIDENT_FIELDS);

/** The rule that sends `field` under `target`, or why the field cannot go there. */
function ruleFor(field: string, target: Target, label: string | undefined): FieldRule | string {
  const { key, maxBytes } = target;
  const is = (fields: readonly string[]) => fields.includes(field);
  switch (target.type) {
    case "string":
      return { field, kind: "text", key, maxBytes, label };
    case "timestamp":
      return is(TIME_FIELDS)
        ? { field, kind: "time", key, label }
        : `"${key}" is a timestamp key: only a time field (${list(TIME_FIELDS)}) can go there`;
    case "ipv4":
      return is(IP_FIELDS)
        ? { field, kind: "ip", key, label }
        : `"${key}" is an IPv4 address key: only ${list(IP_FIELDS)} can go there`;
    case "ipv6":
      return is(IP_FIELDS)
        ? { field, kind: "ip", ipv6Key: key, ipv6Label: label }
        : `"${key}" is an IPv6 address key: only ${list(IP_FIELDS)} can go there`;
    case "ip":
      return is(IP_FIELDS)
        ? { field, kind: "ip", key, ipv6Key: key }
        : `"${key}" is an IP address key: only ${list(IP_FIELDS)} can go there`;
    case "integer":
    case "double":
      if (is(FLAG_FIELDS)) return { field, kind: "flag", key, label };
      if (is(NUMBER_FIELDS))
        return { field, kind: target.type === "integer" ? "integer" : "decimal", key, label };
      return `"${key}" is a number key: only a flag (${list(FLAG_FIELDS)}) or a number (${list(NUMBER_FIELDS)}) can go there`;
    case "severity":
      return is(SEVERITY_FIELDS)
        ? { field, kind: "severity", key }
        : `"${key}" is the LEEF severity (1-10): only ${list(SEVERITY_FIELDS)} can go there`;
    case "mac":
      return `"${key}" is a MAC address key: no detection field holds one`;
  }
}

/** Why `text` cannot be a configured value of at most `maxBytes` (CEF-escaped when `cef`), or undefined. */
export function constantTextProblem(text: string, maxBytes: number, cef: boolean): string | undefined {
  const problem = configuredTextProblem(text);
  if (problem !== undefined) return problem;
  if (text.trimEnd() !== text || text.trimStart() !== text) return "must not start or end with a space";
  const counter: TruncationCounter = { truncated: 0 };
  if (cef) escapeCefValue(text, maxBytes, counter);
  else if (Buffer.byteLength(text) > maxBytes) counter.truncated = 1;
  if (counter.truncated > 0) return `must be at most ${maxBytes} bytes${cef ? " after CEF escaping" : ""}`;
  return undefined;
}

const MAC = /^[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){5}$/;
const INTEGER = /^-?\d{1,18}$/;
const DECIMAL = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

function constantProblem(value: string, target: Target, cef: boolean, delimiter: string): string | undefined {
  switch (target.type) {
    case "string": {
      const problem = constantTextProblem(value, target.maxBytes, cef);
      if (problem !== undefined || cef || !value.includes(delimiter)) return problem;
      return "must not contain the LEEF delimiter";
    }
    case "timestamp":
      return `"${target.key}" is a timestamp key: it takes a time field, not a constant`;
    case "ipv4":
      return isIPv4(value) ? undefined : "must be an IPv4 address";
    case "ipv6":
      return isIPv6(value) ? undefined : "must be an IPv6 address";
    case "ip":
      return isIP(value) !== 0 ? undefined : "must be an IP address";
    case "integer":
      return INTEGER.test(value) ? undefined : "must be a whole number";
    case "double":
      return DECIMAL.test(value) ? undefined : "must be a number";
    case "mac":
      return MAC.test(value) ? undefined : "must be a MAC address (11:2d:1a:2b:3c:4d)";
    case "severity":
      return /^(?:[1-9]|10)$/.test(value) ? undefined : "must be a whole number from 1 to 10";
  }
}

/** A rule with where it came from, for the messages. */
interface Entry {
  rule: FieldRule;
  override: boolean;
}

/**
 * Applies `overrides` to the default mapping of `format` for detections and alerts, or (`events:
 * "incidents"`) for incident events. Returns the default profile itself when there is nothing to apply.
 * `delimiter` is the LEEF attribute delimiter (constants must not hold it).
 */
export function resolveMapping(
  format: "cef" | "leef",
  overrides: MappingOverrides | undefined,
  delimiter = "\t",
  events: "alerts" | "incidents" = "alerts",
): ResolvedMapping {
  const base =
    events === "incidents"
      ? format === "cef"
        ? INCIDENT_CEF_PROFILE
        : INCIDENT_LEEF_PROFILE
      : format === "cef"
        ? CEF_PROFILE
        : LEEF_PROFILE;
  // Incident events have their own fields: an override of a field they lack (Md5, AlertTime) is the
  // alert mapping's business and leaves the incident mapping alone.
  const fields = Object.entries(overrides?.fields ?? {}).filter(
    ([field]) => events === "alerts" || INCIDENT_FIELD_SET.has(field),
  );
  const labels = Object.entries(overrides?.labels ?? {});
  const constants = Object.entries(overrides?.constants ?? {});
  const userDefinedKeys = overrides?.user_defined_keys ?? [];
  if (fields.length + labels.length + constants.length + userDefinedKeys.length === 0) {
    return { profile: base, issues: [] };
  }
  const cef = format === "cef";
  const issues: FormatIssue[] = [];
  const issue = (path: readonly (string | number)[], message: string) =>
    issues.push({ path: ["mapping", ...path], message });

  const userDefined = new Set<string>();
  if (!cef && userDefinedKeys.length > 0) {
    issue(["user_defined_keys"], "applies to format cef only: LEEF takes any key of letters and digits");
  }
  userDefinedKeys.forEach((key, index) => {
    if (!cef) return;
    if (CEF_DICTIONARY.has(key)) issue(["user_defined_keys", index], `"${key}" is a CEF dictionary key`);
    else if (userDefined.has(key)) issue(["user_defined_keys", index], `"${key}" is listed twice`);
    userDefined.add(key);
  });
  if (!cef && labels.length > 0) issue(["labels"], "applies to format cef only: LEEF has no labels");
  const labelOf = new Map(cef ? labels : []);
  const target = (key: string): Target | string => (cef ? cefTarget(key, userDefined) : leefTarget(key));

  // Keys named as a target or constant, valid or not: a label for one is not also "unused".
  const named = new Set<string>([
    ...fields.map(([, key]) => key).filter((key) => key !== null),
    ...constants.map(([key]) => key),
  ]);

  // 1. Field overrides: a remapped default rule keeps its place, a newly mapped field comes after.
  const entries: Entry[] = base.rules.map((rule) => ({ rule, override: false }));
  const byField = new Map(entries.map((e) => [e.rule.field, e]));
  for (const [field, key] of fields) {
    const path = ["fields", field];
    if (cef && CEF_HEADER_FIELDS.has(field)) {
      issue(
        path,
        `${field} is carried by the CEF header (${field === "Severity" ? "Severity" : "Name"}): it cannot be mapped or dropped`,
      );
      continue;
    }
    const existing = byField.get(field);
    let rule: FieldRule;
    if (key === null) {
      rule = { field, kind: "drop" };
    } else if (existing !== undefined && (existing.rule.key === key || existing.rule.ipv6Key === key)) {
      continue; // the default already: mapping a field where it goes changes nothing
    } else {
      const t = target(key);
      if (typeof t === "string") {
        issue(path, t);
        continue;
      }
      const label = t.labelMaxBytes === undefined ? undefined : (labelOf.get(key) ?? field);
      const built = ruleFor(field, t, label);
      if (typeof built === "string") {
        issue(path, built);
        continue;
      }
      if (t.labelMaxBytes !== undefined && !labelOf.has(key)) {
        const problem = constantTextProblem(field, t.labelMaxBytes, true);
        if (problem !== undefined) {
          issue(path, `needs a label in mapping.labels.${key}: the field name as label ${problem}`);
          continue;
        }
      }
      rule = built;
    }
    if (existing !== undefined) {
      existing.rule = rule;
      existing.override = true;
    } else {
      const entry: Entry = { rule, override: true };
      entries.push(entry);
      byField.set(field, entry);
    }
  }

  // 2. One key per field and one field per key, constants included.
  const owner = new Map<string, Entry>();
  const of = events === "incidents" ? "default mapping of incident events" : "default mapping";
  const clash = (key: string, other: Entry): string =>
    other.override
      ? `"${key}" is also the target of mapping.fields.${other.rule.field}`
      : `"${key}" is already the key of ${other.rule.field} (${of}): map ${other.rule.field} elsewhere or drop it (${other.rule.field}: null)`;
  const ordered = [...entries.filter((e) => !e.override), ...entries.filter((e) => e.override)];
  for (const entry of ordered) {
    const keys = new Set([entry.rule.key, entry.rule.ipv6Key].filter((k) => k !== undefined));
    for (const key of keys) {
      const other = owner.get(key);
      if (other !== undefined) issue(["fields", entry.rule.field], clash(key, other));
      else owner.set(key, entry);
    }
  }
  const constantFields: MappedField[] = [];
  for (const [key, value] of constants) {
    const path = ["constants", key];
    const t = target(key);
    if (typeof t === "string") {
      issue(path, t);
      continue;
    }
    const other = owner.get(key);
    if (other !== undefined) {
      issue(path, clash(key, other));
      continue;
    }
    const problem = constantProblem(value, t, cef, delimiter);
    if (problem !== undefined) {
      issue(path, problem);
      continue;
    }
    const label = labelOf.get(key);
    if (t.labelMaxBytes !== undefined && label === undefined) {
      issue(path, `needs a label: set mapping.labels.${key}`);
      continue;
    }
    constantFields.push({
      key,
      value,
      maxBytes: t.maxBytes,
      label: label === undefined ? undefined : cefLabel(label),
      constant: true,
    });
  }

  // 3. Labels: only for custom fields somebody maps to; they replace the default labels.
  for (const [key, label] of cef ? labels : []) {
    const path = ["labels", key];
    const labelKey = cefLabelKey(key);
    const labelEntry = labelKey === undefined ? undefined : CEF_DICTIONARY.get(labelKey);
    if (labelEntry === undefined || labelEntry.audience === "consumer") {
      issue(
        path,
        `"${key}" has no label (labels exist for cs1-cs6, cn1-cn3, c6a1-c6a4, cfp1-cfp4, deviceCustomDate1-2, flexString1-2, flexDate1)`,
      );
      continue;
    }
    if (!owner.has(key) && !named.has(key)) {
      // A label for a key of the alert mapping (cs6 for Sha256) is simply unused by incident events.
      if (events === "alerts") issue(path, `no field or constant is mapped to "${key}"`);
      continue;
    }
    const problem = constantTextProblem(label, labelEntry.maxBytes ?? CEF_STRING_DEFAULT_MAX, true);
    if (problem !== undefined) issue(path, problem);
  }
  // Every rule on a custom field carries a label already (default, or the field name): a configured
  // one replaces it. Escaped here, once.
  const relabel = (key: string | undefined, label: string | undefined): string | undefined =>
    label === undefined ? undefined : cefLabel((key === undefined ? undefined : labelOf.get(key)) ?? label);
  for (const entry of entries) {
    const { rule } = entry;
    if (rule.label === undefined && rule.ipv6Label === undefined) continue;
    entry.rule = {
      ...rule,
      label: relabel(rule.key, rule.label),
      ipv6Label: relabel(rule.ipv6Key, rule.ipv6Label),
    };
  }

  const profile: MappingProfile = {
    ...base,
    rules: entries.map((e) => e.rule),
    constants: constantFields,
  };
  return { profile, issues };
}

/** A label as written after `<key>Label=`: escaped once here (validated to fit, so never cut). */
function cefLabel(label: string): string {
  return escapeCefValue(label, Number.POSITIVE_INFINITY, { truncated: 0 });
}
