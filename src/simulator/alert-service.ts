// The alerts of every tenant, made on first use: a tenant's generator, store and initial alerts are
// created the first time anything touches that tenant, so a simulator with many tenants starts at
// once, and each tenant's alerts come out the same whatever order the tenants are touched in. Each
// tenant's incidents follow its alerts (incident-book.ts).
import { ForwarderError } from "../errors.js";
import { parseTimestamp, type Ticks, ticksFromMs } from "../timestamp.js";
import { type AlertGenerator, createAlertGenerator } from "./alert-generator.js";
import type { AlertModel } from "./alert-model.js";
import { type AlertStore, createAlertStore, type StoredVersion } from "./alert-store.js";
import { createIncidentBook, type IncidentBook } from "./incident-book.js";
import type { IncidentModel } from "./incident-model.js";
import { createRandom, hashString } from "./random.js";
import { renderAlertsApi } from "./render-alerts-api.js";
import { renderGraph } from "./render-graph.js";
import { renderIncident } from "./render-incident.js";
import { ALL_SERVICE_SOURCES } from "./services.js";
import type {
  AddAlertsOptions,
  AlertChange,
  AlertInput,
  IncidentChange,
  SimAlert,
  SimIncident,
  SimTenant,
} from "./types.js";

const DEFAULT_SPAN_MS = 3_600_000;

export interface AlertServiceOptions {
  tenants: readonly SimTenant[];
  seed: number;
  clock: () => number;
  /** Alerts each tenant starts with. */
  initialAlerts: number;
  /** ms; the initial alerts' lastUpdateTime is spread over the hour before. */
  createdAt: number;
  /** Share (0-1) of generated alerts from products other than Defender for Endpoint. */
  serviceMix?: number;
}

export interface AlertService {
  /** The tenant's store (made on first use); throws for an unknown tenant. */
  storeOf(tenantId: string): AlertStore;
  add(what: number | readonly AlertInput[], options?: AddAlertsOptions): SimAlert[];
  update(id: string, change?: AlertChange): SimAlert;
  all(): SimAlert[];
  of(tenantId?: string): SimAlert[];
  view(version: StoredVersion): SimAlert;
  /** The version as JSON text in one of the served shapes; made once, reused by every later response. */
  json(version: StoredVersion, shape: JsonShape): string;
  /** Steady arrival: per tenant, `created` new alerts at now and `updated` updates of existing ones. */
  tick(created: number, updated: number): void;
  /** The tenant's incidents (made on first use, with its alerts); throws for an unknown tenant. */
  incidentStoreOf(tenantId: string): AlertStore<IncidentModel>;
  updateIncident(id: string, change?: IncidentChange): SimIncident;
  incidentsOf(tenantId?: string): SimIncident[];
  /** An incident version as Graph serves it, with or without its alerts; made once, then reused. */
  incidentJson(version: StoredVersion<IncidentModel>, shape: IncidentShape): string;
}

/**
 * "alerts-api": without evidence (no $expand); "alerts-api+evidence": with it; "graph": Graph's, for a
 * request with `Prefer: include-unknown-enum-members`; "graph-v1": without it (evolvable enum members
 * sent as `unknownFutureValue`).
 */
export type JsonShape = "alerts-api" | "alerts-api+evidence" | "graph" | "graph-v1";

/** An incident: with (`+alerts`) or without its alerts, for a request with or without the Prefer header. */
export type IncidentShape = "incident" | "incident+alerts" | "incident-v1" | "incident-v1+alerts";

interface TenantAlerts {
  tenantId: string;
  store: AlertStore;
  generator: AlertGenerator;
  incidents: IncidentBook;
}

