// The products behind Graph alerts: alerts_v2 returns the alerts of every Defender product, not only
// Defender for Endpoint's. Their serviceSource and detectionSource members (microsoft.graph.security, v1.0),
// which of them are "evolvable" (added after the `unknownFutureValue` sentinel, so Graph hides them behind
// `unknownFutureValue` unless the request says `Prefer: include-unknown-enum-members`), and a few kinds of
// alert each product raises. Titles follow the products' own alert names; plausible, not authoritative.
import type { EvidenceKind } from "./alert-model.js";

export const MDE_SERVICE = "microsoftDefenderForEndpoint";

/** serviceSource members before the sentinel. */
const SERVICE_SOURCES = [
  "unknown",
  MDE_SERVICE,
  "microsoftDefenderForIdentity",
  "microsoftDefenderForCloudApps",
  "microsoftDefenderForOffice365",
  "microsoft365Defender",
  "azureAdIdentityProtection",
  "microsoftAppGovernance",
  "dataLossPrevention",
] as const;

/** serviceSource members after the sentinel. */
export const EVOLVABLE_SERVICE_SOURCES = [
  "microsoftDefenderForCloud",
  "microsoftSentinel",
  "microsoftInsiderRiskManagement",
] as const;

export const ALL_SERVICE_SOURCES = [...SERVICE_SOURCES, ...EVOLVABLE_SERVICE_SOURCES] as const;
export type ServiceSource = (typeof ALL_SERVICE_SOURCES)[number];

/** detectionSource members after the sentinel (Defender for Cloud plans, Sentinel analytics). */
export const EVOLVABLE_DETECTION_SOURCES: ReadonlySet<string> = new Set([
  "microsoftDefenderForCloud",
  "microsoftDefenderForIoT",
  "microsoftDefenderForServers",
  "microsoftDefenderForStorage",
  "microsoftDefenderForDNS",
  "microsoftDefenderForDatabases",
  "microsoftDefenderForContainers",
  "microsoftDefenderForNetwork",
  "microsoftDefenderForAppService",
  "microsoftDefenderForKeyVault",
  "microsoftDefenderForResourceManager",
  "microsoftDefenderForApiManagement",
  "nrtAlerts",
  "scheduledAlerts",
  "microsoftDefenderThreatIntelligenceAnalytics",
  "builtInMl",
  "microsoftInsiderRiskManagement",
]);

const EVOLVABLE_SERVICES: ReadonlySet<string> = new Set(EVOLVABLE_SERVICE_SOURCES);

/** The member as Graph sends it to a client that did not ask for evolvable members. */
export function serviceSourceFor(value: string, evolvable: boolean): string {
  return !evolvable && EVOLVABLE_SERVICES.has(value) ? "unknownFutureValue" : value;
}

export function detectionSourceFor(value: string, evolvable: boolean): string {
  return !evolvable && EVOLVABLE_DETECTION_SOURCES.has(value) ? "unknownFutureValue" : value;
}

/** Graph's `productName` of an alert (a free string, not an enum). */
export const PRODUCT_NAMES: Readonly<Record<ServiceSource, string>> = {
  unknown: "Unknown",
  microsoftDefenderForEndpoint: "Microsoft Defender for Endpoint",
  microsoftDefenderForIdentity: "Microsoft Defender for Identity",
  microsoftDefenderForCloudApps: "Microsoft Defender for Cloud Apps",
  microsoftDefenderForOffice365: "Microsoft Defender for Office 365",
  microsoft365Defender: "Microsoft Defender XDR",
  azureAdIdentityProtection: "Microsoft Entra ID Protection",
  microsoftAppGovernance: "App governance",
  dataLossPrevention: "Microsoft Purview Data Loss Prevention",
  microsoftDefenderForCloud: "Microsoft Defender for Cloud",
  microsoftSentinel: "Microsoft Sentinel",
  microsoftInsiderRiskManagement: "Microsoft Purview Insider Risk Management",
};

export interface ServiceScenario {
  readonly detectionSource: string;
  readonly title: string;
  readonly category: string;
  readonly severity: "Informational" | "Low" | "Medium" | "High";
  readonly description: string;
  readonly evidence: readonly EvidenceKind[];
  /** About a machine (Defender for Cloud's server plans): the alert carries device evidence. */
  readonly onDevice: boolean;
}

/** A few alerts per product other than Defender for Endpoint (whose come from catalog.ts). */
export const SERVICE_SCENARIOS: Readonly<
  Record<Exclude<ServiceSource, typeof MDE_SERVICE>, readonly ServiceScenario[]>
