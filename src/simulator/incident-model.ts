// An incident as Defender XDR keeps it: a group of correlated alerts with its own triage state. The
// simulator groups its alerts by their incidentId; every change of a member alert, an alert joining, or an
// analyst's change of the incident itself is a new version with a later lastUpdateDateTime.
import type {
  AlertClassification,
  AlertComment,
  AlertDetermination,
  AlertModel,
  AlertSeverity,
  Stamp,
} from "./alert-model.js";

export type IncidentStatus = "active" | "inProgress" | "resolved" | "redirected" | "awaitingAction";

export const INCIDENT_STATUSES: readonly IncidentStatus[] = [
  "active",
  "inProgress",
  "resolved",
  "redirected",
  "awaitingAction",
];

export interface IncidentModel {
  readonly tenantId: string;
  /** Graph's incident id: a number as a string. */
  readonly id: string;
  readonly displayName: string;
  readonly description: string | null;
  readonly created: Stamp;
  readonly lastUpdate: Stamp;
  readonly status: IncidentStatus;
  readonly severity: AlertSeverity;
  readonly classification: AlertClassification | null;
  readonly determination: AlertDetermination | null;
  readonly assignedTo: string | null;
  readonly customTags: readonly string[];
  readonly systemTags: readonly string[];
  readonly comments: readonly AlertComment[];
  readonly redirectIncidentId: string | null;
  /** Its alerts as of this version, in the order they joined. */
  readonly alerts: readonly AlertModel[];
}

const SEVERITY_RANK: Readonly<Record<AlertSeverity, number>> = {
  UnSpecified: 0,
  Informational: 1,
  Low: 2,
  Medium: 3,
  High: 4,
};

export function highestSeverity(alerts: readonly AlertModel[]): AlertSeverity {
  let best: AlertSeverity = "UnSpecified";
  for (const a of alerts) if (SEVERITY_RANK[a.severity] > SEVERITY_RANK[best]) best = a.severity;
  return best;
}

/** `CommandAndControl` → `Command and control`. */
function words(category: string): string {
  const spaced = category.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase();
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

/**
 * The name Defender gives an incident from its alerts: the alert's title for one alert, "Multi-stage
 * incident involving <categories> on <one endpoint | multiple endpoints>" for several.
 */
export function incidentName(alerts: readonly AlertModel[]): string {
  const first = alerts[0];
  if (first === undefined) return "Incident";
  const devices = new Set(alerts.filter((a) => a.onDevice).map((a) => a.device.mdeDeviceId));
  const where =
    devices.size === 0
      ? "involving one user"
      : devices.size === 1
        ? "on one endpoint"
        : "on multiple endpoints";
  if (alerts.length === 1) return `${first.title} ${where}`;
  const categories = [...new Set(alerts.map((a) => words(a.category)))].slice(0, 2);
  const services = new Set(alerts.map((a) => a.serviceSource));
  const sources = services.size > 1 ? " reported by multiple sources" : "";
  const on = devices.size === 0 ? "" : ` ${where}`;
  return `Multi-stage incident involving ${categories.join(" & ")}${on}${sources}`;
}
