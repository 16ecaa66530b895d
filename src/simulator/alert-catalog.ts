// What an alert has beyond its detections: ATT&CK techniques, recommended actions, the investigation
// and triage vocabulary, device facts. Plausible values in the shapes of Microsoft's samples, not an
// authoritative list.
import type { AlertClassification, AlertDetermination, AlertSource } from "./alert-model.js";

/** By alert category; antivirus malware alerts usually carry no technique. */
export const MITRE_BY_CATEGORY: Readonly<Record<string, readonly string[]>> = {
  Malware: [],
  UnwantedSoftware: [],
  Ransomware: ["T1486", "T1490"],
  CommandAndControl: ["T1071.001", "T1105"],
  Execution: ["T1059.001", "T1027"],
  CredentialAccess: ["T1003.001"],
  LateralMovement: ["T1021.002", "T1569.002"],
  Persistence: ["T1547.001", "T1112"],
  Discovery: ["T1087.002", "T1069.002"],
  InitialAccess: ["T1566.002", "T1204.001"],
  SuspiciousActivity: [],
  DefenseEvasion: ["T1564.001"],
};

export const RECOMMENDED_ACTIONS: Readonly<Record<AlertSource, string>> = {
  Antivirus:
    "Check the remediation status of the file. Run a full antivirus scan and review the device timeline for related activity.",
  EDR: "Collect artifacts and determine scope. Review the device timeline for suspicious activity before and after the alert, and look for the same artifacts on other devices.",
  CustomTI:
    "Verify why the indicator matched and whether the file is expected in your organization. Update the indicator if it is no longer relevant.",
  SmartScreen:
    "Contact the user to confirm what they intended to open. Block the URL at the perimeter if it is malicious.",
};

export const INVESTIGATION_STATES = [
  "Running",
  "PendingApproval",
  "SuccessfullyRemediated",
  "PartiallyRemediated",
  "Benign",
  "TerminatedBySystem",
  "PartiallyInvestigated",
] as const;

/** Determinations that go with each classification, as the portal offers them. */
export const DETERMINATIONS: Readonly<Record<AlertClassification, readonly AlertDetermination[]>> = {
  TruePositive: ["MultiStagedAttack", "Malware", "UnwantedSoftware", "CompromisedAccount", "Phishing"],
  InformationalExpectedActivity: ["SecurityTesting", "LineOfBusinessApplication", "ConfirmedUserActivity"],
  FalsePositive: ["NotMalicious", "NotEnoughDataToValidate", "Other"],
};

export const ANALYSTS = ["soc.analyst", "ana.silva", "mo.chen", "kim.larsen"] as const;

export const PARENT_PROCESSES = [
  { fileName: "explorer.exe", filePath: "C:\\Windows" },
  { fileName: "cmd.exe", filePath: "C:\\Windows\\System32" },
  { fileName: "services.exe", filePath: "C:\\Windows\\System32" },
  { fileName: "wmiprvse.exe", filePath: "C:\\Windows\\System32\\wbem" },
  { fileName: "WINWORD.EXE", filePath: "C:\\Program Files\\Microsoft Office\\root\\Office16" },
] as const;

export const WORKSTATION_OS = [
  { osPlatform: "Windows10", osBuild: 19045, version: "22H2" },
  { osPlatform: "Windows11", osBuild: 22631, version: "23H2" },
] as const;

export const SERVER_OS = [
  { osPlatform: "WindowsServer2019", osBuild: 17763, version: "1809" },
  { osPlatform: "WindowsServer2022", osBuild: 20348, version: "21H2" },
] as const;

export const COUNTRY_CODES = ["US", "NL", "RU", "CN", "BR", "DE", "SG", null] as const;

export const RUN_KEYS = [
  { hive: "HKEY_CURRENT_USER", key: "SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run" },
  { hive: "HKEY_LOCAL_MACHINE", key: "SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run" },
  { hive: "HKEY_LOCAL_MACHINE", key: "SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\RunOnce" },
] as const;

export const COMMENTS = [
  "Looking into this.",
  "Device isolated pending investigation.",
  "Confirmed with the user; escalating to incident response.",
  "Known admin tooling, see change ticket.",
  "File submitted for deep analysis.",
] as const;
