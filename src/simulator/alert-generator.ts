// Generates alerts (the Alerts API / Graph alerts_v2 kind) from the detection catalog, and applies
// updates to them. Deterministic from the seed: one generator per tenant, so a tenant's alerts do not
// depend on what happens to the others.
import { formatTimestamp, parseTimestamp, TICKS_PER_SECOND, type Ticks } from "../timestamp.js";
import {
  ANALYSTS,
  COMMENTS,
  COUNTRY_CODES,
  DETERMINATIONS,
  INVESTIGATION_STATES,
  MITRE_BY_CATEGORY,
  PARENT_PROCESSES,
  RECOMMENDED_ACTIONS,
  RUN_KEYS,
  SERVER_OS,
  WORKSTATION_OS,
} from "./alert-catalog.js";
import {
  ALERT_CLASSIFICATIONS,
  type AlertModel,
  type AlertSource,
  type DeviceModel,
  type EvidenceKind,
  type EvidenceModel,
  type FileDetails,
  type Stamp,
  type UserAccount,
} from "./alert-model.js";
import {
  CLOUD_TAGS,
  DEVICE_TAGS,
  DOMAINS,
  dropDir,
  type Evidence,
  fileSample,
  MALICIOUS_DOMAINS,
  machineName,
  publicIp,
  SCENARIOS,
  type Scenario,
  SYSTEM32,
  USERS,
} from "./catalog.js";
import { createRandom, hashString, type Random } from "./random.js";
import { graphDetectionSource } from "./render-graph.js";
import { MDE_SERVICE, OTHER_SERVICES, SERVICE_SCENARIOS, type ServiceScenario } from "./services.js";
import type { AlertChange, AlertInput } from "./types.js";

/** .NET DateTime ticks at the Unix epoch: alert ids start with .NET ticks, as the real ones do. */
const DOTNET_EPOCH_TICKS = 621_355_968_000_000_000n;
/** Fraction digits of lastUpdateTime: mostly 7, sometimes fewer (`…:59.2Z` in Microsoft's docs). */
const PRECISIONS = [7, 7, 7, 7, 6, 5, 4, 3, 2, 1] as const;
const FIRST_SEEN_BASE_MS = Date.UTC(2023, 0, 1);

export interface AlertGeneratorOptions {
  seed: number;
  tenantId: string;
  machineGroups?: readonly string[];
  /** Share (0-1) of generated alerts from products other than Defender for Endpoint; default 0. */
  serviceMix?: number;
}

export interface AlertGenerator {
  /** A new alert; its lastUpdateTime is `lastUpdate` shown at a random precision, unless the input sets it. */
  create(lastUpdate: Ticks, input?: AlertInput): AlertModel;
  /** The alert after `change` at `now`; an empty change is a random, plausible one. */
  apply(alert: AlertModel, change: AlertChange, now: Ticks): AlertModel;
  /** n ascending times in [from, to]; all equal to `to` when `sameTime`. */
  spread(n: number, from: Ticks, to: Ticks, sameTime?: boolean): Ticks[];
  /** The tenant's domain (user principal names, analysts). */
  readonly domain: string;
}

interface Fleet {
  domain: string;
  devices: Array<DeviceModel & { netbios: string; users: string[] }>;
}

