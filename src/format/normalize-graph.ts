// A Microsoft Graph security alert (alerts_v2) as a detection in the SIEM API schema, following
// Microsoft's SIEM-to-Graph field table, so that CEF and LEEF carry the same keys for either source.
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
  joinLogonUsers,
  normalizeSeverity,
  remediationOf,
  splitDnsName,
  wasExecuting,
} from "./alert-fields.js";

/** `#microsoft.graph.security.fileEvidence` → `fileevidence`; undefined when not a string. */
export function graphEvidenceType(entity: JsonObject): string | undefined {
  const type = entity["@odata.type"];
  if (typeof type !== "string") return undefined;
  return type
    .slice(type.lastIndexOf(".") + 1)
    .replace(/^#/, "")
    .toLowerCase();
}

const ofType =
  (type: string) =>
  (entity: JsonObject): JsonObject | undefined =>
    graphEvidenceType(entity) === type ? entity : undefined;

/** The device evidence that describes the alert's machine: the first one. */
export function graphDevice(entities: readonly JsonObject[]): JsonObject | undefined {
  return firstWith(entities, ofType("deviceevidence"));
}

export function normalizeGraphAlert(alert: Detection): Detection {
  const evidence = alert.evidence;
  const entities = evidenceEntities(evidence);
  const index = evidenceIndexOf(alert);
  const device = graphDevice(entities);
  const { host, domain } = splitDnsName(device?.deviceDnsName);
  // One entity per group, so that a name and a hash never come from two different files.
  const file =
    firstWith(entities, (e) => {
      const details = graphEvidenceType(e) === "fileevidence" ? asObject(e.fileDetails) : undefined;
      return details !== undefined && hasAny(details, FILE_KEYS) ? details : undefined;
    }) ??
    firstWith(entities, (e) => {
      const image = graphEvidenceType(e) === "processevidence" ? asObject(e.imageFile) : undefined;
      return image !== undefined && hasAny(image, FILE_KEYS) ? image : undefined;
    });
  const process = firstWith(entities, ofType("processevidence"));
  const account = (type: string) =>
    firstWith(entities, (e) => {
      const user = graphEvidenceType(e) === type ? asObject(e.userAccount) : undefined;
      return user !== undefined && hasAny(user, ["accountName"]) ? user : undefined;
    });
  const user = account("userevidence") ?? account("processevidence");
  const ip = firstWith(entities, (e) =>
    graphEvidenceType(e) === "ipevidence" && hasAny(e, ["ipAddress"]) ? e : undefined,
  );
  const url = firstWith(entities, (e) =>
    graphEvidenceType(e) === "urlevidence" && hasAny(e, ["url"]) ? e : undefined,
  );
  const remediation = remediationOf(entities);
  const lastUpdate = alert.lastUpdateDateTime;

  return assemble({
    AlertTime: alert.createdDateTime,
    ComputerDnsName: device?.deviceDnsName,
    AlertTitle: alert.title,
    Category: alert.category,
    Severity: normalizeSeverity(alert.severity),
    AlertId: alert.id,
    Actor: alert.actorDisplayName,
    LinkToWDATP: alert.alertWebUrl,
    Sha1: file?.sha1,
    FileName: file?.fileName,
    FilePath: file?.filePath,
    IpAddress: ip?.ipAddress,
    Url: url?.url,
    IoaDefinitionId: alert.detectorId,
    UserName: user?.accountName,
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
    UserDomain: user?.domainName,
    LogOnUsers: joinLogonUsers(device?.loggedOnUsers),
    MachineDomain: domain,
    MachineName: host,
    // File and process evidence name their device too: a split item may hold no device evidence.
    DeviceID: firstPresent(device?.mdeDeviceId, ...entities.map((e) => e.mdeDeviceId)),
    MachineGroup: device?.rbacGroupName,
    Description: alert.description,
    CommandLine: process?.processCommandLine,
    LinkToMTP: alert.alertWebUrl,
    IncidentLinkToMTP: alert.incidentWebUrl,
    ProviderAlertId: alert.providerAlertId,
    IncidentId: alert.incidentId,
    Status: alert.status,
    Classification: alert.classification,
    Determination: alert.determination,
    AssignedTo: alert.assignedTo,
    ServiceSource: alert.serviceSource,
    MitreTechniques: joinList(alert.mitreTechniques),
    FirstActivityTime: alert.firstActivityDateTime,
    LastActivityTime: alert.lastActivityDateTime,
    ResolvedTime: alert.resolvedDateTime,
    LastUpdateTime: lastUpdate,
    TenantId: alert.tenantId,
    MachineTags: joinList(device?.tags),
    EvidenceIndex: alert[EVIDENCE_INDEX_FIELD],
    EvidenceCount: Array.isArray(evidence) ? evidence.length : undefined,
    Evidence: compactJson(evidence),
  });
}
