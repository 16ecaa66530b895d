// The simulator's public vocabulary (re-exported by index.ts).
import type { Logger } from "../log.js";
import type { Detection } from "../record.js";

export interface SimTenant {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** Device groups; generated detections spread over them (MachineGroup is "" without). */
  machineGroups?: string[];
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
}

export type Fault =
  | { kind: "status"; status: number; retryAfterSeconds?: number; body?: string }
  | { kind: "slow"; delayMs: number }
  | { kind: "cut" }
  | { kind: "html" };

export type FaultTarget = "alerts" | "token";

export interface ServedRequest {
  path: string;
  query: Record<string, string | string[]>;
  /** HTTP status sent; 0 when no response was sent (client gone, or the simulator closed first). */
  status: number;
  /** Detections delivered in full (0 for a cut response). */
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

export interface SimulatorStats {
  detections: number;
  served: number;
  tokensIssued: number;
  requests: number;
}

export interface Simulator {
  /** http://127.0.0.1:<port>: the API base URL. */
  readonly url: string;
  /** Token endpoint for a tenant: `${url}` is the authority host, so the path is /{tenantId}/oauth2/token. */
  readonly authorityHost: string;
  /** Adds detections (generated, then overridden by each partial), visible now or at `visibleAt` (ms). */
  add(partials: Array<Record<string, unknown>>, options?: AddOptions): Detection[];
  /** Generates n realistic detections (several per alert) with LastProcessedTimeUtc spread over [from, to] (ms). */
  generate(n: number, options?: GenerateOptions): Detection[];
  /** Queues faults applied to the next requests, in order. target "alerts" (default) or "token". */
  injectFaults(faults: Fault[], target?: FaultTarget): void;
  /** Makes every issued token invalid (the API answers 401 until the client fetches a new token). */
  expireTokens(): void;
  /** Every request to the emulated API (not the /_sim control endpoints) with its outcome. */
  readonly requests: readonly ServedRequest[];
  readonly tokensIssued: number;
  /** FullIds of every detection returned by /api/alerts so far (for conservation checks). */
  readonly served: ReadonlySet<string>;
  /** Everything stored, all tenants, in the order added. */
  readonly detections: readonly Detection[];
  close(): Promise<void>;
}
