// Detection -> ordered (key, value) fields, before any escaping. The tables implement the default
// mapping (CEF: Microsoft's ArcSight mapping plus our decisions; LEEF: our decisions). Keys are
// fixed here and never copied raw from input; every non-empty field lands somewhere, each key once.
// field-plan.ts compiles a profile and applies it to each detection.
import { ForwarderError } from "../errors.js";
import type { Detection } from "../record.js";
import { ALERT_EXTRA_FIELDS } from "./normalized-fields.js";

/**
 * One key/value pair, unescaped (a configured constant). `label` asks the CEF encoder to add `<key>Label=<label>` after it; it is
 * written as it is (default labels are plain words, configured ones are escaped once at start-up).
 */
export interface MappedField {
  readonly key: string;
  readonly value: string;
  /** Dictionary length of the key, in UTF-8 bytes after escaping. */
  readonly maxBytes: number;
  readonly label?: string | undefined;
  /** A configured constant: validated at start-up, never cut to make a message fit. */
  readonly constant?: boolean;
  /** Never cut to make a message fit either: the identity a SIEM needs to drop resent duplicates. */
  readonly keep?: boolean;
  /** Cut first (to the floor if need be) to make a message fit: what SIEM content for the SIEM API does not read. */
  readonly expendable?: boolean;
}

/** Fields max_message_bytes never cuts (they are short): FullId and AlertId identify the detection. */
export const KEEP_WHOLE: ReadonlySet<string> = new Set(["FullId", "AlertId"]);

/** Fields cut before any other to fit max_message_bytes: a normalized alert's extras (normalized-fields.ts). */
export const EXPENDABLE: ReadonlySet<string> = new Set(ALERT_EXTRA_FIELDS);

/**
 * How one detection field is mapped:
 * - `text`: the value as text;
 * - `flag`: booleans and "true"/"false" (any case) as `1`/`0`;
 * - `integer`: a whole number (a JSON number or a string of digits) as its digits;
 * - `decimal`: a finite number as JavaScript writes it;
 * - `time`: an ISO timestamp as epoch milliseconds;
 * - `ip`: a valid IPv4 address under `key`, a valid IPv6 address under `ipv6Key` (either may be unset);
 * - `severity`: the 1-10 level under `key` (no `key`: the CEF header carries it);
 * - `header`: carried by a header field, never in the extension;
 * - `drop`: never sent (a `null` mapping override).
 * A value a rule cannot map (an unparseable time, `maybe` for a flag, an unknown severity) goes to
 * the profile's extra key with its raw text, in the rule's position: nothing is dropped unasked.
 */
export interface FieldRule {
  readonly field: string;
  readonly kind: "text" | "flag" | "integer" | "decimal" | "time" | "ip" | "severity" | "header" | "drop";
  readonly key?: string;
  readonly label?: string;
  readonly maxBytes?: number;
  readonly ipv6Key?: string;
  readonly ipv6Label?: string;
}

export interface MappingProfile {
  readonly rules: readonly FieldRule[];
  /** Configured constants, sent after the rules' fields in every message. */
  readonly constants?: readonly MappedField[];
  /** Key for a field without a rule, or whose value its rule cannot map. Alphanumeric. */
  readonly extraKey: (fieldName: string) => string;
  readonly extraMaxBytes: number;
  /** The CEF Name; default eventName (AlertTitle). */
  readonly eventName?: (detection: Detection) => string;
  /** The CEF Device Event Class ID and LEEF EventID; default eventClassId. */
  readonly eventClassId?: (detection: Detection) => string;
  /**
   * The header product of an event; undefined (or no function) keeps the configured one. Set by the
   * formatter for Graph alerts and incidents (service-products.ts) unless `mapping.product_per_service` is false.
   */
  readonly productOf?: (detection: Detection) => string | undefined;
  /** Fields never cut to fit max_message_bytes; default KEEP_WHOLE. */
  readonly keepWhole?: ReadonlySet<string>;
  /** Fields cut first to fit max_message_bytes; default EXPENDABLE. */
  readonly expendable?: ReadonlySet<string>;
}

/** CEF user-defined keys: limit decided here (the standard sets none; cs1-cs6 allow 4000). */
export const CEF_EXTRA_MAX_BYTES = 4000;

