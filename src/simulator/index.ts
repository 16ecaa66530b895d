// The bundled MDE SIEM API simulator: token endpoint + GET /api/alerts on one loopback HTTP server,
// with realistic generated detections, injectable faults and /_sim control endpoints. It serves the
// demo, the integration tests, and users who want to see what their SIEM makes of the events.
import { ForwarderError } from "../errors.js";
import { silentLogger } from "../log.js";
import type { Detection } from "../record.js";
import { parseTimestamp, type Ticks, ticksFromMs } from "../timestamp.js";
import { createControlHandler } from "./control.js";
import { createDetectionGenerator, type DetectionGenerator } from "./detections.js";
import { createFaultQueue, faultSchema } from "./faults.js";
import { hashString } from "./random.js";
import { createSimServer } from "./server.js";
import { createDetectionStore } from "./store.js";
import { createTokenIssuer } from "./tokens.js";
import type { Fault, FaultTarget, ServedRequest, SimTenant, Simulator, SimulatorOptions } from "./types.js";

export { DETECTION_KEYS } from "./detections.js";
export type {
  AddOptions,
  Fault,
  FaultTarget,
  GenerateOptions,
  ServedRequest,
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
  const log = (options.log ?? silentLogger()).child({ module: "simulator" });
  validateOptions({ port, tenants, lifetime, rate, seed });

  const tokens = createTokenIssuer({ tenants, lifetimeSeconds: lifetime, clock });
  const store = createDetectionStore();
  const faults = createFaultQueue();
  const served = new Set<string>();
  const requests: ServedRequest[] = [];
  // One generator per tenant, seeded from (seed, tenantId): a tenant's detections do not depend
  // on what happens to the other tenants.
  const generators = new Map<string, DetectionGenerator>(
    tenants.map((t) => [
      t.tenantId,
      createDetectionGenerator({
        seed: (seed ^ hashString(t.tenantId)) >>> 0,
        machineGroups: t.machineGroups,
      }),
    ]),
  );

  function tenantOf(tenantId: string | undefined): { id: string; generator: DetectionGenerator } {
    const tenant =
      tenantId === undefined
        ? tenants[0]
        : tenants.find((t) => t.tenantId.toLowerCase() === tenantId.toLowerCase());
    const generator = tenant && generators.get(tenant.tenantId);
    if (tenant === undefined || generator === undefined) {
      throw new ForwarderError("E_CONFIG_INVALID", `The simulator has no tenant ${tenantId}.`, {
        details: { tenantId },
      });
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
    if (target !== "alerts" && target !== "token")
      throw invalid("injectFaults: target is alerts or token", {});
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
    },
    log,
  );

  const server = createSimServer({ log, clock, tokens, store, faults, served, requests, control });
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
  const url = `http://${urlHost(host)}:${address.port}`;

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

  log.info({ url, tenants: tenants.length, ratePerMinute: rate }, "Simulator listening.");

  let closing: Promise<void> | undefined;
  return {
    url,
    authorityHost: url,
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
    detections: store.all,
    close() {
      if (arrival !== undefined) clearInterval(arrival);
      arrival = undefined;
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
