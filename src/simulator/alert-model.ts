// One alert, independent of the API that serves it. The Alerts API (PascalCase enums, flat evidence
// with entityType) and Graph alerts_v2 (camelCase enums, typed evidence with @odata.type) are two
// renderings of this model, so the same alert always says the same thing in both.
import type { Ticks } from "../timestamp.js";

export type AlertStatus = "New" | "InProgress" | "Resolved";
export type AlertSeverity = "UnSpecified" | "Informational" | "Low" | "Medium" | "High";
export type AlertClassification = "TruePositive" | "InformationalExpectedActivity" | "FalsePositive";
export type AlertDetermination =
  | "Apt"
  | "Malware"
  | "SecurityPersonnel"
  | "SecurityTesting"
  | "UnwantedSoftware"
  | "Other"
  | "MultiStagedAttack"
  | "CompromisedAccount"
  | "Phishing"
  | "MaliciousUserActivity"
  | "NotMalicious"
  | "NotEnoughDataToValidate"
  | "ConfirmedUserActivity"
  | "LineOfBusinessApplication";
export type EvidenceKind = "file" | "process" | "user" | "ip" | "url" | "registry";
/** The catalog's detection sources; each API names them its own way. */
export type AlertSource = "Antivirus" | "EDR" | "CustomTI" | "SmartScreen";

export const ALERT_STATUSES: readonly AlertStatus[] = ["New", "InProgress", "Resolved"];
export const ALERT_SEVERITIES: readonly AlertSeverity[] = [
  "UnSpecified",
  "Informational",
  "Low",
  "Medium",
  "High",
];
export const ALERT_CLASSIFICATIONS: readonly AlertClassification[] = [
  "TruePositive",
  "InformationalExpectedActivity",
  "FalsePositive",
];
export const ALERT_DETERMINATIONS: readonly AlertDetermination[] = [
  "Apt",
  "Malware",
  "SecurityPersonnel",
  "SecurityTesting",
  "UnwantedSoftware",
  "Other",
  "MultiStagedAttack",
  "CompromisedAccount",
  "Phishing",
  "MaliciousUserActivity",
  "NotMalicious",
  "NotEnoughDataToValidate",
  "ConfirmedUserActivity",
  "LineOfBusinessApplication",
];
export const EVIDENCE_KINDS: readonly EvidenceKind[] = ["file", "process", "user", "ip", "url", "registry"];

/** A time as served (`text`, any number of fraction digits) and as compared (`ticks`). */
export interface Stamp {
  readonly ticks: Ticks;
  readonly text: string;
}

export interface UserAccount {
  readonly accountName: string;
  readonly domainName: string;
  readonly userSid: string;
  readonly aadUserId: string | null;
  readonly userPrincipalName: string | null;
  readonly displayName: string | null;
}

export interface FileDetails {
  readonly sha1: string | null;
  readonly sha256: string | null;
  readonly fileName: string;
  readonly filePath: string;
  readonly fileSize: number | null;
  readonly filePublisher: string | null;
}

export interface DeviceModel {
  readonly mdeDeviceId: string;
  readonly dnsName: string;
  readonly aadDeviceId: string | null;
  readonly osPlatform: string;
  readonly osBuild: number;
  readonly version: string;
  readonly rbacGroupId: number;
  /** null when the tenant has no device groups. */
  readonly rbacGroupName: string | null;
  readonly ipInterfaces: readonly string[];
  readonly loggedOnUsers: readonly { accountName: string; domainName: string }[];
  readonly tags: readonly string[];
  readonly firstSeen: string;
  readonly riskScore: "none" | "low" | "medium" | "high";
}

interface EvidenceBase {
  readonly created: string;
  readonly verdict: "unknown" | "suspicious" | "malicious";
  readonly remediationStatus: "none" | "remediated" | "prevented" | "blocked";
  /** Detected / Blocked / Prevented, for files and processes; null otherwise. */
  readonly detectionStatus: "Detected" | "Blocked" | "Prevented" | null;
}

export type EvidenceModel = EvidenceBase &
  (
    | { readonly kind: "file"; readonly file: FileDetails }
    | {
        readonly kind: "process";
        readonly file: FileDetails;
        readonly processId: number;
        readonly commandLine: string;
        readonly processCreated: string;
        readonly parentProcessId: number;
        readonly parentProcessCreated: string;
        readonly parentFile: { readonly fileName: string; readonly filePath: string };
        readonly account: UserAccount;
      }
    | { readonly kind: "user"; readonly account: UserAccount }
    | { readonly kind: "ip"; readonly ipAddress: string; readonly countryLetterCode: string | null }
    | { readonly kind: "url"; readonly url: string }
    | {
        readonly kind: "registry";
        readonly hive: string;
        readonly key: string;
        readonly valueName: string | null;
        readonly valueType: string | null;
        readonly value: string | null;
      }
  );

export interface AlertComment {
  readonly comment: string;
  readonly createdBy: string;
  readonly created: string;
}

export interface AlertModel {
  readonly tenantId: string;
  readonly id: string;
  readonly incidentId: number;
  readonly investigationId: number | null;
  readonly investigationState: string;
  readonly assignedTo: string | null;
  readonly severity: AlertSeverity;
  readonly status: AlertStatus;
  readonly classification: AlertClassification | null;
  readonly determination: AlertDetermination | null;
  /** The catalog's source of a Defender for Endpoint alert (the Alerts API's detectionSource). */
  readonly source: AlertSource;
  /** Graph's serviceSource: the product that raised the alert (see services.ts). */
  readonly serviceSource: string;
  /** Graph's detectionSource. */
  readonly detectionSource: string;
  /** Whether the alert is about a device (Defender for Endpoint's always; a mail or sign-in alert is not). */
  readonly onDevice: boolean;
  readonly detectorId: string;
  readonly category: string;
  readonly title: string;
  readonly description: string;
  readonly recommendedActions: string;
  readonly threatFamilyName: string | null;
  readonly threatName: string | null;
  readonly actorName: string | null;
  readonly created: Stamp;
  readonly firstEvent: string;
  readonly lastEvent: string;
  /** lastUpdateTime / lastUpdateDateTime: the cursor field of both APIs. */
  readonly lastUpdate: Stamp;
  readonly resolved: string | null;
  readonly device: DeviceModel;
  readonly relatedUser: { readonly userName: string; readonly domainName: string } | null;
  readonly mitreTechniques: readonly string[];
  readonly comments: readonly AlertComment[];
  readonly evidence: readonly EvidenceModel[];
}
