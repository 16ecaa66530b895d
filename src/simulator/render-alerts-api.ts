// An alert as the MDE Alerts API (`GET /api/alerts`) serves it: the key order and value shapes of
// Microsoft's response example, PascalCase enums, and evidence as flat objects that carry every
// evidence field (null where it does not apply) plus an entityType.
import type { AlertModel, AlertSource, EvidenceKind, EvidenceModel } from "./alert-model.js";

const DETECTION_SOURCES: Readonly<Record<AlertSource, string>> = {
  Antivirus: "WindowsDefenderAv",
  EDR: "WindowsDefenderAtp",
  CustomTI: "CustomerTI",
  SmartScreen: "WindowsDefenderSmartScreen",
};

const ENTITY_TYPES: Readonly<Record<EvidenceKind, string>> = {
  file: "File",
  process: "Process",
  user: "User",
  ip: "Ip",
  url: "Url",
  registry: "Registry",
};

export function alertsApiDetectionSource(source: AlertSource): string {
  return DETECTION_SOURCES[source];
}

/** With evidence; the API leaves it out unless asked with `$expand=evidence`. */
export function renderAlertsApi(alert: AlertModel): Record<string, unknown> {
  return {
    id: alert.id,
    incidentId: alert.incidentId,
    investigationId: alert.investigationId,
    assignedTo: alert.assignedTo,
    severity: alert.severity,
    status: alert.status,
    classification: alert.classification,
    determination: alert.determination,
    investigationState: alert.investigationState,
    detectionSource: DETECTION_SOURCES[alert.source],
    detectorId: alert.detectorId,
    category: alert.category,
    threatFamilyName: alert.threatFamilyName,
    threatName: alert.threatName,
    title: alert.title,
    description: alert.description,
    alertCreationTime: alert.created.text,
    firstEventTime: alert.firstEvent,
    lastEventTime: alert.lastEvent,
    lastUpdateTime: alert.lastUpdate.text,
    resolvedTime: alert.resolved,
    machineId: alert.device.mdeDeviceId,
    computerDnsName: alert.device.dnsName,
    rbacGroupName: alert.device.rbacGroupName,
    aadTenantId: alert.tenantId,
    relatedUser: alert.relatedUser === null ? null : { ...alert.relatedUser },
    mitreTechniques: [...alert.mitreTechniques],
    comments: alert.comments.map((c) => ({
      comment: c.comment,
      createdBy: c.createdBy,
      createdTime: c.created,
    })),
    evidence: alert.evidence.map(renderEvidence),
  };
}

function renderEvidence(e: EvidenceModel): Record<string, unknown> {
  const out: Record<string, unknown> = {
    entityType: ENTITY_TYPES[e.kind],
    evidenceCreationTime: e.created,
    sha1: null,
    sha256: null,
    fileName: null,
    filePath: null,
    processId: null,
    processCommandLine: null,
    processCreationTime: null,
    parentProcessId: null,
    parentProcessCreationTime: null,
    parentProcessFileName: null,
    parentProcessFilePath: null,
    ipAddress: null,
    url: null,
    registryKey: null,
    registryHive: null,
    registryValueType: null,
    registryValue: null,
    accountName: null,
    domainName: null,
    userSid: null,
    aadUserId: null,
    userPrincipalName: null,
    detectionStatus: e.detectionStatus,
  };
  switch (e.kind) {
    case "file":
    case "process":
      out.sha1 = e.file.sha1;
      out.sha256 = e.file.sha256;
      out.fileName = e.file.fileName;
      out.filePath = e.file.filePath;
      if (e.kind === "process") {
        out.processId = e.processId;
        out.processCommandLine = e.commandLine;
        out.processCreationTime = e.processCreated;
        out.parentProcessId = e.parentProcessId;
        out.parentProcessCreationTime = e.parentProcessCreated;
        out.parentProcessFileName = e.parentFile.fileName;
        out.parentProcessFilePath = e.parentFile.filePath;
      }
      break;
    case "user":
      out.accountName = e.account.accountName;
      out.domainName = e.account.domainName;
      out.userSid = e.account.userSid;
      out.aadUserId = e.account.aadUserId;
      out.userPrincipalName = e.account.userPrincipalName;
      break;
    case "ip":
      out.ipAddress = e.ipAddress;
      break;
    case "url":
      out.url = e.url;
      break;
    case "registry":
      out.registryKey = e.key;
      out.registryHive = e.hive;
      out.registryValueType = e.valueType;
      out.registryValue = e.value;
      break;
  }
  return out;
}
