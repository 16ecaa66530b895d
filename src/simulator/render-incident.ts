// An incident as Microsoft Graph `security/incidents` serves it: the key order of Graph's example, camelCase
// enums, and, with `$expand=alerts`, its alerts as alerts_v2 renders them.
import type { IncidentModel } from "./incident-model.js";
import {
  type GraphRendering,
  graphClassification,
  graphDetermination,
  graphSeverity,
  renderGraph,
} from "./render-graph.js";

const PORTAL = "https://security.microsoft.com";

export interface IncidentRendering extends GraphRendering {
  /** `$expand=alerts`. */
  readonly alerts: boolean;
}

/** Incident status as Graph sends it; `awaitingAction` is evolvable. */
export function graphIncidentStatus(incident: IncidentModel, evolvable: boolean): string {
  return incident.status === "awaitingAction" && !evolvable ? "unknownFutureValue" : incident.status;
}

export function renderIncident(incident: IncidentModel, how: IncidentRendering): Record<string, unknown> {
  const tid = incident.tenantId;
  const out: Record<string, unknown> = {
    "@odata.type": "#microsoft.graph.security.incident",
    id: incident.id,
    incidentWebUrl: `${PORTAL}/incidents/${incident.id}?tid=${tid}`,
    redirectIncidentId: incident.redirectIncidentId,
    tenantId: tid,
    displayName: incident.displayName,
    createdDateTime: incident.created.text,
    lastUpdateDateTime: incident.lastUpdate.text,
    assignedTo: incident.assignedTo,
    classification: graphClassification(incident.classification),
    determination: graphDetermination(incident.determination),
    status: graphIncidentStatus(incident, how.evolvable),
    severity: graphSeverity(incident.severity),
    customTags: [...incident.customTags],
    comments: incident.comments.map((c) => ({
      comment: c.comment,
      createdBy: c.createdBy,
      createdTime: c.created,
    })),
    systemTags: [...incident.systemTags],
    description: incident.description,
  };
  if (how.alerts) out.alerts = incident.alerts.map((a) => renderGraph(a, how));
  return out;
}