> = {
  unknown: [
    {
      detectionSource: "unknown",
      title: "Suspicious activity",
      category: "SuspiciousActivity",
      severity: "Low",
      description: "A suspicious activity was reported by an integrated product.",
      evidence: ["user"],
      onDevice: false,
    },
  ],
  microsoftDefenderForIdentity: [
    {
      detectionSource: "microsoftDefenderForIdentity",
      title: "Suspected DCSync attack (replication of directory services)",
      category: "CredentialAccess",
      severity: "High",
      description:
        "A replication request was sent to a domain controller from a computer that is not a domain controller.",
      evidence: ["user", "ip"],
      onDevice: false,
    },
    {
      detectionSource: "microsoftDefenderForIdentity",
      title: "Suspected Brute Force attack (Kerberos, NTLM)",
      category: "CredentialAccess",
      severity: "Medium",
      description: "Many authentication failures occurred using Kerberos or NTLM from one source.",
      evidence: ["user", "ip"],
      onDevice: false,
    },
  ],
  microsoftDefenderForCloudApps: [
    {
      detectionSource: "cloudAppSecurity",
      title: "Impossible travel activity",
      category: "InitialAccess",
      severity: "Medium",
      description:
        "The same user signed in from two countries within a time shorter than the travel between them.",
      evidence: ["user", "ip"],
      onDevice: false,
    },
  ],
  microsoftDefenderForOffice365: [
    {
      detectionSource: "microsoftDefenderForOffice365",
      title: "Email messages containing malicious URL removed after delivery",
      category: "InitialAccess",
      severity: "Informational",
      description:
        "Emails with a URL that was later found malicious were delivered and then removed from mailboxes.",
      evidence: ["user", "url"],
      onDevice: false,
    },
    {
      detectionSource: "microsoftDefenderForOffice365",
      title: "A potentially malicious URL click was detected",
      category: "InitialAccess",
      severity: "High",
      description: "A user clicked a link in an email that was later found malicious.",
      evidence: ["user", "url"],
      onDevice: false,
    },
  ],
  microsoft365Defender: [
    {
      detectionSource: "microsoft365Defender",
      title: "Suspicious sequence of exploration activities",
      category: "Discovery",
      severity: "Medium",
      description: "A sequence of reconnaissance activities across identities and devices was observed.",
      evidence: ["user", "ip"],
      onDevice: false,
    },
  ],
  azureAdIdentityProtection: [
    {
      detectionSource: "azureAdIdentityProtection",
      title: "Unfamiliar sign-in properties",
      category: "InitialAccess",
      severity: "Medium",
      description: "A sign-in had properties not seen recently for this user.",
      evidence: ["user", "ip"],
      onDevice: false,
    },
  ],
  microsoftAppGovernance: [
    {
      detectionSource: "appGovernanceDetection",
      title: "App with suspicious OAuth scope made graph calls to read email",
      category: "Collection",
      severity: "Medium",
      description: "An OAuth app with sensitive permissions read many mailboxes.",
      evidence: ["user", "url"],
      onDevice: false,
    },
  ],
  dataLossPrevention: [
    {
      detectionSource: "microsoftDataLossPrevention",
      title: "DLP policy match for a document shared externally",
      category: "Exfiltration",
      severity: "Low",
      description:
        "A document holding sensitive information was shared with a person outside the organization.",
      evidence: ["user", "url"],
      onDevice: false,
    },
  ],
  microsoftDefenderForCloud: [
    {
      detectionSource: "microsoftDefenderForServers",
      title: "Digital currency mining related behavior detected",
      category: "Execution",
      severity: "High",
      description:
        "Analysis of host data detected the execution of a process associated with digital currency mining.",
      evidence: ["process", "ip"],
      onDevice: true,
    },
    {
      detectionSource: "microsoftDefenderForStorage",
      title: "Access from a suspicious IP address to a storage account",
      category: "InitialAccess",
      severity: "Medium",
      description: "A storage account was accessed from an IP address known to be malicious.",
      evidence: ["ip", "url"],
      onDevice: false,
    },
  ],
  microsoftSentinel: [
    {
      detectionSource: "scheduledAlerts",
      title: "Multiple failed sign-ins followed by a success",
      category: "CredentialAccess",
      severity: "Medium",
      description:
        "An analytics rule found many failed sign-ins to one account followed by a successful one.",
      evidence: ["user", "ip"],
      onDevice: false,
    },
  ],
  microsoftInsiderRiskManagement: [
    {
      detectionSource: "microsoftInsiderRiskManagement",
      title: "Data theft by departing user",
      category: "Exfiltration",
      severity: "Medium",
      description: "A user about to leave the organization downloaded an unusual amount of files.",
      evidence: ["user"],
      onDevice: false,
    },
  ],
};

/** Products the generator draws from for `serviceMix` (every product but Defender for Endpoint and unknown). */
export const OTHER_SERVICES = ALL_SERVICE_SOURCES.filter(
  (s): s is Exclude<ServiceSource, typeof MDE_SERVICE | "unknown"> => s !== MDE_SERVICE && s !== "unknown",
);
