// The shared vocabulary between source, state, format and sink.
import { createHash } from "node:crypto";
import { canonicalTimestamp } from "./timestamp.js";

/**
 * One detection (SIEM API), alert (Alerts API, Graph alerts_v2) or incident (Graph incidents) as the API
 * returned it. SIEM detections are flat objects with PascalCase keys; the others are camelCase objects.
 */
export type Detection = Readonly<Record<string, unknown>>;

/** Which API (and so which schema) a stored detection comes from. */
export type SourceKind = "siem" | "alerts" | "graph" | "incidents";

/** A detection ready to be stored: its dedupe key, its canonical time and its JSON body. */
export interface DetectionRecord {
  /** `FullId` when present, else `sha256:<hex of the canonical body>`. */
  readonly key: string;
  /** `LastProcessedTimeUtc` in canonical 7-digit form; undefined when missing or unparseable. */
  readonly lastProcessed: string | undefined;
  /** The detection as received, compact JSON. */
  readonly body: string;
  /** True when FullId or a parseable LastProcessedTimeUtc is missing. Still forwarded. */
  readonly malformed: boolean;
  /** The schema of `body`; "siem" when absent. */
  readonly kind?: SourceKind;
}

/** The outbox row a drain loop reads: a stored detection bound for one destination. */
export interface OutboxEvent {
  readonly id: number;
  readonly tenant: string;
  readonly body: string;
  readonly kind: SourceKind;
}

/**
 * Key and time per schema. SIEM API: FullId and LastProcessedTimeUtc. Alerts API and Graph: the alert's id
 * and its last update time, so an updated alert (status, classification, new evidence) is a new version that
 * is forwarded again, while the same version seen twice is not; an item split per evidence adds its index.
 * Incidents: `incident:<id>@<lastUpdateDateTime>`, one version per change of the incident.
 */
export function toDetectionRecord(
  detection: Detection,
  kind: SourceKind = "siem",
  /** The compact JSON text the detection was parsed from, if at hand: the body, without encoding it again. */
  text?: string,
): DetectionRecord {
  // Without a text, the body is encoded when read, and not kept: the store reads it once and only for new
  // detections (most of a steady-state poll is the overlap read again: duplicates).
  const encode = () => text ?? JSON.stringify(detection);
  if (kind === "siem") {
    const fullId = detection.FullId;
    const hasFullId = typeof fullId === "string" && fullId.length > 0;
    const lastProcessed = canonicalTimestamp(detection.LastProcessedTimeUtc);
    return {
      key: hasFullId ? fullId : `sha256:${contentHash(detection)}`,
      lastProcessed,
      get body() {
        return encode();
      },
      malformed: !hasFullId || lastProcessed === undefined,
    };
  }
  const id = detection.id;
  const hasId = typeof id === "string" && id.length > 0;
  const lastProcessed = canonicalTimestamp(
    kind === "alerts" ? detection.lastUpdateTime : detection.lastUpdateDateTime,
  );
  const key =
    hasId && lastProcessed !== undefined
      ? kind === "incidents"
        ? incidentVersionKey(id, lastProcessed)
        : alertVersionKey(id, lastProcessed, detection[EVIDENCE_INDEX_FIELD])
      : `sha256:${contentHash(detection)}`;
  return {
    key,
    lastProcessed,
    get body() {
      return encode();
    },
    malformed: !hasId || lastProcessed === undefined,
    kind,
  };
}

/**
 * Added by the source to an alert split into one stored item per evidence entity: the entity's index in
 * the alert's `evidence` array (the item's `evidence` then starts with that entity). Part of the alert's
 * version key, and read by the formatters.
 */
export const EVIDENCE_INDEX_FIELD = "@mde.evidenceIndex";

/** `<id>@<canonical last update>` (+ `#<evidence index>`): one version of an alert (the FullId of its events). */
export function alertVersionKey(id: string, lastUpdate: string, evidenceIndex?: unknown): string {
  const suffix = typeof evidenceIndex === "number" ? `#${evidenceIndex}` : "";
  return `${id}@${lastUpdate}${suffix}`;
}

/** `incident:<id>@<canonical last update>`: one version of an incident (the FullId of its events). */
export function incidentVersionKey(id: string, lastUpdate: string): string {
  return `incident:${id}@${lastUpdate}`;
}

export function isDetection(value: unknown): value is Detection {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Hash of the detection with keys sorted, so the same content always gives the same key. */
function contentHash(detection: Detection): string {
  return createHash("sha256").update(stableStringify(detection)).digest("hex");
}

function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableStringify((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/**
 * Graph's `serviceSource` members (microsoft.graph.security.serviceSource, v1.0), `unknown` and the
 * `unknownFutureValue` sentinel left out: the products whose alerts alerts_v2 returns. The members after
 * the sentinel (Defender for Cloud, Sentinel, Insider Risk Management) come only with the header
 * `Prefer: include-unknown-enum-members`, which every Graph call sends.
 */
export const GRAPH_SERVICE_SOURCES = [
  "microsoftDefenderForEndpoint",
  "microsoftDefenderForIdentity",
  "microsoftDefenderForCloudApps",
  "microsoftDefenderForOffice365",
  "microsoft365Defender",
  "azureAdIdentityProtection",
  "microsoftAppGovernance",
  "dataLossPrevention",
  "microsoftDefenderForCloud",
  "microsoftSentinel",
  "microsoftInsiderRiskManagement",
] as const;

export type GraphServiceSource = (typeof GRAPH_SERVICE_SOURCES)[number];

/**
 * Why a detection went to the state's quarantine instead of the outbox: nested deeper than the forwarder
 * parses (`too_deep`), larger than one detection may be (`too_large`), an item of the response that is not
 * an object (`not_an_object`), a detection that cannot be serialised for storage (`unstorable`), or a
 * stored one a destination's formatter cannot encode (`unencodable`). A closed set: a metric label.
 */
export const QUARANTINE_REASONS = [
  "too_deep",
  "too_large",
  "not_an_object",
  "unstorable",
  "unencodable",
] as const;

export type QuarantineReason = (typeof QUARANTINE_REASONS)[number];

/** A quarantined record keeps at most this much of its raw text (UTF-8 bytes). */
export const MAX_QUARANTINE_RAW_BYTES = 65_536;

/** An item of an API response that was not parsed: what the quarantine keeps of it. */
export interface RejectedItem {
  readonly reason: QuarantineReason;
  /** Its raw JSON text, at most MAX_QUARANTINE_RAW_BYTES (cut there, so not always JSON). */
  readonly raw: string;
  /** Its whole size in bytes. */
  readonly bytes: number;
  /** SHA-256 (hex) of its whole raw text: its dedupe key, so an overlap re-read is not quarantined twice. */
  readonly hash: string;
}

const REJECTED = Symbol("mde.rejected");

/**
 * A rejected item travels in its response's place among the detections (an empty object to every reader
 * but rejectionOf), so that counting against `limit`, paging and window splitting still see it; the poller
 * takes it out and quarantines it.
 */
export function rejectedItem(item: RejectedItem): Detection {
  return Object.freeze({ [REJECTED]: item }) as Detection;
}

export function rejectionOf(detection: Detection): RejectedItem | undefined {
  return (detection as { readonly [REJECTED]?: RejectedItem })[REJECTED];
}
