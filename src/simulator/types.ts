// The simulator's public vocabulary (re-exported by index.ts).
import type { Logger } from "../log.js";
import type { Detection } from "../record.js";
import type {
  AlertClassification,
  AlertDetermination,
  AlertSeverity,
  AlertStatus,
  EvidenceKind,
} from "./alert-model.js";

import type { IncidentStatus } from "./incident-model.js";

export type {
  AlertClassification,
  AlertDetermination,
  AlertSeverity,
  AlertStatus,
  EvidenceKind,
  IncidentStatus,
};

export interface SimTenant {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** Device groups; generated detections spread over them (MachineGroup is "" without). */
  machineGroups?: string[];
  /**
   * PEM of the app's registered certificate (RSA key): with it, the token endpoints accept a signed
   * client assertion instead of the secret.
   */
  clientCertificatePem?: string;
}

/** Per tenant; the real services' documented limits are the defaults. */
export interface RateLimits {
  /** Alerts API: 100. */
  alertsApiPerMinute: number;
  /** Alerts API: 1500. */
  alertsApiPerHour: number;
  /** Graph alerts_v2: 150. */
  graphPerMinute: number;
}

export interface SimulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (ephemeral). */
  port?: number;
  /** Default: one demo tenant (DEMO_TENANT). */
  tenants?: SimTenant[];
  /** Default 3599, as Azure AD issues. */
  tokenLifetimeSeconds?: number;
  /** New detections per minute and per tenant, with LastProcessedTimeUtc = now; default 0 (none). */
  ratePerMinute?: number;
  /** Seed of the detection generator; default 1. */
  seed?: number;
  /** ms since the epoch; default Date.now. Drives token expiry, default windows and visibleAt. */
  clock?: () => number;
  /** Default silent. */
  log?: Logger;
  /** Serve HTTPS with this certificate and key (PEM); `url` then starts with https://. */
  tls?: { cert: string; key: string };
  /**
   * Enforce per-tenant call quotas on the Alerts API and Graph (429 with Retry-After past them):
   * `true` for the documented limits, or some limits overridden. Default off.
   */
  enforceRateLimits?: boolean | Partial<RateLimits>;
  /** Alerts each tenant starts with, lastUpdateTime spread over the hour before creation; made on first use. Default 0. */
  initialAlerts?: number;
  /** New alerts per minute and per tenant, with lastUpdateTime = now; default 0. */
  alertRatePerMinute?: number;
  /** Updates of existing alerts per minute and per tenant; default 0. */
  updateRatePerMinute?: number;
  /**
   * Share (0-1) of generated alerts raised by products other than Defender for Endpoint (Office 365,
   * Identity, Cloud Apps, Defender for Cloud, Sentinel, ...); default 0. Graph serves them, the Alerts API not.
   */
  serviceMix?: number;
  /**
   * How Graph's @odata.nextLink continues a query: `keyset` (default; a $skiptoken naming the last item) or
   * `offset` (`$skip`, as many services do): an item updated while a client pages then shifts the rest.
   */
  graphPaging?: "keyset" | "offset";
  /**
   * Count how many times /api/alerts served each FullId (`serveCounts`), for the live benchmark's reads per
   * detection. Default off: the demo and the tests keep only the `served` set.
   */
  countServes?: boolean;
}

export type Fault =
  | { kind: "status"; status: number; retryAfterSeconds?: number; body?: string }
  | { kind: "slow"; delayMs: number }
  | { kind: "cut" }
  | { kind: "html" }
  /** Not a fault: the request is answered normally (to aim the next fault at a later request). */
  | { kind: "none" }
  /** Not a fault: these alerts and incidents get a random plausible change, then the request is answered. */
  | { kind: "update"; alerts?: string[]; incidents?: string[] };

/**
 * "alerts": the SIEM API (GET /api/alerts); "token": both token endpoints; "alerts-api": the MDE
 * Alerts API (GET /mde/api/alerts); "graph": Graph alerts_v2; "incidents": Graph incidents.
 */
