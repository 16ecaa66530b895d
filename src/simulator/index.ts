// The bundled MDE API simulator, on one loopback HTTP(S) server: the Azure AD token endpoints (v1 and
// v2, secret or certificate), the legacy SIEM API (GET /api/alerts, detections), and the two APIs that
// replace it, serving one store of alerts: the MDE Alerts API under /mde and Graph alerts_v2 (and the
// incidents that group those alerts) under /graph. Realistic generated data, injectable faults, optional
// rate limits and /_sim control endpoints. It serves the demo, the integration tests, and users who want to see what their SIEM
// makes of the events.
//
// URL layout (url = http://127.0.0.1:<port>, or https:// with `tls`):
//   POST {url}/{tenantId}/oauth2/token               Azure AD v1 (resource=...)
//   POST {url}/{tenantId}/oauth2/v2.0/token          Azure AD v2 (scope=.../.default)
//   GET  {url}/api/alerts                            SIEM API (detections)
//   GET  {url}/mde/api/alerts (and /mde/api/v1.0/alerts)   Alerts API; api_url = {url}/mde
//   GET  {url}/graph/v1.0/security/alerts_v2         Graph; graph root = {url}/graph
//   GET  {url}/graph/v1.0/security/incidents         Graph incidents ($expand=alerts)
//   {url}/_sim/...                                   control (see control.ts)
import { ForwarderError } from "../errors.js";
import { silentLogger } from "../log.js";
import type { Detection } from "../record.js";
import { parseTimestamp, type Ticks, ticksFromMs } from "../timestamp.js";
import { createAlertService } from "./alert-service.js";
import { ALERTS_API_PREFIX, createAlertsApiHandler } from "./alerts-api.js";
import { type RegisteredCertificate, registerCertificate } from "./client-assertion.js";
import { createControlHandler } from "./control.js";
import { createDetectionGenerator, type DetectionGenerator } from "./detections.js";
import { createFaultQueue, faultSchema, faultTargetSchema } from "./faults.js";
import { createGraphHandler, createGraphIncidentsHandler, GRAPH_PREFIX } from "./graph-api.js";
import { hashString } from "./random.js";
import { createRateLimiter, type RateLimiter } from "./rate-limit.js";
import { createSimServer } from "./server.js";
import { createDetectionStore } from "./store.js";
import { createTokenIssuer } from "./tokens.js";
import type {
  Fault,
  FaultTarget,
  RateLimits,
  ServedRequest,
  SimTenant,
  Simulator,
  SimulatorOptions,
} from "./types.js";

export { ALERTS_API_MAX_TOP } from "./alerts-api.js";
export { ASSERTION_CLOCK_SKEW_SECONDS, MAX_ASSERTION_LIFETIME_SECONDS } from "./client-assertion.js";
export { DETECTION_KEYS } from "./detections.js";
export { GRAPH_INCIDENTS_MAX_TOP, GRAPH_MAX_TOP } from "./graph-api.js";
export type {
  AddAlertsOptions,
  AddOptions,
  AlertChange,
  AlertClassification,
  AlertDetermination,
  AlertInput,
  AlertSeverity,
  AlertStatus,
  EvidenceKind,
  Fault,
  FaultTarget,
  GenerateOptions,
  IncidentChange,
  IncidentStatus,
  RateLimits,
  ServedRequest,
  SimAlert,
  SimIncident,
  SimTenant,
  Simulator,
  SimulatorOptions,
  SimulatorStats,
} from "./types.js";

export const DEMO_TENANT: SimTenant = Object.freeze({
  tenantId: "00000000-0000-4000-8000-000000000000",
  clientId: "demo-client",
  clientSecret: "demo-secret",
  // The device group names of Microsoft's own `machinegroups` example.
  machineGroups: ["UKMachines", "FranceMachines"],
});

/** The documented limits: Alerts API 100/min and 1500/hour, Graph alerts 150/min (per app and tenant). */
export const DEFAULT_RATE_LIMITS: Readonly<RateLimits> = Object.freeze({
  alertsApiPerMinute: 100,
  alertsApiPerHour: 1_500,
  graphPerMinute: 150,
});

const DEFAULT_GENERATE_SPAN_MS = 3_600_000;
/** Steady arrival ticks at most this often; faster rates add several detections per tick. */
const MIN_ARRIVAL_INTERVAL_MS = 100;

