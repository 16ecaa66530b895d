// An alert as Microsoft Graph `security/alerts_v2` serves it: the key order of Graph's example,
// camelCase enums, string incident ids, and evidence typed by `@odata.type`, led by the device.
import type {
  AlertClassification,
  AlertDetermination,
  AlertModel,
  AlertSeverity,
  AlertSource,
  AlertStatus,
  EvidenceModel,
  UserAccount,
} from "./alert-model.js";
import { detectionSourceFor, PRODUCT_NAMES, type ServiceSource, serviceSourceFor } from "./services.js";

const DETECTION_SOURCES: Readonly<Record<AlertSource, string>> = {
  Antivirus: "antivirus",
  EDR: "microsoftDefenderForEndpoint",
  CustomTI: "customTi",
  SmartScreen: "smartScreen",
};

/** Graph's detectionSource of a Defender for Endpoint alert from the catalog. */
export function graphDetectionSource(source: AlertSource): string {
  return DETECTION_SOURCES[source];
}

export interface GraphRendering {
  /** The request said `Prefer: include-unknown-enum-members`: evolvable members as they are. */
  readonly evolvable: boolean;
}

const PORTAL = "https://security.microsoft.com";

export function graphStatus(status: AlertStatus): string {
  return camel(status);
}

export function graphSeverity(severity: AlertSeverity): string {
  return severity === "UnSpecified" ? "unknown" : camel(severity);
}

export function graphClassification(value: AlertClassification | null): string {
  return value === null ? "unknown" : camel(value);
}

export function graphDetermination(value: AlertDetermination | null): string {
  return value === null ? "unknown" : camel(value);
}

export function renderGraph(alert: AlertModel, how: GraphRendering): Record<string, unknown> {
  const tid = alert.tenantId;
  return {
    "@odata.type": "#microsoft.graph.security.alert",
    id: alert.id,
    providerAlertId: alert.id,
    incidentId: String(alert.incidentId),
    status: graphStatus(alert.status),
    severity: graphSeverity(alert.severity),
    classification: graphClassification(alert.classification),
    determination: graphDetermination(alert.determination),
    serviceSource: serviceSourceFor(alert.serviceSource, how.evolvable),
    detectionSource: detectionSourceFor(alert.detectionSource, how.evolvable),
    productName: PRODUCT_NAMES[alert.serviceSource as ServiceSource] ?? "Unknown",
    detectorId: alert.detectorId,
    tenantId: tid,
    title: alert.title,
    description: alert.description,
    recommendedActions: alert.recommendedActions,
    category: alert.category,
    assignedTo: alert.assignedTo,
    alertWebUrl: `${PORTAL}/alerts/${alert.id}?tid=${tid}`,
    incidentWebUrl: `${PORTAL}/incidents/${alert.incidentId}?tid=${tid}`,
    actorDisplayName: alert.actorName,
    threatDisplayName: alert.threatName,
    threatFamilyName: alert.threatFamilyName,
    mitreTechniques: [...alert.mitreTechniques],
    createdDateTime: alert.created.text,
    lastUpdateDateTime: alert.lastUpdate.text,
    resolvedDateTime: alert.resolved,
    firstActivityDateTime: alert.firstEvent,
    lastActivityDateTime: alert.lastEvent,
    comments: alert.comments.map((c) => ({
      comment: c.comment,
      createdByDisplayName: c.createdBy,
      createdDateTime: c.created,
    })),
    evidence: [
      ...(alert.onDevice ? [deviceEvidence(alert)] : []),
      ...alert.evidence.map((e) => renderEvidence(e, alert)),
    ],
    systemTags: [],
  };
}