export function createAlertGenerator(options: AlertGeneratorOptions): AlertGenerator {
  const rng = createRandom(options.seed);
  const { tenantId } = options;
  const fleet = createFleet(rng, options.machineGroups ?? []);
  const accounts = new Map<string, UserAccount>();
  let incidentId = rng.int(1_000, 40_000);
  let investigationId = rng.int(100, 9_000);
  const ids = new Set<string>();

  function account(userName: string, domainName: string): UserAccount {
    const key = `${domainName}\\${userName}`;
    let found = accounts.get(key);
    if (found === undefined) {
      const aad = domainName === "AzureAD" || rng.chance(0.6);
      found = {
        accountName: userName,
        domainName,
        userSid: `S-1-5-21-${rng.int(1e8, 4e9)}-${rng.int(1e8, 4e9)}-${rng.int(1e8, 4e9)}-${rng.int(1_100, 9_999)}`,
        aadUserId: aad ? uuid(rng) : null,
        userPrincipalName: aad ? `${userName}@${fleet.domain}` : null,
        displayName: displayName(userName),
      };
      accounts.set(key, found);
    }
    return found;
  }

  function stamp(ticks: Ticks): Stamp {
    return coarseStamp(ticks, rng.pick(PRECISIONS));
  }

  function analyst(): string {
    return `${rng.pick(ANALYSTS)}@${fleet.domain}`;
  }

  function newId(created: Ticks): string {
    for (;;) {
      // The real ids end in a signed 32-bit number (`da637551227677560813_-961444813`).
      const id = `da${created + DOTNET_EPOCH_TICKS}_${rng.int(-2_147_483_648, 2_147_483_647)}`;
      if (!ids.has(id)) {
        ids.add(id);
        return id;
      }
    }
  }

  function evidenceFor(
    scenario: Scenario,
    ev: Evidence,
    device: Fleet["devices"][number],
    user: string,
    at: string,
  ): EvidenceModel[] {
    const out: EvidenceModel[] = [];
    const antivirus = scenario.source === "Antivirus";
    const remediated = antivirus && ev.RemediationIsSuccess === true;
    const base = {
      created: at,
      verdict: antivirus ? ("malicious" as const) : ("suspicious" as const),
      remediationStatus: remediated ? ("remediated" as const) : ("none" as const),
      detectionStatus: remediated ? ("Prevented" as const) : ("Detected" as const),
    };
    if (ev.FileName) {
      const file = fileDetails(rng, ev.FileName, ev.FilePath ?? "", ev.Sha1, ev.Sha256);
      if (ev.CommandLine) {
        const processAccount = scenario.withUser ? account(user, device.netbios) : systemAccount();
        out.push({ ...base, ...processEvidence(rng, file, ev.CommandLine, at), account: processAccount });
      } else {
        out.push({ ...base, kind: "file", file });
      }
    }
    const neutral = {
      created: at,
      verdict: "unknown",
      remediationStatus: "none",
      detectionStatus: null,
    } as const;
    if (scenario.withUser) out.push({ ...neutral, kind: "user", account: account(user, device.netbios) });
    if (ev.IpAddress) {
      out.push({ ...neutral, kind: "ip", ipAddress: ev.IpAddress, countryLetterCode: country(ev.IpAddress) });
    }
    if (ev.Url) out.push({ ...neutral, kind: "url", url: ev.Url });
    if (scenario.category === "Persistence") out.push({ ...neutral, ...registryEvidence(rng) });
    return out;
  }

  /** One more entity of `kind`, for inputs that name their evidence and for updates. */
  function extraEvidence(kind: EvidenceKind, alert: Pick<AlertModel, "device">, at: string): EvidenceModel {
    const device = fleet.devices.find((d) => d.mdeDeviceId === alert.device.mdeDeviceId) ?? fleet.devices[0];
    const user = device ? rng.pick(device.users) : rng.pick(USERS);
    const netbios = device?.netbios ?? "WORKGROUP";
    const neutral = {
      created: at,
      verdict: "unknown",
      remediationStatus: "none",
      detectionStatus: null,
    } as const;
    const suspicious = { created: at, verdict: "suspicious", remediationStatus: "none" } as const;
    const sample = fileSample(rng);
    switch (kind) {
      case "file":
        return {
          ...suspicious,
          detectionStatus: "Detected",
          kind: "file",
          file: fileDetails(rng, `${rng.hex(8)}.exe`, dropDir(rng, user), sample.sha1, sample.sha256),
        };
      case "process": {
        const file = fileDetails(rng, "cmd.exe", SYSTEM32, sample.sha1, sample.sha256);
        const commandLine = `cmd.exe /c "whoami /priv & ipconfig /all > C:\\Users\\Public\\${rng.hex(6)}.txt"`;
        return {
          ...suspicious,
          detectionStatus: "Detected",
          ...processEvidence(rng, file, commandLine, at),
          account: account(user, netbios),
        };
      }
      case "user":
        return { ...neutral, kind: "user", account: account(user, netbios) };
      case "ip": {
        const ipAddress = publicIp(rng);
        return { ...neutral, kind: "ip", ipAddress, countryLetterCode: country(ipAddress) };
      }
      case "url":
        return { ...neutral, kind: "url", url: `https://${rng.pick(MALICIOUS_DOMAINS)}/${rng.hex(10)}` };
      case "registry":
        return { ...neutral, ...registryEvidence(rng) };
    }
  }

  function country(ip: string): string | null {
    // Stable per address, so one IP is always placed in the same country.
    return COUNTRY_CODES[hashString(ip) % COUNTRY_CODES.length] ?? null;
  }

  function create(lastUpdateTicks: Ticks, input: AlertInput = {}): AlertModel {
    // No draw at all without a mix: a seed gives the same Defender for Endpoint alerts as it always did.
    const mix = options.serviceMix ?? 0;
    const service =
      input.serviceSource ?? (mix > 0 && rng.chance(mix) ? rng.pick(OTHER_SERVICES) : MDE_SERVICE);
    const endpoint = createEndpoint(lastUpdateTicks, input);
    if (service === MDE_SERVICE) return endpoint;
    const scenarios =
      SERVICE_SCENARIOS[service as keyof typeof SERVICE_SCENARIOS] ?? SERVICE_SCENARIOS.unknown;
    const scenario: ServiceScenario = rng.pick(scenarios);
    const at = endpoint.created.text;
    return {
      ...endpoint,
      serviceSource: service,
      detectionSource: input.detectionSource ?? scenario.detectionSource,
      onDevice: scenario.onDevice,
      investigationId: null,
      investigationState: "UnsupportedAlertType",
      detectorId: detectorIdOf(scenario.title),
      category: input.category ?? scenario.category,
      title: input.title ?? scenario.title,
      description: input.description ?? scenario.description,
      severity: input.severity ?? scenario.severity,
      recommendedActions:
        "Review the activity in the product's portal and contain the affected accounts or resources.",
      threatFamilyName: null,
      threatName: null,
      actorName: null,
      mitreTechniques: MITRE_BY_CATEGORY[input.category ?? scenario.category] ?? [],
      evidence:
        input.evidence === undefined
          ? scenario.evidence.map((kind) => extraEvidence(kind, endpoint, at))
          : endpoint.evidence,
    };
  }

  function createEndpoint(lastUpdateTicks: Ticks, input: AlertInput): AlertModel {
    const scenario = rng.pick(SCENARIOS);
    const device = rng.pick(fleet.devices);
    const user = rng.pick(device.users);
    const ev = scenario.evidence(rng, fileSample(rng), user);

    const lastUpdate =
      input.lastUpdateTime === undefined ? stamp(lastUpdateTicks) : exact(input.lastUpdateTime);
    // The alert is raised seconds to minutes before its last update, its events before that.
    const createdTicks =
      exact(input.alertCreationTime)?.ticks ??
      lastUpdate.ticks - BigInt(rng.int(0, 900)) * TICKS_PER_SECOND - BigInt(rng.int(0, 9_999_999));
    const created =
      input.alertCreationTime === undefined ? fullStamp(createdTicks) : exact(input.alertCreationTime);
    const firstEventTicks =
      createdTicks - BigInt(rng.int(1, 7_200)) * TICKS_PER_SECOND - BigInt(rng.int(0, 9_999_999));
    const lastEventTicks = firstEventTicks + BigInt(rng.int(0, Number(createdTicks - firstEventTicks)));
    // Some sensors report events at millisecond resolution (`…:50.116Z` in Graph's sample).
    const eventText = (t: Ticks): string => (rng.chance(0.4) ? msText(t) : formatTimestamp(t));

    const status =
      input.status ?? rng.pick(["New", "New", "New", "New", "InProgress", "InProgress", "Resolved"] as const);
    const triage = triageFor(status);
    const investigated = scenario.source !== "SmartScreen" && rng.chance(0.6);
    if (investigated) investigationId += rng.int(1, 4);
    if (!rng.chance(0.3)) incidentId += rng.int(1, 3);
    const at = created.text;
    const evidence =
      input.evidence === undefined
        ? evidenceFor(scenario, ev, device, user, at)
        : input.evidence.map((kind) => extraEvidence(kind, { device }, at));

    const classification = input.classification !== undefined ? input.classification : triage.classification;
    return {
      tenantId,
      id: input.id ?? newId(createdTicks),
      incidentId,
      investigationId: investigated ? investigationId : null,
      investigationState: investigated ? rng.pick(INVESTIGATION_STATES) : "UnsupportedAlertType",
      assignedTo: input.assignedTo !== undefined ? input.assignedTo : triage.assignedTo,
      severity: input.severity ?? rng.pick(scenario.severities),
      status,
      classification,
      determination: input.determination !== undefined ? input.determination : triage.determination,
      source: scenario.source as AlertSource,
      serviceSource: MDE_SERVICE,
      detectionSource: input.detectionSource ?? graphDetectionSource(scenario.source as AlertSource),
      onDevice: true,
      detectorId: scenario.ioaDefinitionId || detectorIdOf(scenario.title),
      category: input.category ?? scenario.category,
      title: input.title ?? scenario.title,
      description: input.description ?? scenario.description,
      recommendedActions: RECOMMENDED_ACTIONS[scenario.source as AlertSource] ?? "",
      threatFamilyName: ev.ThreatFamily ?? null,
      threatName: ev.ThreatName ?? null,
      actorName: scenario.actor || null,
      created,
      firstEvent: eventText(firstEventTicks),
      lastEvent: eventText(lastEventTicks),
      lastUpdate,
      resolved: status === "Resolved" ? lastUpdate.text : null,
      device: publicDevice(device),
      relatedUser: scenario.withUser ? { userName: user, domainName: device.netbios } : null,
      mitreTechniques: MITRE_BY_CATEGORY[input.category ?? scenario.category] ?? [],
      comments:
        status === "Resolved" && rng.chance(0.5)
          ? [
              {
                comment: rng.pick(COMMENTS),
                createdBy: triage.assignedTo ?? analyst(),
                created: lastUpdate.text,
              },
            ]
          : [],
      evidence,
    };
  }

  function triageFor(
    status: AlertModel["status"],
  ): Pick<AlertModel, "assignedTo" | "classification" | "determination"> {
    if (status === "New") {
      return { assignedTo: rng.chance(0.2) ? analyst() : null, classification: null, determination: null };
    }
    if (status === "InProgress") {
      const classified = rng.chance(0.2);
      return {
        assignedTo: analyst(),
        classification: classified ? "TruePositive" : null,
        determination: classified ? rng.pick(DETERMINATIONS.TruePositive) : null,
      };
    }
    const classification = rng.pick(ALERT_CLASSIFICATIONS);
    return {
      // Automated investigation resolves some alerts itself.
      assignedTo: rng.chance(0.3) ? "Automation" : analyst(),
      classification,
      determination: rng.pick(DETERMINATIONS[classification]),
    };
  }

  /** What an analyst or the automation plausibly does next to an alert in this state. */
  function randomChange(alert: AlertModel): AlertChange {
    const roll = rng.next();
    if (alert.status === "New") {
      if (roll < 0.5) return { status: "InProgress", assignedTo: alert.assignedTo ?? analyst() };
      if (roll < 0.75) return { addEvidence: true };
      return { assignedTo: analyst() };
    }
    if (alert.status === "InProgress") {
      if (roll < 0.5) {
        const classification = rng.pick(ALERT_CLASSIFICATIONS);
        return {
          status: "Resolved",
          classification,
          determination: rng.pick(DETERMINATIONS[classification]),
        };
      }
      if (roll < 0.75) return { comment: rng.pick(COMMENTS) };
      return { addEvidence: true };
    }
    if (roll < 0.3) return { status: "InProgress" };
    return { comment: rng.pick(COMMENTS) };
  }

  function apply(alert: AlertModel, requested: AlertChange, now: Ticks): AlertModel {
    const effective =
      requested.status !== undefined ||
      requested.classification !== undefined ||
      requested.determination !== undefined ||
      requested.assignedTo !== undefined ||
      requested.addEvidence !== undefined ||
      requested.comment !== undefined;
    const change = effective ? requested : randomChange(alert);
    // The new lastUpdateTime is now, at the backend's precision, but always after the previous one:
    // an update never hides behind the cursor of a client that saw the previous version.
    let lastUpdate = stamp(now);
    if (lastUpdate.ticks <= alert.lastUpdate.ticks) lastUpdate = fullStamp(alert.lastUpdate.ticks + 1n);
    const nowText = formatTimestamp(now > lastUpdate.ticks ? now : lastUpdate.ticks);
    const status = change.status ?? alert.status;
    const assignedTo = change.assignedTo !== undefined ? change.assignedTo : alert.assignedTo;
    let resolved = alert.resolved;
    if (status !== "Resolved") resolved = null;
    else if (alert.status !== "Resolved") resolved = lastUpdate.text;
    let evidence = alert.evidence;
    if (change.addEvidence !== undefined) {
      const kind =
        change.addEvidence === true
          ? rng.pick(["file", "process", "ip", "url", "registry"] as const)
          : change.addEvidence;
      evidence = [...evidence, extraEvidence(kind, alert, nowText)];
    }
    const comments =
      change.comment === undefined
        ? alert.comments
        : [
            ...alert.comments,
            { comment: change.comment, createdBy: assignedTo ?? analyst(), created: nowText },
          ];
    return {
      ...alert,
      status,
      assignedTo,
      classification: change.classification !== undefined ? change.classification : alert.classification,
      determination: change.determination !== undefined ? change.determination : alert.determination,
      lastUpdate,
      resolved,
      evidence,
      comments,
    };
  }

  return {
    create,
    apply,
    domain: fleet.domain,
    spread(n, from, to, sameTime = false) {
      if (sameTime) return Array.from({ length: n }, () => to);
      const span = Number(to - from);
      const times: Ticks[] = [];
      for (let i = 0; i < n; i++) {
        // Two draws give sub-tick resolution over spans of hours (one draw has only 32 bits).
        const u = rng.next() + rng.next() / 4_294_967_296;
        times.push(from + BigInt(Math.min(span, Math.floor(u * (span + 1)))));
      }
      return times.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    },
  };
}