export type FaultTarget = "alerts" | "token" | "alerts-api" | "graph" | "incidents";

export interface ServedRequest {
  path: string;
  query: Record<string, string | string[]>;
  /** HTTP status sent; 0 when no response was sent (client gone, or the simulator closed first). */
  status: number;
  /** Detections (SIEM API) or alerts (Alerts API, Graph) delivered in full (0 for a cut response). */
  count: number;
  /** clock() when the outcome was decided. */
  at: number;
}

export interface AddOptions {
  tenantId?: string;
  visibleAt?: number;
}

export interface GenerateOptions {
  tenantId?: string;
  /** ms; default `to` minus one hour. */
  from?: number;
  /** ms; default clock(). */
  to?: number;
  /** Every detection gets LastProcessedTimeUtc = `to`. */
  sameTime?: boolean;
  visibleAt?: number;
}

export interface AddAlertsOptions {
  tenantId?: string;
  /** ms; default `to` minus one hour (generated alerts only). */
  from?: number;
  /** ms; default clock() (generated alerts only). */
  to?: number;
  /** Every generated alert gets lastUpdateTime = `to`. */
  sameTime?: boolean;
  /** ms; the alerts are served from then on (default: at once). */
  visibleAt?: number;
}

/** An alert to add: any field left out is generated. */
export interface AlertInput {
  id?: string;
  title?: string;
  description?: string;
  category?: string;
  severity?: AlertSeverity;
  status?: AlertStatus;
  classification?: AlertClassification | null;
  determination?: AlertDetermination | null;
  assignedTo?: string | null;
  /** Served verbatim (1-7 fraction digits, or none); default: `options.to` at a random precision. */
  lastUpdateTime?: string;
  /** Served verbatim; default: seconds to minutes before lastUpdateTime. */
  alertCreationTime?: string;
  /** Evidence entities to generate, in order; default: what the generated scenario has. */
  evidence?: EvidenceKind[];
  /**
   * Graph's serviceSource (`microsoftDefenderForOffice365`, `microsoftSentinel`, ...); default
   * `microsoftDefenderForEndpoint` (or drawn, with `serviceMix`). Only Defender for Endpoint alerts are
   * served by the Alerts API; Graph serves them all.
   */
  serviceSource?: string;
  /** Graph's detectionSource; default: the scenario's. */
  detectionSource?: string;
}

/**
 * An update: sets lastUpdateTime to clock() (at a random precision, always after the previous one)
 * and applies the given fields. With none of status, classification, determination, assignedTo,
 * addEvidence or comment, a random plausible change is made.
 */
export interface AlertChange {
  status?: AlertStatus;
  classification?: AlertClassification | null;
  determination?: AlertDetermination | null;
  assignedTo?: string | null;
  /** Appends one generated evidence entity of this kind (`true`: any kind). */
  addEvidence?: EvidenceKind | true;
  comment?: string;
  /** Default: searched in every tenant. */
  tenantId?: string;
  /** ms; until then the API keeps serving the previous version. */
  visibleAt?: number;
}

/** An analyst's change of an incident; with none of the fields, a random plausible one. */
export interface IncidentChange {
  status?: IncidentStatus;
  classification?: AlertClassification | null;
  determination?: AlertDetermination | null;
  assignedTo?: string | null;
  /** Adds a custom tag. */
  addTag?: string;
  comment?: string;
  /** Default: searched in every tenant. */
  tenantId?: string;
  /** ms; until then the API keeps serving the previous version. */
  visibleAt?: number;
}

/** One incident's newest version. */
export interface SimIncident {
  readonly tenantId: string;
  /** Graph's incident id (a number as a string). */
  readonly id: string;
  /** lastUpdateDateTime exactly as served. */
  readonly lastUpdateTime: string;
  readonly status: IncidentStatus;
  /** 0 as created, +1 per change. */
  readonly version: number;
  readonly visibleAt: number;
  /** The ids of its alerts, in the order they joined. */
  readonly alertIds: readonly string[];
  /** As GET {url}/graph/v1.0/security/incidents?$expand=alerts serves it (with the Prefer header). */
  readonly graph: Readonly<Record<string, unknown>>;
}

