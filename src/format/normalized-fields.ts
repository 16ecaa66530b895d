// The keys of a normalized alert (an Alerts API or Graph alert in the SIEM API schema), in message order.
// A contract: SIEM content keys on them (CEF `MicrosoftDefender<Key>`, LEEF `<Key>`) and mapping overrides
// name them. No imports: the mapping and the normalizers both read it.

/** The SIEM API fields a normalized alert can fill, in the SIEM API's own order. */
export const SIEM_FIELDS = [
  "AlertTime",
  "ComputerDnsName",
  "AlertTitle",
  "Category",
  "Severity",
  "AlertId",
  "Actor",
  "LinkToWDATP",
  "Sha1",
  "FileName",
  "FilePath",
  "IpAddress",
  "Url",
  "IoaDefinitionId",
  "UserName",
  "FullId",
  "LastProcessedTimeUtc",
  "ThreatFamily",
  "ThreatName",
  "RemediationAction",
  "RemediationIsSuccess",
  "Source",
  "Md5",
  "Sha256",
  "WasExecutingWhileDetected",
  "UserDomain",
  "LogOnUsers",
  "MachineDomain",
  "MachineName",
  "DeviceID",
  "MachineGroup",
  "Description",
  "CommandLine",
  "LinkToMTP",
  "IncidentLinkToMTP",
] as const;

/**
 * What the SIEM schema lacks. To fit max_message_bytes these are cut before any SIEM field (the longest
 * first): SIEM content built for the SIEM API keeps its values. Evidence last: it is the longest.
 */
export const ALERT_EXTRA_FIELDS = [
  "ProviderAlertId",
  "IncidentId",
  "InvestigationId",
  "InvestigationState",
  "Status",
  "Classification",
  "Determination",
  "AssignedTo",
  "ServiceSource",
  "MitreTechniques",
  "FirstActivityTime",
  "LastActivityTime",
  "ResolvedTime",
  "LastUpdateTime",
  "TenantId",
  "MachineTags",
  "EvidenceIndex",
  "EvidenceCount",
  "Evidence",
] as const;

export const NORMALIZED_FIELDS = [...SIEM_FIELDS, ...ALERT_EXTRA_FIELDS] as const;

export type NormalizedField = (typeof NORMALIZED_FIELDS)[number];

/**
 * The keys of a normalized incident (a Graph incident as one event), in message order. A contract like
 * the alert keys: CEF sends IncidentName as the Name, IncidentId as externalId, CreatedTime as start,
 * LastUpdateTime as rt, FullId as cs3 and Description as msg, the rest as `MicrosoftDefender<Key>`; LEEF
 * sends LastUpdateTime as devTime, Severity as sev and every other key under its own name.
 */
export const INCIDENT_FIELDS = [
  "IncidentName",
  "Severity",
  "IncidentId",
  "Status",
  "Classification",
  "Determination",
  "AssignedTo",
  "AlertCount",
  "AlertIds",
  "IncidentLinkToMTP",
  "CreatedTime",
  "LastUpdateTime",
  "FullId",
  "Tags",
  "SystemTags",
  "Description",
  "RedirectIncidentId",
  "ServiceSources",
  "DetectionSources",
  "Categories",
  "TenantId",
] as const;

export type IncidentField = (typeof INCIDENT_FIELDS)[number];