export async function createSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const host = options.host ?? "127.0.0.1";
  const port = options.port ?? 0;
  const tenants = options.tenants ?? [DEMO_TENANT];
  const lifetime = options.tokenLifetimeSeconds ?? 3599;
  const rate = options.ratePerMinute ?? 0;
  const seed = options.seed ?? 1;
  const clock = options.clock ?? Date.now;
  const log = (options.log ?? silentLogger()).child({ component: "simulator" });
  const alertRate = options.alertRatePerMinute ?? 0;
  const updateRate = options.updateRatePerMinute ?? 0;
  const initialAlerts = options.initialAlerts ?? 0;
  const serviceMix = options.serviceMix ?? 0;
  validateOptions({ port, tenants, lifetime, rate, seed, alertRate, updateRate, initialAlerts, serviceMix });
  const certificates = registerCertificates(tenants);
  const limits = rateLimits(options.enforceRateLimits);

  const tokens = createTokenIssuer({ tenants, certificates, lifetimeSeconds: lifetime, clock });
  const store = createDetectionStore();
  const faults = createFaultQueue();
  const served = new Set<string>();
  const serveCounts = options.countServes === true ? new Map<string, number>() : undefined;
  const requests: ServedRequest[] = [];
  const alertService = createAlertService({
    tenants,
    seed,
    clock,
    initialAlerts,
    createdAt: clock(),
    serviceMix,
  });
  const byId = new Map(tenants.map((t) => [t.tenantId.toLowerCase(), t]));
  // One generator per tenant, seeded from (seed, tenantId) and made on first use: a tenant's
  // detections do not depend on what happens to the other tenants, and many tenants cost nothing.
  const generators = new Map<string, DetectionGenerator>();

  function tenantRecord(tenantId: string | undefined): SimTenant {
    const tenant = tenantId === undefined ? tenants[0] : byId.get(tenantId.toLowerCase());
    if (tenant === undefined) {
      throw new ForwarderError("E_CONFIG_INVALID", `The simulator has no tenant ${tenantId}.`, {
        details: { tenantId },
      });
    }
    return tenant;
  }

  function tenantOf(tenantId: string | undefined): { id: string; generator: DetectionGenerator } {
    const tenant = tenantRecord(tenantId);
    let generator = generators.get(tenant.tenantId);
    if (generator === undefined) {
      generator = createDetectionGenerator({
        seed: (seed ^ hashString(tenant.tenantId)) >>> 0,
        machineGroups: tenant.machineGroups,
      });
      generators.set(tenant.tenantId, generator);
    }
    return { id: tenant.tenantId, generator };
  }

  function put(
    tenantId: string,
    detection: Record<string, unknown>,
    ticks: Ticks,
    visibleAt?: number,
  ): Detection {
    const frozen: Detection = Object.freeze(detection);
    store.add(tenantId, frozen, ticks, visibleAt ?? Number.NEGATIVE_INFINITY);
    return frozen;
  }

  function add(
    partials: Array<Record<string, unknown>>,
    opts: { tenantId?: string; visibleAt?: number } = {},
  ) {
    const { id, generator } = tenantOf(opts.tenantId);
    const nowTicks = ticksFromMs(clock());
    return partials.map((partial) => {
      // The filter time is the partial's LastProcessedTimeUtc when it parses, else the time of adding:
      // a deliberately malformed detection is still served (and still filtered sensibly).
      const ticks = parseTimestamp(partial.LastProcessedTimeUtc) ?? nowTicks;
      const alertId = typeof partial.AlertId === "string" ? partial.AlertId : undefined;
      const detection = generator.single(ticks, alertId);
      for (const [key, value] of Object.entries(partial)) {
        // An explicit `undefined` removes the key, to model detections that lack a field.
        if (value === undefined) delete detection[key];
        else detection[key] = value;
      }
      // Keep FullId = AlertId:IocUniqueId unless the partial set FullId itself.
      if (
        !Object.hasOwn(partial, "FullId") &&
        (alertId !== undefined || Object.hasOwn(partial, "IocUniqueId"))
      ) {
        detection.FullId = `${String(detection.AlertId)}:${String(detection.IocUniqueId)}`;
      }
      return put(id, detection, ticks, opts.visibleAt);
    });
  }

  function generate(
    n: number,
    opts: { tenantId?: string; from?: number; to?: number; sameTime?: boolean; visibleAt?: number } = {},
  ) {
    const { id, generator } = tenantOf(opts.tenantId);
    const to = opts.to ?? clock();
    const from = opts.from ?? to - DEFAULT_GENERATE_SPAN_MS;
    if (!Number.isInteger(n) || n < 0) throw invalid("generate: n must be a whole number >= 0", { n });
    if (!Number.isFinite(from) || !Number.isFinite(to) || from > to || from < 0) {
      throw invalid("generate: from and to must be times in ms with 0 <= from <= to", { from, to });
    }
    const times = generator.spread(n, ticksFromMs(from), ticksFromMs(to), opts.sameTime);
    return generator.generate(times).map((d, i) => put(id, d, times[i] ?? ticksFromMs(to), opts.visibleAt));
  }

  function injectFaults(list: Fault[], target: FaultTarget = "alerts"): void {
    const parsed = list.map((f, i) => {
      const result = faultSchema.safeParse(f);
      if (!result.success) throw invalid(`injectFaults: fault ${i} is invalid`, { index: i });
      return result.data;
    });
    if (!faultTargetSchema.safeParse(target).success) {
      throw invalid("injectFaults: target is alerts, token, alerts-api or graph", {});
    }
    faults.push(target, parsed);
  }

  function expireTokens(): number {
    const n = tokens.expireAll();
    log.info({ tokens: n }, "Access tokens expired.");
    return n;
  }

  const control = createControlHandler(
    {
      add,
      generate,
      injectFaults,
      expireTokens,
      stats: () => ({
        detections: store.all.length,
        served: served.size,
        tokensIssued: tokens.issued,
        requests: requests.length,
      }),
      addAlerts: (what, opts) => alertService.add(what, opts),
      updateAlert: (id, change) => alertService.update(id, change),
      updateIncident: (id, change) => alertService.updateIncident(id, change),
    },
    log,
  );

  let url = "";
  const baseUrl = (): string => url;
  const limiter = (windows: Array<{ limit: number; windowMs: number }>): RateLimiter | undefined =>
    limits === undefined ? undefined : createRateLimiter(windows);
  const alertsApi = createAlertsApiHandler({
    tokens,
    alerts: alertService,
    clock,
    baseUrl,
    limiter: limiter([
      { limit: limits?.alertsApiPerMinute ?? 0, windowMs: 60_000 },
      { limit: limits?.alertsApiPerHour ?? 0, windowMs: 3_600_000 },
    ]),
  });
  const paging = options.graphPaging ?? "keyset";
  const graph = createGraphHandler({
    tokens,
    alerts: alertService,
    clock,
    baseUrl,
    limiter: limiter([{ limit: limits?.graphPerMinute ?? 0, windowMs: 60_000 }]),
    paging,
  });
  const incidents = createGraphIncidentsHandler({
    tokens,
    alerts: alertService,
    clock,
    baseUrl,
    limiter: limiter([{ limit: limits?.graphPerMinute ?? 0, windowMs: 60_000 }]),
    paging,
  });

  const server = createSimServer({
    log,
    clock,
    tokens,
    store,
    faults,
    served,
    serveCounts,
    requests,
    control,
    alertsApi,
    graph,
    incidents,
    applyUpdates: (fault) => {
      // Unknown ids are skipped: the fault names what the test expects to exist.
      for (const id of fault.alerts ?? []) tryUpdate(() => alertService.update(id));
      for (const id of fault.incidents ?? []) tryUpdate(() => alertService.updateIncident(id));
    },
    baseUrl,
    tls: options.tls,
  });
  function tryUpdate(fn: () => unknown): void {
    try {
      fn();
    } catch (err) {
      log.warn(
        { err: err instanceof Error ? err.message : String(err) },
        "Update fault names an unknown item.",
      );
    }
  }
  let address: { port: number };
  try {
    address = await server.listen(host, port);
  } catch (err) {
    await server.close();
    throw new ForwarderError("E_INTERNAL", `The simulator cannot listen on ${host}:${port}.`, {
      cause: err,
      details: { host, port },
    });
  }
  url = `${options.tls === undefined ? "http" : "https"}://${urlHost(host)}:${address.port}`;

  // Steady arrival: real (unref'd) timers, so a running simulator never keeps a process alive by itself.
  let arrival: NodeJS.Timeout | undefined;
  if (rate > 0) {
    const intervalMs = Math.max(MIN_ARRIVAL_INTERVAL_MS, 60_000 / rate);
    let carry = 0;
    arrival = setInterval(() => {
      carry += (rate * intervalMs) / 60_000;
      const n = Math.floor(carry);
      carry -= n;
      if (n === 0) return;
      const now = clock();
      for (const t of tenants) generate(n, { tenantId: t.tenantId, from: now, to: now });
    }, intervalMs);
    arrival.unref();
  }
  let alertArrival: NodeJS.Timeout | undefined;
  if (alertRate > 0 || updateRate > 0) {
    const intervalMs = Math.max(MIN_ARRIVAL_INTERVAL_MS, 60_000 / Math.max(alertRate, updateRate));
    let createCarry = 0;
    let updateCarry = 0;
    alertArrival = setInterval(() => {
      createCarry += (alertRate * intervalMs) / 60_000;
      updateCarry += (updateRate * intervalMs) / 60_000;
      const created = Math.floor(createCarry);
      const updated = Math.floor(updateCarry);
      createCarry -= created;
      updateCarry -= updated;
      if (created > 0 || updated > 0) alertService.tick(created, updated);
    }, intervalMs);
    alertArrival.unref();
  }

  log.info(
    { url, tenants: tenants.length, ratePerMinute: rate, alertRatePerMinute: alertRate, rateLimits: limits },
    "Simulator listening.",
  );

  let closing: Promise<void> | undefined;
  return {
    url,
    authorityHost: url,
    alertsApiUrl: `${url}${ALERTS_API_PREFIX}`,
    graphUrl: `${url}${GRAPH_PREFIX}`,
    tokenUrl(tenantId) {
      return `${url}/${tenantRecord(tenantId).tenantId}/oauth2/v2.0/token`;
    },
    add,
    generate,
    injectFaults,
    expireTokens: () => {
      expireTokens();
    },
    requests,
    get tokensIssued() {
      return tokens.issued;
    },
    served,
    serveCounts,
    detections: store.all,
    addAlerts: (what, opts) => alertService.add(what, opts),
    updateAlert: (id, change) => alertService.update(id, change),
    get alerts() {
      return alertService.all();
    },
    alertsOf: (tenantId) => alertService.of(tenantId),
    incidentsOf: (tenantId) => alertService.incidentsOf(tenantId),
    updateIncident: (id, change) => alertService.updateIncident(id, change),
    close() {
      if (arrival !== undefined) clearInterval(arrival);
      arrival = undefined;
      if (alertArrival !== undefined) clearInterval(alertArrival);
      alertArrival = undefined;
      closing ??= server.close().then(() => log.info("Simulator closed."));
      return closing;
    },
  };
}