/** One alert's newest version, in both API shapes. */
export interface SimAlert {
  readonly tenantId: string;
  readonly id: string;
  /** lastUpdateTime (Alerts API) = lastUpdateDateTime (Graph), exactly as served. */
  readonly lastUpdateTime: string;
  readonly status: AlertStatus;
  /** 0 as created, +1 per update. */
  readonly version: number;
  /** ms; this version is served from then on (-Infinity: at once). */
  readonly visibleAt: number;
  /** As GET {url}/mde/api/alerts?$expand=evidence serves it. */
  readonly alertsApi: Readonly<Record<string, unknown>>;
  /** As GET {url}/graph/v1.0/security/alerts_v2 serves it. */
  readonly graph: Readonly<Record<string, unknown>>;
}

export interface SimulatorStats {
  detections: number;
  served: number;
  tokensIssued: number;
  requests: number;
}

export interface Simulator {
  /** http://127.0.0.1:<port> (https:// with `tls`): the SIEM API base URL and the root of everything. */
  readonly url: string;
  /** `${url}/mde`: the Alerts API's api_url (GET {alertsApiUrl}/api/alerts). */
  readonly alertsApiUrl: string;
  /** `${url}/graph`: the Graph root (GET {graphUrl}/v1.0/security/alerts_v2 and …/security/incidents). */
  readonly graphUrl: string;
  /** Token endpoint for a tenant: `${url}` is the authority host, so the path is /{tenantId}/oauth2/token. */
  readonly authorityHost: string;
  /** Adds detections (generated, then overridden by each partial), visible now or at `visibleAt` (ms). */
  add(partials: Array<Record<string, unknown>>, options?: AddOptions): Detection[];
  /** Generates n realistic detections (several per alert) with LastProcessedTimeUtc spread over [from, to] (ms). */
  generate(n: number, options?: GenerateOptions): Detection[];
  /** The v2 token endpoint of a tenant (default: the first): also the `aud` of a client assertion. */
  tokenUrl(tenantId?: string): string;
  /** Queues faults applied to the next requests, in order. target "alerts" (default: the SIEM API). */
  injectFaults(faults: Fault[], target?: FaultTarget): void;
  /** Makes every issued token invalid (the API answers 401 until the client fetches a new token). */
  expireTokens(): void;
  /** Every request to the emulated API (not the /_sim control endpoints) with its outcome. */
  readonly requests: readonly ServedRequest[];
  readonly tokensIssued: number;
  /** FullIds of every detection returned by /api/alerts so far (for conservation checks). */
  readonly served: ReadonlySet<string>;
  /** With `countServes`: how many times /api/alerts served each FullId so far; else undefined. */
  readonly serveCounts: ReadonlyMap<string, number> | undefined;
  /** Everything stored, all tenants, in the order added. */
  readonly detections: readonly Detection[];
  /** Adds n generated alerts (lastUpdateTime spread over [from, to]) or the given ones. */
  addAlerts(what: number | readonly AlertInput[], options?: AddAlertsOptions): SimAlert[];
  /** Updates an alert (see AlertChange); throws E_CONFIG_INVALID for an unknown id. */
  updateAlert(id: string, change?: AlertChange): SimAlert;
  /** Every tenant's alerts (newest versions), tenant by tenant, in creation order. */
  readonly alerts: readonly SimAlert[];
  /** One tenant's alerts (default: the first tenant). */
  alertsOf(tenantId?: string): readonly SimAlert[];
  /** One tenant's incidents, newest versions (default: the first tenant); they follow its alerts. */
  incidentsOf(tenantId?: string): readonly SimIncident[];
  /** An analyst's change of an incident (see IncidentChange); throws E_CONFIG_INVALID for an unknown id. */
  updateIncident(id: string, change?: IncidentChange): SimIncident;
  close(): Promise<void>;
}