const detectorIds = new Map<string, string>();

/** Antivirus detections have no rule id of their own; a stable one per title stands in. */
function detectorIdOf(title: string): string {
  let id = detectorIds.get(title);
  if (id === undefined) {
    id = uuid(createRandom(hashString(title)));
    detectorIds.set(title, id);
  }
  return id;
}

function createFleet(rng: Random, groups: readonly string[]): Fleet {
  const domain = rng.pick(DOMAINS);
  const devices = Array.from({ length: 12 }, (_, i) => {
    const name = machineName(rng);
    // About one device in four is Azure AD joined: no AD domain, and the DNS name is the bare host name.
    const aadJoined = rng.chance(0.25);
    const netbios = aadJoined ? "AzureAD" : (domain.split(".")[0] ?? domain).toUpperCase();
    const os: { osPlatform: string; osBuild: number; version: string } = name.startsWith("srv-")
      ? rng.pick(SERVER_OS)
      : rng.pick(WORKSTATION_OS);
    const users = [...new Set(Array.from({ length: rng.int(1, 2) }, () => rng.pick(USERS)))];
    const ipInterfaces = [`10.${rng.int(0, 40)}.${rng.int(0, 255)}.${rng.int(2, 250)}`];
    if (rng.chance(0.4)) ipInterfaces.push(`192.168.${rng.int(0, 20)}.${rng.int(2, 250)}`);
    ipInterfaces.push(`fe80::${rng.hex(4)}:${rng.hex(4)}:${rng.hex(4)}:${rng.hex(4)}`);
    const tags = [rng.pick(DEVICE_TAGS), ...rng.pick(CLOUD_TAGS).split(", ")].filter((t) => t !== "");
    // Round-robin, so that every configured group has devices.
    const group = groups.length === 0 ? null : (groups[i % groups.length] ?? null);
    return {
      mdeDeviceId: rng.hex(40),
      dnsName: aadJoined ? name : `${name}.${domain}`,
      aadDeviceId: aadJoined || rng.chance(0.5) ? uuid(rng) : null,
      osPlatform: os.osPlatform,
      osBuild: os.osBuild,
      version: os.version,
      rbacGroupId: group === null ? 0 : 100 + groups.indexOf(group),
      rbacGroupName: group,
      ipInterfaces,
      loggedOnUsers: users.map((u) => ({ accountName: u, domainName: netbios })),
      tags: [...new Set(tags)],
      firstSeen: formatTimestamp(
        BigInt(FIRST_SEEN_BASE_MS + rng.int(0, 300) * 86_400_000) * 10_000n + BigInt(rng.int(0, 9_999_999)),
      ),
      riskScore: rng.pick(["none", "low", "medium", "high"] as const),
      netbios,
      users,
    };
  });
  return { domain, devices };
}

