// One schema for the encoders whatever the source: alerts from the Defender Alerts API and Microsoft Graph
// become detections in the SIEM API schema (PascalCase, flat) before the CEF/LEEF mapping applies, so a
// SIEM rule and a destination's mapping overrides work for every source. SIEM detections pass untouched.
import { ForwarderError } from "../errors.js";
import type { Detection, SourceKind } from "../record.js";
import { evidenceEntities, normalizeSeverity } from "./alert-fields.js";
import { normalizeAlertsApiAlert } from "./normalize-alerts.js";
import { graphDevice, normalizeGraphAlert } from "./normalize-graph.js";
import { normalizeIncident } from "./normalize-incident.js";

/** What a destination's selection (min_severity, include, exclude) looks at, for any kind. */
export interface SelectionFields {
  /** As CEF sends it: `High`, `Medium`, `Low`, `Informational`, or the raw value when it is none of them. */
  readonly severity?: string;
  readonly category?: string;
  readonly machineGroup?: string;
}

function unknownKind(kind: unknown): ForwarderError {
  return new ForwarderError("E_FORMAT", `unknown source kind ${JSON.stringify(String(kind))}`);
}

/**
 * `detection` in the SIEM API schema: the detection itself for kind "siem" (or none), a new object
 * for "alerts" and "graph"; an incident ("incidents") in the incident fields (normalize-incident.ts).
 * Throws ForwarderError E_FORMAT only when the item cannot be serialised (or the kind is unknown).
 */
export function normalizeDetection(detection: Detection, kind: SourceKind = "siem"): Detection {
  if (kind === "siem") return detection;
  try {
    if (kind === "alerts") return normalizeAlertsApiAlert(detection);
    if (kind === "graph") return normalizeGraphAlert(detection);
    if (kind === "incidents") return normalizeIncident(detection);
  } catch (err) {
    if (err instanceof ForwarderError) throw err;
    // Stored alerts come from JSON: nothing else should throw, but a bug must not stop a drain loop.
    throw new ForwarderError("E_FORMAT", "the alert cannot be normalized", { cause: err });
  }
  throw unknownKind(kind);
}

/** The fields that are non-empty strings; the others are left out, as the normalized detection leaves them. */
function selection(severity: unknown, category: unknown, machineGroup: unknown): SelectionFields {
  const out: { severity?: string; category?: string; machineGroup?: string } = {};
  if (typeof severity === "string" && severity !== "") out.severity = severity;
  if (typeof category === "string" && category !== "") out.category = category;
  if (typeof machineGroup === "string" && machineGroup !== "") out.machineGroup = machineGroup;
  return out;
}

/**
 * Severity, Category and MachineGroup as the normalized detection has them (non-empty strings only),
 * without normalizing the whole alert: the router calls it for every detection it ingests.
 */
export function selectionFieldsOf(detection: Detection, kind: SourceKind = "siem"): SelectionFields {
  switch (kind) {
    case "siem":
      return selection(detection.Severity, detection.Category, detection.MachineGroup);
    case "alerts":
      return selection(normalizeSeverity(detection.severity), detection.category, detection.rbacGroupName);
    case "graph": {
      const device = graphDevice(evidenceEntities(detection.evidence));
      return selection(normalizeSeverity(detection.severity), detection.category, device?.rbacGroupName);
    }
    // An incident has neither category nor machine group: only min_severity selects it.
    case "incidents":
      return selection(normalizeSeverity(detection.severity), undefined, undefined);
    default:
      throw unknownKind(kind);
  }
}
