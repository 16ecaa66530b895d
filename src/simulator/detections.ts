// Generates detections with exactly the field set and value shapes of the response example on
// Microsoft's "Pull detections using SIEM REST API" page: every key present, "" for absent strings,
// null for unknown booleans, numbers for AlertPart/ReportID. Deterministic from the seed.
import { formatTimestamp, TICKS_PER_SECOND, type Ticks } from "../timestamp.js";
import {
  CLOUD_TAGS,
  DEVICE_TAGS,
  DOMAINS,
  fileSample,
  machineName,
  SCENARIOS,
  type Scenario,
  type Severity,
  USERS,
} from "./catalog.js";
import { createRandom, type Random } from "./random.js";

/** Every key of the Microsoft response example, in its order. */
export const DETECTION_KEYS = [
  "AlertTime",
  "ComputerDnsName",
  "AlertTitle",
  "Category",
  "Severity",
  "AlertId",
  "Actor",
  "LinkToWDATP",
  "IocName",
  "IocValue",
  "CreatorIocName",
  "CreatorIocValue",
  "Sha1",
  "FileName",
  "FilePath",
  "IpAddress",
  "Url",
  "IoaDefinitionId",
  "UserName",
  "AlertPart",
  "FullId",
  "LastProcessedTimeUtc",
  "ThreatCategory",
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
  "InternalIPv4List",
  "InternalIPv6List",
  "FileHash",
  "DeviceID",
  "MachineGroup",
  "Description",
  "DeviceCreatedMachineTags",
  "CloudCreatedMachineTags",
  "CommandLine",
  "IncidentLinkToWDATP",
  "ReportID",
  "LinkToMTP",
  "IncidentLinkToMTP",
  "ExternalId",
  "IocUniqueId",
] as const;

/** .NET DateTime ticks at the Unix epoch: the 18 digits of an AlertId are .NET ticks. */
const DOTNET_EPOCH_TICKS = 621_355_968_000_000_000n;

export interface GeneratorOptions {
  seed: number;
  /** The tenant's device groups; MachineGroup is "" when there are none. */
  machineGroups?: readonly string[];
}

export interface DetectionGenerator {
  /** One detection per time (ascending order expected), grouped into alerts of 1-4 detections. */
  generate(times: readonly Ticks[]): Record<string, unknown>[];
  /** One detection; with `alertId` it joins that alert instead of starting a new one. */
  single(lastProcessed: Ticks, alertId?: string): Record<string, unknown>;
  /** n ascending times in [from, to]; all equal to `to` when `sameTime`. */
  spread(n: number, from: Ticks, to: Ticks, sameTime?: boolean): Ticks[];
}

interface Machine {
  name: string;
  domain: string;
  netbios: string;
  dnsName: string;
  deviceId: string;
  ipv4: string;
  ipv6: string;
  group: string;
  deviceTags: string;
  cloudTags: string;
  users: string[];
}

interface AlertContext {
  id: string;
  alertTime: string;
  scenario: Scenario;
  severity: Severity;
  machine: Machine;
  user: string;
}