function publicDevice(device: Fleet["devices"][number]): DeviceModel {
  const { netbios: _netbios, users: _users, ...rest } = device;
  return rest;
}

function fileDetails(
  rng: Random,
  fileName: string,
  filePath: string,
  sha1: string | undefined,
  sha256: string | undefined,
): FileDetails {
  const system = /^C:\\(Windows|Program Files)/i.test(filePath);
  return {
    sha1: sha1 ?? null,
    sha256: sha256 ?? null,
    fileName,
    filePath,
    fileSize: rng.int(20_000, 9_000_000),
    filePublisher: system ? "Microsoft Corporation" : null,
  };
}

function processEvidence(rng: Random, file: FileDetails, commandLine: string, at: string) {
  const parent = rng.pick(PARENT_PROCESSES);
  return {
    kind: "process" as const,
    file,
    processId: rng.int(600, 20_000),
    commandLine,
    processCreated: at,
    parentProcessId: rng.int(4, 9_000),
    parentProcessCreated: at,
    parentFile: parent,
  };
}

function registryEvidence(rng: Random) {
  const run = rng.pick(RUN_KEYS);
  return {
    kind: "registry" as const,
    hive: run.hive,
    key: run.key,
    valueName: `Updater${rng.int(1, 9)}`,
    valueType: "String",
    value: `C:\\ProgramData\\${rng.hex(6)}\\upd.exe`,
  };
}