export function createAlertService(options: AlertServiceOptions): AlertService {
  const { tenants, clock } = options;
  const byId = new Map(tenants.map((t) => [t.tenantId.toLowerCase(), t]));
  const made = new Map<string, TenantAlerts>();
  const views = new WeakMap<StoredVersion, SimAlert>();
  const texts = new WeakMap<StoredVersion, Partial<Record<JsonShape, string>>>();
  const incidentViews = new WeakMap<StoredVersion<IncidentModel>, SimIncident>();
  const incidentTexts = new WeakMap<StoredVersion<IncidentModel>, Partial<Record<IncidentShape, string>>>();
  // Picks which alerts the steady updates touch; separate from the generators' streams.
  const picker = createRandom((options.seed ^ hashString("alert-updates")) >>> 0);

  function tenantOf(tenantId: string | undefined): TenantAlerts {
    const tenant = tenantId === undefined ? tenants[0] : byId.get(tenantId.toLowerCase());
    if (tenant === undefined) {
      throw new ForwarderError("E_CONFIG_INVALID", `The simulator has no tenant ${tenantId}.`, {
        details: { tenantId },
      });
    }
    let t = made.get(tenant.tenantId);
    if (t === undefined) {
      const generator = createAlertGenerator({
        seed: (options.seed ^ hashString(`alerts:${tenant.tenantId}`)) >>> 0,
        tenantId: tenant.tenantId,
        machineGroups: tenant.machineGroups,
        serviceMix: options.serviceMix,
      });
      const incidentRandom = createRandom((options.seed ^ hashString(`incidents:${tenant.tenantId}`)) >>> 0);
      t = {
        tenantId: tenant.tenantId,
        store: createAlertStore(),
        generator,
        incidents: createIncidentBook(tenant.tenantId, incidentRandom, () => generator.domain),
      };
      made.set(tenant.tenantId, t);
      if (options.initialAlerts > 0) {
        const to = ticksFromMs(options.createdAt);
        const times = t.generator.spread(options.initialAlerts, to - ticksFromMs(DEFAULT_SPAN_MS), to);
        for (const ticks of times) store(t, t.generator.create(ticks), Number.NEGATIVE_INFINITY);
      }
    }
    return t;
  }

  /** Adds a new alert, and it to its incident. */
  function store(t: TenantAlerts, alert: AlertModel, visibleAt: number): StoredVersion {
    const v = t.store.add(alert, visibleAt);
    t.incidents.onAlert(alert, visibleAt);
    return v;
  }

  function view(v: StoredVersion): SimAlert {
    let found = views.get(v);
    if (found === undefined) {
      let alertsApi: Readonly<Record<string, unknown>> | undefined;
      let graph: Readonly<Record<string, unknown>> | undefined;
      found = Object.freeze({
        tenantId: v.alert.tenantId,
        id: v.alert.id,
        lastUpdateTime: v.alert.lastUpdate.text,
        status: v.alert.status,
        version: v.version,
        visibleAt: v.visibleAt,
        // Rendered on first use and kept: responses and tests reuse them.
        get alertsApi() {
          alertsApi ??= deepFreeze(renderAlertsApi(v.alert));
          return alertsApi;
        },
        get graph() {
          graph ??= deepFreeze(renderGraph(v.alert, { evolvable: true }));
          return graph;
        },
      });
      views.set(v, found);
    }
    return found;
  }

  function json(v: StoredVersion, shape: JsonShape): string {
    let cached = texts.get(v);
    if (cached === undefined) {
      cached = {};
      texts.set(v, cached);
    }
    let text = cached[shape];
    if (text === undefined) {
      if (shape === "graph" || shape === "graph-v1") {
        text = JSON.stringify(renderGraph(v.alert, { evolvable: shape === "graph" }));
      } else {
        const rendered = renderAlertsApi(v.alert);
        if (shape === "alerts-api") delete rendered.evidence;
        text = JSON.stringify(rendered);
      }
      cached[shape] = text;
    }
    return text;
  }

  function add(what: number | readonly AlertInput[], opts: AddAlertsOptions = {}): SimAlert[] {
    const t = tenantOf(opts.tenantId);
    const visibleAt = opts.visibleAt ?? Number.NEGATIVE_INFINITY;
    if (typeof what === "number") {
      const to = opts.to ?? clock();
      const from = opts.from ?? to - DEFAULT_SPAN_MS;
      if (!Number.isInteger(what) || what < 0)
        throw invalid("addAlerts: n must be a whole number >= 0", { n: what });
      if (!Number.isFinite(from) || !Number.isFinite(to) || from > to || from < 0) {
        throw invalid("addAlerts: from and to must be times in ms with 0 <= from <= to", { from, to });
      }
      const times = t.generator.spread(what, ticksFromMs(from), ticksFromMs(to), opts.sameTime);
      return times.map((ticks) => view(store(t, t.generator.create(ticks), visibleAt)));
    }
    const nowTicks = ticksFromMs(opts.to ?? clock());
    const ids = new Set<string>();
    what.forEach((input, i) => {
      validateInput(input, i, t.store);
      if (input.id !== undefined && ids.has(input.id)) {
        throw invalid(`addAlerts: alert ${i}: id ${input.id} is given twice`, { index: i });
      }
      if (input.id !== undefined) ids.add(input.id);
    });
    return what.map((input) => view(store(t, t.generator.create(nowTicks, input), visibleAt)));
  }

  function update(id: string, change: AlertChange = {}): SimAlert {
    const candidates = change.tenantId === undefined ? [...made.values()] : [tenantOf(change.tenantId)];
    for (const t of candidates) {
      const latest = t.store.latest(id);
      if (latest === undefined) continue;
      const now: Ticks = ticksFromMs(clock());
      const next = t.generator.apply(latest.alert, change, now);
      const visibleAt = change.visibleAt ?? Number.NEGATIVE_INFINITY;
      const updated = t.store.update(next, visibleAt);
      t.incidents.onAlert(next, visibleAt);
      return view(updated);
    }
    throw new ForwarderError("E_CONFIG_INVALID", `Simulator: no alert ${id}.`, {
      details: { alertId: id, tenantId: change.tenantId, notFound: true },
    });
  }

  function incidentView(v: StoredVersion<IncidentModel>): SimIncident {
    let found = incidentViews.get(v);
    if (found === undefined) {
      let graph: Readonly<Record<string, unknown>> | undefined;
      found = Object.freeze({
        tenantId: v.alert.tenantId,
        id: v.alert.id,
        lastUpdateTime: v.alert.lastUpdate.text,
        status: v.alert.status,
        version: v.version,
        visibleAt: v.visibleAt,
        alertIds: Object.freeze(v.alert.alerts.map((a) => a.id)),
        get graph() {
          graph ??= deepFreeze(renderIncident(v.alert, { evolvable: true, alerts: true }));
          return graph;
        },
      });
      incidentViews.set(v, found);
    }
    return found;
  }

  function incidentJson(v: StoredVersion<IncidentModel>, shape: IncidentShape): string {
    let cached = incidentTexts.get(v);
    if (cached === undefined) {
      cached = {};
      incidentTexts.set(v, cached);
    }
    let text = cached[shape];
    if (text === undefined) {
      const how = { evolvable: !shape.startsWith("incident-v1"), alerts: shape.endsWith("+alerts") };
      text = JSON.stringify(renderIncident(v.alert, how));
      cached[shape] = text;
    }
    return text;
  }

  function updateIncident(id: string, change: IncidentChange = {}): SimIncident {
    const candidates = change.tenantId === undefined ? [...made.values()] : [tenantOf(change.tenantId)];
    for (const t of candidates) {
      const updated = t.incidents.update(id, change, clock());
      if (updated !== undefined) return incidentView(updated);
    }
    throw new ForwarderError("E_CONFIG_INVALID", `Simulator: no incident ${id}.`, {
      details: { incidentId: id, tenantId: change.tenantId, notFound: true },
    });
  }

  return {
    storeOf: (tenantId) => tenantOf(tenantId).store,
    incidentStoreOf: (tenantId) => tenantOf(tenantId).incidents.store,
    updateIncident,
    incidentsOf: (tenantId) => tenantOf(tenantId).incidents.store.all().map(incidentView),
    incidentJson,
    add,
    update,
    all: () => tenants.flatMap((tenant) => tenantOf(tenant.tenantId).store.all().map(view)),
    of: (tenantId) => tenantOf(tenantId).store.all().map(view),
    view,
    json,
    tick(created, updated) {
      const now = clock();
      for (const tenant of tenants) {
        const t = tenantOf(tenant.tenantId);
        if (created > 0) add(created, { tenantId: t.tenantId, from: now, to: now });
        const existing = t.store.all();
        for (let i = 0; i < updated && existing.length > 0; i++) {
          const target = existing[picker.int(0, existing.length - 1)];
          if (target !== undefined) update(target.alert.id, { tenantId: t.tenantId });
        }
      }
    },
  };
}

function validateInput(input: AlertInput, index: number, store: AlertStore): void {
  if (
    input.serviceSource !== undefined &&
    !(ALL_SERVICE_SOURCES as readonly string[]).includes(input.serviceSource)
  ) {
    throw invalid(
      `addAlerts: alert ${index}: serviceSource must be one of ${ALL_SERVICE_SOURCES.join(", ")}`,
      {
        index,
      },
    );
  }
  for (const key of ["lastUpdateTime", "alertCreationTime"] as const) {
    const value = input[key];
    if (value !== undefined && parseTimestamp(value) === undefined) {
      throw invalid(`addAlerts: alert ${index}: ${key} is not a timestamp`, { index });
    }
  }
  if (input.id !== undefined && store.latest(input.id) !== undefined) {
    throw invalid(`addAlerts: alert ${index}: id ${input.id} exists (use updateAlert)`, { index });
  }
}

function invalid(message: string, details: Record<string, string | number | undefined>): ForwarderError {
  return new ForwarderError("E_CONFIG_INVALID", `Simulator: ${message}`, { details });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