export function createDetectionGenerator(options: GeneratorOptions): DetectionGenerator {
  const rng = createRandom(options.seed);
  const domain = rng.pick(DOMAINS);
  const fleet = Array.from({ length: 12 }, (_, i) =>
    createMachine(rng, domain, options.machineGroups ?? [], i),
  );

  function newAlert(firstProcessed: Ticks, id?: string): AlertContext {
    // The alert happens seconds to minutes before the backend processes its detections.
    const lag = BigInt(rng.int(2, 900)) * TICKS_PER_SECOND + BigInt(rng.int(0, 9_999_999));
    let alertTicks = firstProcessed - lag;
    // Some sources stamp with coarser clocks; their trailing zeros get trimmed (`14:09:20.35743Z`).
    if (rng.chance(0.3)) alertTicks -= alertTicks % 100n;
    const scenario = rng.pick(SCENARIOS);
    const machine = rng.pick(fleet);
    return {
      id: id ?? `da${alertTicks + DOTNET_EPOCH_TICKS}_${rng.int(10_000_000, 2_147_483_647)}`,
      alertTime: trimFraction(formatTimestamp(alertTicks)),
      scenario,
      severity: rng.pick(scenario.severities),
      machine,
      user: rng.pick(machine.users),
    };
  }

  function detection(alert: AlertContext, lastProcessed: Ticks): Record<string, unknown> {
    const { scenario, machine } = alert;
    const ev = scenario.evidence(rng, fileSample(rng), alert.user);
    const iocUniqueId = rng.bytes(32).toString("base64");
    const withUser = scenario.withUser;
    const d: Record<(typeof DETECTION_KEYS)[number], unknown> = {
      AlertTime: alert.alertTime,
      ComputerDnsName: machine.dnsName,
      AlertTitle: scenario.title,
      Category: scenario.category,
      Severity: alert.severity,
      AlertId: alert.id,
      Actor: scenario.actor,
      LinkToWDATP: `https://securitycenter.windows.com/alert/${alert.id}`,
      IocName: ev.IocName ?? "",
      IocValue: ev.IocValue ?? "",
      CreatorIocName: ev.CreatorIocName ?? "",
      CreatorIocValue: ev.CreatorIocValue ?? "",
      Sha1: ev.Sha1 ?? "",
      FileName: ev.FileName ?? "",
      FilePath: ev.FilePath ?? "",
      IpAddress: ev.IpAddress ?? "",
      Url: ev.Url ?? "",
      IoaDefinitionId: scenario.ioaDefinitionId,
      UserName: withUser ? alert.user : "",
      // Microsoft calls AlertPart obsolete; every published sample has 0.
      AlertPart: 0,
      FullId: `${alert.id}:${iocUniqueId}`,
      LastProcessedTimeUtc: formatTimestamp(lastProcessed),
      ThreatCategory: ev.ThreatCategory ?? "",
      ThreatFamily: ev.ThreatFamily ?? "",
      ThreatName: ev.ThreatName ?? "",
      RemediationAction: ev.RemediationAction ?? "",
      RemediationIsSuccess: ev.RemediationIsSuccess ?? null,
      Source: scenario.source,
      Md5: ev.Md5 ?? "",
      Sha256: ev.Sha256 ?? "",
      WasExecutingWhileDetected: ev.WasExecutingWhileDetected ?? null,
      UserDomain: withUser ? machine.netbios : "",
      LogOnUsers: machine.users.map((u) => `${machine.netbios.toLowerCase()}\\${u}`).join("; "),
      MachineDomain: machine.domain,
      MachineName: machine.name,
      InternalIPv4List: machine.ipv4,
      InternalIPv6List: machine.ipv6,
      FileHash: ev.Sha1 ?? "",
      DeviceID: machine.deviceId,
      MachineGroup: machine.group,
      Description: scenario.description,
      DeviceCreatedMachineTags: machine.deviceTags,
      CloudCreatedMachineTags: machine.cloudTags,
      CommandLine: ev.CommandLine ?? "",
      IncidentLinkToWDATP: `https://securitycenter.windows.com/incidents/byalert?alertId=${alert.id}&source=SIEM`,
      ReportID: rng.int(100_000_000, 2_147_483_647),
      LinkToMTP: `https://security.microsoft.com/alert/${alert.id}`,
      IncidentLinkToMTP: `https://security.microsoft.com/incidents/byalert?alertId=${alert.id}&source=SIEM`,
      ExternalId: rng.hex(40).toUpperCase(),
      IocUniqueId: iocUniqueId,
    };
    return d;
  }

  return {
    generate(times) {
      const out: Record<string, unknown>[] = [];
      let i = 0;
      while (i < times.length) {
        // Most alerts have one detection; some have several (the portal merges them, the API does not).
        const size = Math.min(times.length - i, rng.pick([1, 1, 1, 1, 2, 2, 3, 4]));
        const first = times[i] ?? 0n;
        const alert = newAlert(first);
        for (let k = 0; k < size; k++) out.push(detection(alert, times[i + k] ?? first));
        i += size;
      }
      return out;
    },
    single(lastProcessed, alertId) {
      return detection(newAlert(lastProcessed, alertId), lastProcessed);
    },
    spread(n, from, to, sameTime = false) {
      if (sameTime) return Array.from({ length: n }, () => to);
      const span = Number(to - from);
      const times: Ticks[] = [];
      for (let i = 0; i < n; i++) {
        // Two draws give sub-tick resolution over spans of hours (one draw has only 32 bits).
        const u = rng.next() + rng.next() / 4_294_967_296;
        const offset = BigInt(Math.min(span, Math.floor(u * (span + 1))));
        times.push(from + offset);
      }
      return times.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    },
  };
}

function createMachine(rng: Random, domain: string, groups: readonly string[], index: number): Machine {
  const name = machineName(rng);
  // About one device in four is Azure AD joined: no AD domain, and the DNS name is the bare host name.
  const aadJoined = rng.chance(0.25);
  const netbios = (domain.split(".")[0] ?? domain).toUpperCase();
  const users = Array.from({ length: rng.int(1, 2) }, () => rng.pick(USERS));
  const ipv4 = [`10.${rng.int(0, 40)}.${rng.int(0, 255)}.${rng.int(2, 250)}`];
  if (rng.chance(0.4)) ipv4.push(`192.168.${rng.int(0, 20)}.${rng.int(2, 250)}`);
  return {
    name,
    domain: aadJoined ? "" : domain,
    netbios: aadJoined ? "AzureAD" : netbios,
    dnsName: aadJoined ? name : `${name}.${domain}`,
    deviceId: rng.hex(40),
    ipv4: ipv4.join(", "),
    ipv6: `fe80::${rng.hex(4)}:${rng.hex(4)}:${rng.hex(4)}:${rng.hex(4)}`,
    // Round-robin, so that every configured group has devices.
    group: groups.length === 0 ? "" : (groups[index % groups.length] ?? ""),
    deviceTags: rng.pick(DEVICE_TAGS),
    cloudTags: rng.pick(CLOUD_TAGS),
    users: [...new Set(users)],
  };
}

/** .NET's `FFFFFFF` format: trailing fraction zeros (and a bare dot) are dropped. */
function trimFraction(timestamp: string): string {
  return timestamp.replace(/0+Z$/, "Z").replace(/\.Z$/, "Z");
}