/** The CEF extension, in the order of the mapping table in docs/mapping.md. */
export const CEF_RULES: readonly FieldRule[] = [
  { field: "Category", kind: "text", key: "cat", maxBytes: 1023 },
  { field: "Source", kind: "text", key: "sourceServiceName", maxBytes: 1023 },
  { field: "MachineName", kind: "text", key: "shost", maxBytes: 1023 },
  { field: "FileName", kind: "text", key: "fname", maxBytes: 1023 },
  { field: "FilePath", kind: "text", key: "filePath", maxBytes: 1023 },
  { field: "UserDomain", kind: "text", key: "sntdom", maxBytes: 255 },
  { field: "UserName", kind: "text", key: "suser", maxBytes: 1023 },
  { field: "Sha1", kind: "text", key: "fileHash", maxBytes: 255 },
  { field: "Sha256", kind: "text", key: "cs6", label: "Sha256", maxBytes: 4000 },
  { field: "Md5", kind: "text", key: "cs5", label: "Md5", maxBytes: 4000 },
  { field: "ThreatName", kind: "text", key: "cs1", label: "ThreatName", maxBytes: 4000 },
  // c6a2 is not in the 25.1 producer table, but Special Mappings names it for a source IPv6 address.
  { field: "IpAddress", kind: "ip", key: "src", maxBytes: 1023, ipv6Key: "c6a2", ipv6Label: "IpAddress" },
  { field: "Url", kind: "text", key: "request", maxBytes: 1023 },
  { field: "RemediationIsSuccess", kind: "flag", key: "cn2", label: "RemediationIsSuccess" },
  { field: "WasExecutingWhileDetected", kind: "flag", key: "cn1", label: "WasExecutingWhileDetected" },
  { field: "AlertId", kind: "text", key: "externalId", maxBytes: 40 },
  { field: "LinkToWDATP", kind: "text", key: "flexString1", label: "LinkToWDATP", maxBytes: 1023 },
  { field: "LastProcessedTimeUtc", kind: "time", key: "rt" },
  { field: "AlertTime", kind: "time", key: "start" },
  { field: "MachineDomain", kind: "text", key: "sourceDnsDomain", maxBytes: 255 },
  { field: "Actor", kind: "text", key: "cs4", label: "Actor", maxBytes: 4000 },
  { field: "LogOnUsers", kind: "text", key: "suid", maxBytes: 1023 },
  { field: "CommandLine", kind: "text", key: "cs2", label: "CommandLine", maxBytes: 4000 },
  { field: "FullId", kind: "text", key: "cs3", label: "FullId", maxBytes: 4000 },
  { field: "Description", kind: "text", key: "msg", maxBytes: 1023 },
  { field: "DeviceID", kind: "text", key: "deviceExternalId", maxBytes: 255 },
  { field: "RemediationAction", kind: "text", key: "act", maxBytes: 63 },
  // Header fields. An unknown Severity still reaches the extension raw (the header says 0).
  { field: "AlertTitle", kind: "header" },
  { field: "Severity", kind: "severity" },
];

/** The LEEF attributes with a predefined key; every other field keeps its own name. */
export const LEEF_RULES: readonly FieldRule[] = [
  { field: "LastProcessedTimeUtc", kind: "time", key: "devTime" },
  { field: "Severity", kind: "severity", key: "sev" },
  { field: "Category", kind: "text", key: "cat" },
  { field: "UserName", kind: "text", key: "usrName", maxBytes: 255 },
  { field: "IpAddress", kind: "ip", key: "src", ipv6Key: "src" },
  { field: "Url", kind: "text", key: "url" },
];

export const CEF_PROFILE: MappingProfile = {
  rules: CEF_RULES,
  // The CEF rule for user-defined keys: one alphanumeric word starting with vendor and product.
  extraKey: (name) => `MicrosoftDefender${alphanumericName(name)}`,
  extraMaxBytes: CEF_EXTRA_MAX_BYTES,
};

export const LEEF_PROFILE: MappingProfile = {
  rules: LEEF_RULES,
  extraKey: alphanumericName,
  extraMaxBytes: Number.POSITIVE_INFINITY,
};

/**
 * Incident events (a Graph incident normalized by normalize-incident.ts): Name from IncidentName, the
 * incident id as externalId, its creation and last update as start and rt, its version key as cs3 (as for
 * alerts), its description as msg; every other field under `MicrosoftDefender<Field>` (the same keys
 * as the alert extras: Status, Classification, AssignedTo...), so SIEM content joins alerts and incidents.
 */
export const INCIDENT_CEF_RULES: readonly FieldRule[] = [
  { field: "IncidentId", kind: "text", key: "externalId", maxBytes: 40 },
  { field: "LastUpdateTime", kind: "time", key: "rt" },
  { field: "CreatedTime", kind: "time", key: "start" },
  { field: "FullId", kind: "text", key: "cs3", label: "FullId", maxBytes: 4000 },
  { field: "Description", kind: "text", key: "msg", maxBytes: 1023 },
  { field: "IncidentName", kind: "header" },
  { field: "Severity", kind: "severity" },
];

export const INCIDENT_LEEF_RULES: readonly FieldRule[] = [
  { field: "LastUpdateTime", kind: "time", key: "devTime" },
  { field: "Severity", kind: "severity", key: "sev" },
];

/** The class id (and LEEF EventID) of every incident event: one kind of event, whatever the incident. */
export const INCIDENT_CLASS_ID = "MDE:Incident";

/** Incidents: the summary fields go before the incident's own when a message must be cut. */
const INCIDENT_EXPENDABLE: ReadonlySet<string> = new Set([
  "AlertIds",
  "Description",
  "Categories",
  "DetectionSources",
  "ServiceSources",
  "SystemTags",
  "Tags",
]);
const INCIDENT_KEEP_WHOLE: ReadonlySet<string> = new Set(["FullId", "IncidentId"]);