function systemAccount(): UserAccount {
  return {
    accountName: "SYSTEM",
    domainName: "NT AUTHORITY",
    userSid: "S-1-5-18",
    aadUserId: null,
    userPrincipalName: null,
    displayName: "System",
  };
}

function displayName(userName: string): string {
  if (!userName.includes(".")) return userName;
  return userName
    .split(".")
    .map((p) => (p[0] ?? "").toUpperCase() + p.slice(1))
    .join(" ");
}

function uuid(rng: Random): string {
  const h = rng.hex(32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${"89ab"[rng.int(0, 3)]}${h.slice(17, 20)}-${h.slice(20)}`;
}

/**
 * `ticks` as a clock of `digits` fraction digits would stamp it (never later than `ticks`), shown the
 * .NET way with trailing zeros trimmed. When nothing of the fraction would be left, the full seven
 * digits are kept, so the text always has 1-7 fraction digits.
 */
export function coarseStamp(ticks: Ticks, digits: number): Stamp {
  const unit = 10n ** BigInt(7 - Math.min(7, Math.max(1, digits)));
  const coarse = ticks - (((ticks % unit) + unit) % unit);
  const text = formatTimestamp(coarse).replace(/0+Z$/, "Z");
  if (text.endsWith(".Z")) return fullStamp(ticks);
  return { ticks: coarse, text };
}

export function fullStamp(ticks: Ticks): Stamp {
  return { ticks, text: formatTimestamp(ticks) };
}

function msText(ticks: Ticks): string {
  return new Date(Number(ticks / 10_000n)).toISOString();
}

function exact(text: string): Stamp;
function exact(text: string | undefined): Stamp | undefined;
function exact(text: string | undefined): Stamp | undefined {
  if (text === undefined) return undefined;
  const ticks = parseExact(text);
  return { ticks, text };
}

/** Inputs are validated by the caller; a bad one here is a programming error. */
function parseExact(text: string): Ticks {
  const ticks = parseTimestamp(text);
  if (ticks === undefined) throw new RangeError(`not a timestamp: ${text}`);
  return ticks;
}
