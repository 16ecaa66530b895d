// What the Alerts API and Graph normalizers share: the split marker, the assembly of a normalized alert
// (keys in normalized-fields.ts order) and the small rules both sources follow the same way. Every
// helper accepts any JSON value where an API promises a type: stored alerts are never trusted.
import { isIP } from "node:net";
import { ForwarderError } from "../errors.js";
import { type Detection, EVIDENCE_INDEX_FIELD } from "../record.js";
import { canonicalTimestamp } from "../timestamp.js";
import { severityLevel } from "./mapping.js";
import { NORMALIZED_FIELDS, type NormalizedField } from "./normalized-fields.js";

export type NormalizedValues = Partial<Record<NormalizedField, unknown>>;

export type JsonObject = Readonly<Record<string, unknown>>;

/** The normalized detection: the present values in NORMALIZED_FIELDS order. */
export function assemble(values: NormalizedValues): Detection {
  const out: Record<string, unknown> = {};
  for (const name of NORMALIZED_FIELDS) {
    const value = values[name];
    if (isPresent(value)) out[name] = value;
  }
  return out;
}

export function asObject(value: unknown): JsonObject | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as JsonObject)
    : undefined;
}

/** Not `undefined`, `null` or `""` (the three ways the APIs say "no value"). */
export function isPresent(value: unknown): boolean {
  return value !== undefined && value !== null && value !== "";
}

/** The first present value. */
export function firstPresent(...values: unknown[]): unknown {
  return values.find(isPresent);
}

/** A string or finite number as text (an id, a time); undefined for anything else or empty. */
export function scalarText(value: unknown): string | undefined {
  if (typeof value === "string") return value === "" ? undefined : value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return undefined;
}

/** `high` → `High` and so on; anything else (`unknown`, `UnSpecified`, a number) stays as it is. */
export function normalizeSeverity(value: unknown): unknown {
  return severityLevel(value) ?? value;
}

/** The evidence entities that are objects, in order; anything else in the array is skipped (not dropped: Evidence keeps it). */
export function evidenceEntities(evidence: unknown): JsonObject[] {
  if (!Array.isArray(evidence)) return [];
  const out: JsonObject[] = [];
  for (const entity of evidence) {
    const o = asObject(entity);
    if (o !== undefined) out.push(o);
  }
  return out;
}

