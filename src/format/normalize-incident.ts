// A Microsoft Graph incident (security/incidents, with its alerts expanded) as one flat event: the
// incident's own fields under documented names (INCIDENT_FIELDS), its alerts summed up as their number,
// their ids and the products that raised them. The CEF and LEEF incident profiles (mapping.ts) map them.
import type { Detection } from "../record.js";
import { canonicalTimestamp } from "../timestamp.js";
import { asObject, isPresent, joinList, normalizeSeverity, scalarText } from "./alert-fields.js";
import { INCIDENT_FIELDS, type IncidentField } from "./normalized-fields.js";

export function normalizeIncident(incident: Detection): Detection {
  const alerts = Array.isArray(incident.alerts) ? incident.alerts : undefined;
  const alertObjects = (alerts ?? []).map(asObject).filter((a) => a !== undefined);
  const id = scalarText(incident.id);
  const lastUpdate = incident.lastUpdateDateTime;
  const lastUpdateText = scalarText(lastUpdate);
  const values: Partial<Record<IncidentField, unknown>> = {
    IncidentName: incident.displayName,
    Severity: normalizeSeverity(incident.severity),
    IncidentId: incident.id,
    Status: incident.status,
    Classification: incident.classification,
    Determination: incident.determination,
    AssignedTo: incident.assignedTo,
    // Without $expand the API says nothing about alerts: no count rather than a wrong 0.
    AlertCount: alerts === undefined ? undefined : alerts.length,
    AlertIds: joinList(alertObjects.map((a) => scalarText(a.id)).filter((x) => x !== undefined)),
    IncidentLinkToMTP: incident.incidentWebUrl,
    CreatedTime: incident.createdDateTime,
    LastUpdateTime: lastUpdate,
    // The FullId of the event: the version key the forwarder dedupes on (see record.ts).
    FullId: id === undefined || lastUpdateText === undefined ? undefined : incidentFullId(id, lastUpdateText),
    // Graph's example names the custom tags `customTags`, an older one `tags`.
    Tags: joinList(isPresent(incident.customTags) ? incident.customTags : incident.tags),
    SystemTags: joinList(incident.systemTags),
    Description: incident.description,
    RedirectIncidentId: incident.redirectIncidentId,
    ServiceSources: joinList(distinct(alertObjects.map((a) => a.serviceSource))),
    DetectionSources: joinList(distinct(alertObjects.map((a) => a.detectionSource))),
    Categories: joinList(distinct(alertObjects.map((a) => a.category))),
    TenantId: incident.tenantId,
  };
  const out: Record<string, unknown> = {};
  for (const name of INCIDENT_FIELDS) {
    const value = values[name];
    if (isPresent(value)) out[name] = value;
  }
  return out;
}

/** As record.ts keys the version: `incident:<id>@<canonical last update>` (the raw text if it does not parse). */
function incidentFullId(id: string, lastUpdate: string): string {
  return `incident:${id}@${canonicalTimestamp(lastUpdate) ?? lastUpdate}`;
}

function distinct(values: readonly unknown[]): string[] {
  const out = new Set<string>();
  for (const v of values) if (typeof v === "string" && v !== "") out.add(v);
  return [...out];
}
