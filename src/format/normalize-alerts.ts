// A Defender for Endpoint Alerts API alert (`/api/alerts?$expand=evidence`) as a detection in the SIEM API
// schema: the Alerts API equivalent of Microsoft's SIEM-to-Graph field table. The machine is named on the
// alert itself (computerDnsName, machineId, rbacGroupName); evidence entities are flat, typed by entityType.
import { type Detection, EVIDENCE_INDEX_FIELD } from "../record.js";
import {
  alertFullId,
  asObject,
  assemble,
  compactJson,
  evidenceEntities,
  evidenceIndexOf,
  FILE_KEYS,
  firstPresent,
  firstWith,
  hasAny,
  type JsonObject,
  joinList,
  normalizeSeverity,
  remediationOf,
  splitDnsName,
  wasExecuting,
} from "./alert-fields.js";

/** `Process` → `process`; undefined when not a string. */
export function alertsEvidenceType(entity: JsonObject): string | undefined {
  const type = entity.entityType;
  return typeof type === "string" ? type.trim().toLowerCase() : undefined;
}

/** The first entity of `type` with a value for one of `keys`. */
function firstOf(
  entities: readonly JsonObject[],
  type: string,
  keys: readonly string[],
): JsonObject | undefined {
  return firstWith(entities, (e) => (alertsEvidenceType(e) === type && hasAny(e, keys) ? e : undefined));
}

/** The first User entity; else the alert's relatedUser; else the account of the first Process entity. */
function userOf(alert: Detection, entities: readonly JsonObject[]): { name: unknown; domain: unknown } {
  const entity = firstOf(entities, "user", ["accountName"]);
  if (entity !== undefined) return { name: entity.accountName, domain: entity.domainName };
  const related = asObject(alert.relatedUser);
  if (related !== undefined && hasAny(related, ["userName"])) {
    return { name: related.userName, domain: related.domainName };
  }
  const owner = firstOf(entities, "process", ["accountName"]);
  return { name: owner?.accountName, domain: owner?.domainName };
}

export function normalizeAlertsApiAlert(alert: Detection): Detection {
  const evidence = alert.evidence;
  const entities = evidenceEntities(evidence);
  const index = evidenceIndexOf(alert);
  const { host, domain } = splitDnsName(alert.computerDnsName);
  // One entity per group, so that a name and a hash never come from two different files.
  const file = firstOf(entities, "file", FILE_KEYS) ?? firstOf(entities, "process", FILE_KEYS);
  const process = firstWith(entities, (e) => (alertsEvidenceType(e) === "process" ? e : undefined));
  const user = userOf(alert, entities);
  const remediation = remediationOf(entities);
  const lastUpdate = alert.lastUpdateTime;

  return assemble({
    AlertTime: alert.alertCreationTime,
    ComputerDnsName: alert.computerDnsName,
    AlertTitle: alert.title,
    Category: alert.category,
    Severity: normalizeSeverity(alert.severity),
    AlertId: alert.id,
    Actor: alert.actorDisplayName,
    // The Alerts API returns no portal links (read here should it add them): none is made up, since
    // the portal's host depends on the cloud.
    LinkToWDATP: alert.alertWebUrl,
    Sha1: file?.sha1,
    FileName: file?.fileName,
    FilePath: file?.filePath,
    IpAddress: firstOf(entities, "ip", ["ipAddress"])?.ipAddress,
    Url: firstOf(entities, "url", ["url"])?.url,
    IoaDefinitionId: alert.detectorId,
    UserName: user.name,
    FullId: alertFullId(alert.id, lastUpdate, index),
    LastProcessedTimeUtc: lastUpdate,
    ThreatFamily: alert.threatFamilyName,
    ThreatName: firstPresent(alert.threatDisplayName, alert.threatName),
    RemediationAction: remediation.action,
    RemediationIsSuccess: remediation.success,
    Source: alert.detectionSource,
    Md5: file?.md5,
    Sha256: file?.sha256,
    WasExecutingWhileDetected: wasExecuting(process?.detectionStatus),
    UserDomain: user.domain,
    MachineDomain: domain,
    MachineName: host,
    // LogOnUsers: the Alerts API does not list logged-on users.
    DeviceID: alert.machineId,
    MachineGroup: alert.rbacGroupName,
    Description: alert.description,
    CommandLine: process?.processCommandLine,
    LinkToMTP: alert.alertWebUrl,
    IncidentLinkToMTP: alert.incidentWebUrl,
    IncidentId: alert.incidentId,
    InvestigationId: alert.investigationId,
    InvestigationState: alert.investigationState,
    Status: alert.status,
    Classification: alert.classification,
    Determination: alert.determination,
    AssignedTo: alert.assignedTo,
    MitreTechniques: joinList(alert.mitreTechniques),
    FirstActivityTime: alert.firstEventTime,
    LastActivityTime: alert.lastEventTime,
    ResolvedTime: alert.resolvedTime,
    LastUpdateTime: lastUpdate,
    TenantId: alert.aadTenantId,
    EvidenceIndex: alert[EVIDENCE_INDEX_FIELD],
    EvidenceCount: Array.isArray(evidence) ? evidence.length : undefined,
    Evidence: compactJson(evidence),
  });
}