function validateOptions(o: {
  port: number;
  tenants: readonly SimTenant[];
  lifetime: number;
  rate: number;
  seed: number;
  alertRate: number;
  updateRate: number;
  initialAlerts: number;
  serviceMix: number;
}): void {
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65_535) throw invalid("port must be 0-65535", {});
  if (o.tenants.length === 0) throw invalid("at least one tenant is needed", {});
  const ids = new Set(o.tenants.map((t) => t.tenantId.toLowerCase()));
  if (ids.size !== o.tenants.length) throw invalid("tenant ids must be unique", {});
  for (const t of o.tenants) {
    if (!t.tenantId || !t.clientId || !t.clientSecret) {
      throw invalid("every tenant needs tenantId, clientId and clientSecret", { tenantId: t.tenantId });
    }
    // A tenant id is a path segment of the token endpoint.
    if (t.tenantId.includes("/")) throw invalid("a tenant id cannot contain '/'", { tenantId: t.tenantId });
  }
  if (!Number.isInteger(o.lifetime) || o.lifetime < 1) throw invalid("tokenLifetimeSeconds must be >= 1", {});
  if (!Number.isFinite(o.rate) || o.rate < 0) throw invalid("ratePerMinute must be >= 0", {});
  if (!Number.isInteger(o.seed)) throw invalid("seed must be a whole number", {});
  if (!Number.isFinite(o.alertRate) || o.alertRate < 0) throw invalid("alertRatePerMinute must be >= 0", {});
  if (!Number.isFinite(o.updateRate) || o.updateRate < 0)
    throw invalid("updateRatePerMinute must be >= 0", {});
  if (!Number.isInteger(o.initialAlerts) || o.initialAlerts < 0 || o.initialAlerts > 1_000_000) {
    throw invalid("initialAlerts must be a whole number from 0 to 1000000", {});
  }
  if (!Number.isFinite(o.serviceMix) || o.serviceMix < 0 || o.serviceMix > 1) {
    throw invalid("serviceMix must be a share from 0 to 1", {});
  }
}