/** The split marker when it is a whole number >= 0, else undefined. */
export function evidenceIndexOf(alert: Detection): number | undefined {
  const value = alert[EVIDENCE_INDEX_FIELD];
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/**
 * `<id>@<last update, canonical 7-digit form>`, plus `#<evidence index>` for a split item. An update of an
 * alert is a new event: a new last update time, so a new FullId. A last update that is no timestamp is
 * used as it is; none at all gives `<id>` alone. No id: no FullId.
 */
export function alertFullId(
  id: unknown,
  lastUpdate: unknown,
  evidenceIndex: number | undefined,
): string | undefined {
  const idText = scalarText(id);
  if (idText === undefined) return undefined;
  const version = canonicalTimestamp(lastUpdate) ?? scalarText(lastUpdate);
  return `${idText}${version === undefined ? "" : `@${version}`}${evidenceIndex === undefined ? "" : `#${evidenceIndex}`}`;
}

/** A DNS name split at its first dot: `host.contoso.com` → `host` + `contoso.com`. IP addresses stay whole. */
export function splitDnsName(value: unknown): { host: unknown; domain: string | undefined } {
  if (typeof value !== "string") return { host: value, domain: undefined };
  const name = value.trim();
  const dot = name.indexOf(".");
  if (dot <= 0 || dot === name.length - 1 || isIP(name) !== 0) return { host: name, domain: undefined };
  return { host: name.slice(0, dot), domain: name.slice(dot + 1) };
}

/** A list as `a, b, c` (the SIEM API's list style); a non-list value stays as it is. */
export function joinList(value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  const parts: string[] = [];
  for (const item of value) {
    const text = itemText(item);
    if (text !== undefined) parts.push(text);
  }
  return parts.length === 0 ? undefined : parts.join(", ");
}

/**
 * Logged-on users as the SIEM API wrote LogOnUsers: `DOMAIN\account; DOMAIN\other`. Entries are objects
 * with accountName and domainName (Graph) or plain strings.
 */
export function joinLogonUsers(value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  const parts: string[] = [];
  for (const item of value) {
    const user = asObject(item);
    let text: string | undefined;
    if (user === undefined) text = itemText(item);
    else {
      const account = scalarText(user.accountName);
      const domain = scalarText(user.domainName);
      text = account === undefined ? undefined : domain === undefined ? account : `${domain}\\${account}`;
    }
    if (text !== undefined) parts.push(text);
  }
  return parts.length === 0 ? undefined : parts.join("; ");
}

function itemText(item: unknown): string | undefined {
  if (typeof item === "string") return item === "" ? undefined : item;
  if (item === null || item === undefined) return undefined;
  return compactJson(item, "a list item");
}

/**
 * Compact JSON with the empty parts left out (`null`, `""`, `[]` as object members): the Alerts API sends
 * every evidence key, mostly null, and what is left must fit a CEF value. E_FORMAT when it cannot be written.
 */
export function compactJson(value: unknown, what = "the evidence"): string | undefined {
  try {
    return JSON.stringify(value, function (this: unknown, _key: string, v: unknown) {
      if (Array.isArray(this)) return v;
      return v === null || v === "" || (Array.isArray(v) && v.length === 0) ? undefined : v;
    });
  } catch (err) {
    throw new ForwarderError("E_FORMAT", `${what} of an alert cannot be serialised as JSON`, { cause: err });
  }
}

const REMEDIATED = new Set(["remediated", "prevented", "blocked"]);
const NOT_REMEDIATED = new Set(["unremediated", "partiallyremediated", "declined"]);

/**
 * RemediationAction and RemediationIsSuccess from the first entity whose remediationStatus is set and not
 * `none`: the action is that status as received; success is true for remediated, prevented and blocked,
 * false for unremediated, partiallyRemediated and declined, unset for anything else (notFound, active,
 * pendingApproval, running...): only a finished outcome is reported as one.
 */
export function remediationOf(entities: readonly JsonObject[]): {
  action: unknown;
  success: boolean | undefined;
} {
  for (const entity of entities) {
    const status = entity.remediationStatus;
    if (!isPresent(status)) continue;
    const key = typeof status === "string" ? status.trim().toLowerCase() : undefined;
    if (key === "none" || key === "") continue;
    const success =
      key === undefined
        ? undefined
        : REMEDIATED.has(key)
          ? true
          : NOT_REMEDIATED.has(key)
            ? false
            : undefined;
    return { action: status, success };
  }
  return { action: undefined, success: undefined };
}

/**
 * WasExecutingWhileDetected from a process entity's detectionStatus: `detected` → true (the process ran and
 * was detected, not stopped), `blocked` and `prevented` → false (it was stopped), anything else unset.
 */
export function wasExecuting(detectionStatus: unknown): boolean | undefined {
  if (typeof detectionStatus !== "string") return undefined;
  switch (detectionStatus.trim().toLowerCase()) {
    case "detected":
      return true;
    case "blocked":
    case "prevented":
      return false;
    default:
      return undefined;
  }
}

/** The first entity for which `pick` gives an object, and that object. */
export function firstWith(
  entities: readonly JsonObject[],
  pick: (entity: JsonObject) => JsonObject | undefined,
): JsonObject | undefined {
  for (const entity of entities) {
    const found = pick(entity);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** True when any of `keys` holds a value in `o`. */
export function hasAny(o: JsonObject, keys: readonly string[]): boolean {
  return keys.some((k) => isPresent(o[k]));
}

/** Keys that make an evidence entity a file (or a process image) worth mapping to the file fields. */
export const FILE_KEYS = ["fileName", "filePath", "sha1", "sha256", "md5"];