const incidentHeader = {
  eventName: (detection: Detection) => fieldText(detection.IncidentName) ?? "Unknown",
  eventClassId: () => INCIDENT_CLASS_ID,
  keepWhole: INCIDENT_KEEP_WHOLE,
  expendable: INCIDENT_EXPENDABLE,
};

export const INCIDENT_CEF_PROFILE: MappingProfile = {
  ...CEF_PROFILE,
  rules: INCIDENT_CEF_RULES,
  ...incidentHeader,
};
export const INCIDENT_LEEF_PROFILE: MappingProfile = {
  ...LEEF_PROFILE,
  rules: INCIDENT_LEEF_RULES,
  ...incidentHeader,
};

const NON_ALPHANUMERIC = /[^A-Za-z0-9]/g;

/** A field name reduced to `[A-Za-z0-9]` (`Unnamed` when nothing is left). */
export function alphanumericName(name: string): string {
  return name.replace(NON_ALPHANUMERIC, "") || "Unnamed";
}

/**
 * A field value as text, or undefined when empty (`null`, `undefined`, `""`). Numbers and booleans
 * as their string, objects and arrays as compact JSON.
 */
export function fieldText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") return value === "" ? undefined : value;
  if (typeof value === "object") {
    let json: string | undefined;
    try {
      json = JSON.stringify(value);
    } catch (err) {
      throw new ForwarderError("E_FORMAT", "a detection field cannot be serialised as JSON", { cause: err });
    }
    return json ?? String(value);
  }
  return String(value);
}

/** Like fieldText, but whitespace-only counts as empty and the result is trimmed. */
function nonBlank(value: unknown): string | undefined {
  const text = fieldText(value)?.trim();
  return text === "" ? undefined : text;
}

export type SeverityLevel = "Informational" | "Low" | "Medium" | "High";

/** Severity of the detection, case-insensitive; undefined for anything else. */
export function severityLevel(value: unknown): SeverityLevel | undefined {
  if (typeof value !== "string") return undefined;
  // As the API writes them first: no trimmed or lower-cased copy for the usual values.
  switch (value) {
    case "High":
    case "Medium":
    case "Low":
    case "Informational":
      return value;
  }
  switch (value.trim().toLowerCase()) {
    case "informational":
      return "Informational";
    case "low":
      return "Low";
    case "medium":
      return "Medium";
    case "high":
      return "High";
    default:
      return undefined;
  }
}

export const SEVERITY_SCORE: Readonly<Record<SeverityLevel, number>> = {
  Informational: 1,
  Low: 3,
  Medium: 5,
  High: 8,
};

/** CEF header severity (0-10): Informational 1, Low 3, Medium 5, High 8, anything else 0 (Unknown). */
export function cefSeverity(detection: Detection): number {
  const level = severityLevel(detection.Severity);
  return level === undefined ? 0 : SEVERITY_SCORE[level];
}

/** LEEF `sev` (1-10) on the same scale; undefined for an unknown severity (the key is then omitted). */
export function leefSeverity(value: unknown): number | undefined {
  const level = severityLevel(value);
  return level === undefined ? undefined : SEVERITY_SCORE[level];
}

/**
 * Stable per kind of detection, never per instance: `IoaDefinitionId` when set, else `ThreatName`
 * (it names a kind of AV detection), else `MDE:<Source>:<Category>` with `Unknown` for a missing part.
 * Values are trimmed; whitespace-only counts as missing.
 */
export function eventClassId(detection: Detection): string {
  const ioa = nonBlank(detection.IoaDefinitionId);
  if (ioa !== undefined) return ioa;
  const threat = nonBlank(detection.ThreatName);
  if (threat !== undefined) return threat;
  return `MDE:${nonBlank(detection.Source) ?? "Unknown"}:${nonBlank(detection.Category) ?? "Unknown"}`;
}

/** The CEF header Name: `AlertTitle`, or `Unknown` when missing (the header field must not be empty). */
export function eventName(detection: Detection): string {
  return fieldText(detection.AlertTitle) ?? "Unknown";
}

export function flagValue(value: unknown): "1" | "0" | undefined {
  if (value === true) return "1";
  if (value === false) return "0";
  if (typeof value === "string") {
    const v = value.trim().toLowerCase();
    if (v === "true") return "1";
    if (v === "false") return "0";
  }
  return undefined;
}

const INTEGER = /^\s*-?\d+\s*$/;
const DECIMAL = /^\s*-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$/;

export function integerValue(value: unknown): string | undefined {
  if (typeof value === "number") return Number.isSafeInteger(value) ? String(value) : undefined;
  return typeof value === "string" && INTEGER.test(value) ? value.trim() : undefined;
}

export function decimalValue(value: unknown): string | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : undefined;
  return typeof value === "string" && DECIMAL.test(value) ? value.trim() : undefined;
}