function deviceEvidence(alert: AlertModel): Record<string, unknown> {
  const d = alert.device;
  return {
    "@odata.type": "#microsoft.graph.security.deviceEvidence",
    createdDateTime: alert.created.text,
    verdict: "unknown",
    remediationStatus: "none",
    remediationStatusDetails: null,
    firstSeenDateTime: d.firstSeen,
    mdeDeviceId: d.mdeDeviceId,
    azureAdDeviceId: d.aadDeviceId,
    deviceDnsName: d.dnsName,
    osPlatform: d.osPlatform,
    osBuild: d.osBuild,
    version: d.version,
    healthStatus: "active",
    riskScore: d.riskScore,
    rbacGroupId: d.rbacGroupId,
    rbacGroupName: d.rbacGroupName ?? "UnassignedGroup",
    onboardingStatus: "onboarded",
    defenderAvStatus: "updated",
    ipInterfaces: [...d.ipInterfaces],
    loggedOnUsers: d.loggedOnUsers.map((u) => ({ ...u })),
    roles: ["compromised"],
    detailedRoles: ["Main device"],
    tags: [...d.tags],
  };
}

function renderEvidence(e: EvidenceModel, alert: AlertModel): Record<string, unknown> {
  const head = (type: string): Record<string, unknown> => ({
    "@odata.type": `#microsoft.graph.security.${type}`,
    createdDateTime: e.created,
    verdict: e.verdict,
    remediationStatus: e.remediationStatus,
    remediationStatusDetails: null,
  });
  const tail = { roles: [], detailedRoles: [], tags: [] };
  const detectionStatus = e.detectionStatus === null ? null : camel(e.detectionStatus);
  const mdeDeviceId = alert.onDevice ? alert.device.mdeDeviceId : null;
  switch (e.kind) {
    case "file":
      return {
        ...head("fileEvidence"),
        detectionStatus,
        mdeDeviceId,
        ...tail,
        fileDetails: fileDetails(e.file),
      };
    case "process":
      return {
        ...head("processEvidence"),
        processId: e.processId,
        parentProcessId: e.parentProcessId,
        processCommandLine: e.commandLine,
        processCreationDateTime: e.processCreated,
        parentProcessCreationDateTime: e.parentProcessCreated,
        detectionStatus,
        mdeDeviceId,
        ...tail,
        imageFile: fileDetails(e.file),
        parentProcessImageFile: fileDetails({
          ...e.parentFile,
          sha1: null,
          sha256: null,
          fileSize: null,
          filePublisher: "Microsoft Corporation",
        }),
        userAccount: userAccount(e.account),
      };
    case "user":
      return { ...head("userEvidence"), ...tail, userAccount: userAccount(e.account) };
    case "ip":
      return {
        ...head("ipEvidence"),
        ipAddress: e.ipAddress,
        countryLetterCode: e.countryLetterCode,
        ...tail,
      };
    case "url":
      return { ...head("urlEvidence"), url: e.url, ...tail };
    case "registry":
      return e.valueName === null
        ? { ...head("registryKeyEvidence"), registryKey: e.key, registryHive: e.hive, ...tail }
        : {
            ...head("registryValueEvidence"),
            mdeDeviceId,
            registryKey: e.key,
            registryHive: e.hive,
            registryValue: e.value,
            registryValueName: e.valueName,
            registryValueType: e.valueType,
            ...tail,
          };
  }
}

function fileDetails(f: {
  sha1: string | null;
  sha256: string | null;
  fileName: string;
  filePath: string;
  fileSize: number | null;
  filePublisher: string | null;
}): Record<string, unknown> {
  return {
    sha1: f.sha1,
    sha256: f.sha256,
    fileName: f.fileName,
    filePath: f.filePath,
    fileSize: f.fileSize,
    filePublisher: f.filePublisher,
    signer: null,
    issuer: null,
  };
}

function userAccount(a: UserAccount): Record<string, unknown> {
  return {
    accountName: a.accountName,
    domainName: a.domainName,
    userSid: a.userSid,
    azureAdUserId: a.aadUserId,
    userPrincipalName: a.userPrincipalName,
    displayName: a.displayName,
  };
}

/** Graph spells the Alerts API's PascalCase members in camelCase (InProgress → inProgress). */
function camel(value: string): string {
  return value.charAt(0).toLowerCase() + value.slice(1);
}
