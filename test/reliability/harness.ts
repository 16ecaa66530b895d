// The reliability gauntlet's harness: the real forwarder process (`run`) between the simulator and a
// receiver, a seeded random source for fault instants, and the two properties every scenario checks:
//   conservation: every detection the simulator holds arrives at the receiver at least once;
//   liveness: after the faults stop, new detections arrive within two polls.
// Duplicates are counted, and each must be an event that was in flight at a fault (a crash or a lost
// connection): one that had arrived at least once yet was still unacknowledged in the outbox then. Their
// count is bounded by the sum of those sets.
import assert from "node:assert/strict";
import { appendFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import Database from "better-sqlite3";
import { createSimulator, type Simulator, type SimulatorOptions } from "../../src/simulator/index.js";
import { parseCef } from "../support/cef-parser.js";
import {
  type ForwarderProcess,
  rawConfig,
  type SpawnOptions,
  spawnForwarder,
  writeConfig,
} from "../support/forwarder.js";
import { type Receiver, type ReceiverOptions, startReceiver } from "../support/receiver.js";
import { makeTestPki, type TestPki } from "../support/tls-certs.js";

/** `npm run soak` sets MDE_SOAK=1: the same scenarios, longer. */
export const SOAK = process.env.MDE_SOAK === "1";
export const SEED = Number(process.env.MDE_SEED ?? 20261130);
/** Polls run every 2 s in these scenarios; liveness allows two polls plus the send. */
export const POLL_SECONDS = 2;
export const LIVENESS_MS = 2 * POLL_SECONDS * 1000 + 1500;

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function between(random: () => number, min: number, max: number): number {
  return Math.floor(min + random() * (max - min));
}

/** Counts arrivals per FullId as messages come in (incrementally: scenarios see thousands). */
export class Ledger {
  readonly counts = new Map<string, number>();
  /** The FullId of every arrival after the first. */
  readonly duplicateIds: string[] = [];
  private seen = 0;

  constructor(private readonly rx: Receiver) {}

  update(): this {
    const { messages } = this.rx;
    for (; this.seen < messages.length; this.seen++) {
      const id = parseCef(messages[this.seen] ?? "").extension.get("cs3") ?? "";
      const count = this.counts.get(id) ?? 0;
      if (count > 0) this.duplicateIds.push(id);
      this.counts.set(id, count + 1);
    }
    return this;
  }

  missing(ids: Iterable<string>): string[] {
    this.update();
    return [...ids].filter((id) => !this.counts.has(id));
  }

  get duplicates(): number {
    this.update();
    return this.duplicateIds.length;
  }
}

export interface EnvOptions {
  protocol?: "tcp" | "tls";
  sim?: SimulatorOptions;
  poll?: Record<string, unknown>;
  state?: Record<string, unknown>;
  destination?: Record<string, unknown>;
  metrics?: boolean;
  log?: string;
}

export interface Env {
  readonly dir: string;
  readonly sim: Simulator;
  readonly rx: Receiver;
  readonly ledger: Ledger;
  readonly configFile: string;
  readonly pki: TestPki | undefined;
  /** Every crash or lost connection the scenario caused, with what was in flight then. */
  readonly faults: Fault[];
  /**
   * Records a fault: call it right after the crash (the process has exited) or the connection loss.
   * Snapshots the events still unacknowledged in the outbox that had already arrived: in flight.
   */
  fault(): void;
  /** Starts `mde-forwarder run` with the scenario's config. */
  start(args?: string[], env?: Record<string, string>, options?: SpawnOptions): ForwarderProcess;
  /** Adds `n` detections per `everyMs` until stopped, with LastProcessedTimeUtc = now. */
  feed(n: number, everyMs: number): () => void;
  /** Every FullId the simulator holds. */
  allIds(): string[];
}

export async function createEnv(t: TestContext, options: EnvOptions = {}): Promise<Env> {
  const dir = mkdtempSync(join(tmpdir(), "mde-reliability-"));
  const sim = await createSimulator({ seed: SEED, ...options.sim });
  const pki = options.protocol === "tls" ? makeTestPki() : undefined;
  const rxOptions: ReceiverOptions =
    options.protocol === "tls" && pki
      ? { protocol: "tls", tls: { cert: pki.server.cert, key: pki.server.key } }
      : { protocol: "tcp" };
  const rx = await startReceiver(rxOptions);
  const processes: ForwarderProcess[] = [];
  const feeders = new Set<NodeJS.Timeout>();
  const raw = rawConfig({
    sim,
    receiverPort: rx.port,
    stateDir: dir,
    protocol: options.protocol ?? "tcp",
    poll: { schedule: `*/${POLL_SECONDS} * * * * *`, overlap: "1m", ...options.poll },
    state: options.state,
    destination: {
      ...(pki ? { tls: { ca_file: pki.caFile, server_name: "localhost" } } : {}),
      ...options.destination,
    },
  });
  const configFile = writeConfig(dir, {
    ...raw,
    metrics: options.metrics ? { host: "127.0.0.1", port: 0 } : { enabled: false },
    log: { level: options.log ?? "info" },
  });
  const ledger = new Ledger(rx);
  const faults: Fault[] = [];
  t.after(async () => {
    for (const f of feeders) clearInterval(f);
    if (process.env.MDE_DEBUG_LOGS) {
      for (const [i, p] of processes.entries()) {
        for (const line of p.logs.slice(-Number(process.env.MDE_DEBUG_LOGS))) {
          process.stderr.write(`[forwarder ${i}] ${JSON.stringify(line)}\n`);
        }
      }
    }
    for (const p of processes) p.kill("SIGKILL");
    await Promise.all(processes.map((p) => p.exit));
    await rx.close();
    await sim.close();
    pki?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir,
    sim,
    rx,
    ledger,
    configFile,
    pki,
    faults,
    fault() {
      ledger.update();
      const pending = pendingKeys(join(dir, "state.db"));
      const inFlight = new Set([...pending].filter((id) => ledger.counts.has(id)));
      faults.push({ at: performance.now(), inFlight });
    },
    start(args = ["run", "-c", configFile], env = {}, spawnOptions = {}) {
      const p = spawnForwarder(args, env, spawnOptions);
      processes.push(p);
      return p;
    },
    feed(n, everyMs) {
      const timer = setInterval(() => sim.generate(n, { from: Date.now() - 5, to: Date.now() }), everyMs);
      feeders.add(timer);
      return () => {
        clearInterval(timer);
        feeders.delete(timer);
      };
    },
    allIds() {
      return sim.detections.map((d) => String(d.FullId));
    },
  };
}

/** Resolves once every id has arrived; on timeout, fails with how many are missing. */
export async function waitForConservation(
  env: Env,
  ids: readonly string[],
  timeoutMs = 60_000,
): Promise<void> {
  const pending = new Set(ids);
  const drop = () => {
    env.ledger.update();
    for (const id of [...pending]) if (env.ledger.counts.has(id)) pending.delete(id);
    return pending.size === 0;
  };
  if (drop()) return;
  await env.rx
    .waitUntil(() => drop(), `all ${ids.length} detections (conservation)`, timeoutMs)
    .catch((err: unknown) => {
      const sample = [...pending].slice(0, 3).join(", ");
      throw new Error(
        `conservation failed: ${pending.size} of ${ids.length} never arrived (e.g. ${sample}); ${err}`,
      );
    });
}

/** Liveness: detections added now arrive within two polls. Returns how long they took. */
export async function checkLiveness(env: Env, count = 5): Promise<number> {
  const fresh = env.sim
    .generate(count, { from: Date.now() - 10, to: Date.now() })
    .map((d) => String(d.FullId));
  const started = performance.now();
  await waitForConservation(env, fresh, LIVENESS_MS);
  return performance.now() - started;
}

export interface ScenarioReport {
  scenario: string;
  served: number;
  delivered: number;
  lost: number;
  duplicated: number;
  faults: number;
  livenessMs?: number;
  [extra: string]: number | string | undefined;
}

/** Checks the duplicate rule, then reports the scenario's figures (and appends them to MDE_RELIABILITY_REPORT). */
export function report(
  t: TestContext,
  env: Env,
  scenario: string,
  extra: Partial<ScenarioReport> = {},
): ScenarioReport {
  env.ledger.update();
  const ids = env.allIds();
  const lost = env.ledger.missing(ids).length;
  const inFlightAtFaults = new Set(env.faults.flatMap((f) => [...f.inFlight]));
  const bound = env.faults.reduce((n, f) => n + f.inFlight.size, 0);
  const stray = env.ledger.duplicateIds.filter((id) => !inFlightAtFaults.has(id));
  const result: ScenarioReport = {
    scenario,
    served: env.sim.served.size,
    delivered: ids.length - lost,
    lost,
    duplicated: env.ledger.duplicates,
    faults: env.faults.length,
    inFlightAtFaults: bound,
    seed: SEED,
    ...extra,
  };
  t.diagnostic(JSON.stringify(result));
  if (process.env.MDE_RELIABILITY_REPORT) {
    appendFileSync(process.env.MDE_RELIABILITY_REPORT, `${JSON.stringify(result)}\n`);
  }
  assert.equal(lost, 0, "no detection lost");
  assert.equal(stray.length, 0, `${stray.length} duplicates that were not in flight at any fault`);
  assert.ok(
    result.duplicated <= bound,
    `duplicates (${result.duplicated}) within what was in flight (${bound})`,
  );
  return result;
}

/** Waits for the process to exit after SIGTERM; asserts a clean exit within 10 s. */
export async function stopGracefully(p: ForwarderProcess): Promise<number> {
  const started = performance.now();
  p.kill("SIGTERM");
  const { code } = await p.exit;
  const took = performance.now() - started;
  assert.equal(code, 0, `exit code after SIGTERM (stderr: ${p.stderr.join("")})`);
  assert.ok(took < 10_000, `stopped within 10 s (took ${Math.round(took)} ms)`);
  return took;
}

/** Polls `predicate` every 10 ms (for state outside this process, which emits no event) until it holds. */
export async function until(predicate: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface Fault {
  at: number;
  /** FullIds unacknowledged in the outbox at the fault that had already arrived at least once. */
  inFlight: Set<string>;
}

/** FullIds still in the outbox (read-only, beside a running or dead forwarder). */
export function pendingKeys(file: string): Set<string> {
  if (!existsSync(file)) return new Set();
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare("SELECT e.key AS key FROM outbox o JOIN event e ON e.id = o.event_id")
      .all() as Array<{ key: string }>;
    return new Set(rows.map((r) => r.key));
  } finally {
    db.close();
  }
}