function registerCertificates(tenants: readonly SimTenant[]): Map<string, RegisteredCertificate> {
  const out = new Map<string, RegisteredCertificate>();
  for (const t of tenants) {
    if (t.clientCertificatePem === undefined) continue;
    try {
      out.set(t.tenantId.toLowerCase(), registerCertificate(t.clientCertificatePem));
    } catch (err) {
      throw new ForwarderError(
        "E_CONFIG_INVALID",
        `Simulator: tenant ${t.tenantId}: clientCertificatePem is not a usable certificate.`,
        { cause: err, details: { tenantId: t.tenantId } },
      );
    }
  }
  return out;
}

function rateLimits(option: SimulatorOptions["enforceRateLimits"]): RateLimits | undefined {
  if (option === undefined || option === false) return undefined;
  const limits = { ...DEFAULT_RATE_LIMITS, ...(option === true ? {} : option) };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value < 1) throw invalid(`enforceRateLimits.${name} must be >= 1`, {});
  }
  return limits;
}

function invalid(message: string, details: Record<string, string | number | undefined>): ForwarderError {
  return new ForwarderError("E_CONFIG_INVALID", `Simulator: ${message}`, { details });
}

/** The host to put in URLs: wildcard binds are reached through loopback, IPv6 needs brackets. */
function urlHost(host: string): string {
  if (host === "0.0.0.0") return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") ? `[${host}]` : host;
}
