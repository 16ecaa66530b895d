// Issue 16: the overlap in two modes, against the real simulator over HTTP on one injected clock, for every
// source. While the overlap fits one request (every small tenant) each poll reads it whole, so a late
// detection is caught by the next poll, as before. Above that (forced here by max_per_request 5 and a 30 s
// overlap) polls read from the checkpoint minus short_overlap (2 s) and every stretch once more when it is
// `overlap` old (the second look): a detection up to short_overlap late is caught by the next poll, a later
// one by the second look, exactly once; a switch of mode either way and a restart lose nothing.
import assert from "node:assert/strict";
import path from "node:path";
import { type TestContext, test } from "node:test";
import { createLogger, silentLogger } from "../../src/log.js";
import { createMetrics } from "../../src/metrics/definitions.js";
import { createPoller, type TenantPoller } from "../../src/pipeline/poll.js";
import { createSimulator, type Simulator } from "../../src/simulator/index.js";
import { createSource, type Source } from "../../src/source/index.js";
import type { Store } from "../../src/state/index.js";
import { config } from "../support/forwarder.js";
import { openStore, tempDir } from "../unit/state/helpers.js";

type Kind = "siem" | "alerts" | "graph" | "incidents";
const SCHEDULE_MS = 5_000;
const OVERLAP_MS = 30_000;
const MAX_PER_REQUEST = 5;

interface Env {
  sim: Simulator;
  store: Store;
  source: () => Source;
  clock: { now: number };
  /**
   * Adds one item stamped `at` (ms), visible from `visibleAt`; returns its id (for incidents, its alert's:
   * an alert joins an incident, new or not, which is what is stored).
   */
  add(at: number, visibleAt?: number): string;
  /** Adds `n` items, on time, stamped within the last schedule. */
  addOnTime(n: number): void;
  /** How many stored events hold the item (for incidents: versions of its incident holding the alert). */
  stored(id: string): number;
  /** How many times each stored event's id is stored (incidents: their versions are distinct events). */
  storedIds(): Map<string, number>;
}

async function setup(t: TestContext, kind: Kind, maxPerRequest = MAX_PER_REQUEST): Promise<Env> {
  const clock = { now: Date.now() - 3_600_000 };
  const now = () => clock.now;
  const sim = await createSimulator({ seed: 16, clock: now });
  const { dir, remove } = tempDir();
  const store = openStore(path.join(dir, "state.db"), { destinations: ["siem"] });
  t.after(async () => {
    store.close();
    await sim.close();
    remove();
  });
  const apiUrl = kind === "siem" ? sim.url : kind === "alerts" ? sim.alertsApiUrl : sim.graphUrl;
  const cfg = config({
    sim,
    receiverPort: 9,
    stateDir: dir,
    poll: { overlap: "30s", short_overlap: "2s", max_per_request: maxPerRequest },
    tenant: { source: kind, api_url: apiUrl },
  });
  const tenant = cfg.tenants[0];
  assert.ok(tenant);
  const deps = { log: silentLogger(), metrics: createMetrics({ defaultMetrics: false }), clock: now };
  const source = () => createSource({ tenant, poll: cfg.poll }, deps);
  const storedIds = () => {
    const counts = new Map<string, number>();
    for (const b of bodies()) {
      const id = String(
        kind === "siem" ? b.FullId : kind === "incidents" ? `${b.id}@${b.lastUpdateDateTime}` : b.id,
      );
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    return counts;
  };
  const add = (at: number, visibleAt?: number): string => {
    if (kind === "siem") {
      const [d] = sim.add([{ LastProcessedTimeUtc: new Date(at).toISOString() }], { visibleAt });
      return String(d?.FullId);
    }
    const [alert] = sim.addAlerts(1, { from: at, to: at, visibleAt });
    assert.ok(alert);
    return alert.id;
  };
  const bodies = () =>
    store.next("siem", 0, 100_000).map((e) => JSON.parse(e.body) as Record<string, unknown>);
  return {
    sim,
    store,
    source,
    clock,
    add,
    addOnTime(n) {
      for (let i = 0; i < n; i++) add(clock.now - SCHEDULE_MS + 1 + Math.floor(((SCHEDULE_MS - 2) * i) / n));
    },
    stored(id) {
      if (kind !== "incidents") return storedIds().get(id) ?? 0;
      return bodies().filter(
        (b) => Array.isArray(b.alerts) && b.alerts.some((a) => (a as { id?: unknown }).id === id),
      ).length;
    },
    storedIds,
  };
}

interface Poller {
  readonly poller: TenantPoller;
  /** The `overlap` of each finished poll's log line: `whole` or `second look`. */
  readonly modes: string[];
}

function pollerOf(env: Env): Poller {
  const modes: string[] = [];
  const log = createLogger({
    level: "info",
    destination: {
      write(line: string) {
        const entry = JSON.parse(line) as { msg?: string; overlap?: string };
        if (entry.msg === "Poll finished.") modes.push(String(entry.overlap));
      },
    },
  });
  const poller = createPoller(
    env.source(),
    { maxOutbox: 1_000_000 },
    {
      log,
      metrics: createMetrics({ defaultMetrics: false }),
      store: env.store,
      clock: () => env.clock.now,
    },
  );
  return { poller, modes };
}

/** Advances the clock one schedule, adds `onTime` items stamped within it, polls; whether it read the whole overlap. */
async function tick(env: Env, p: Poller, onTime: number): Promise<boolean> {
  env.clock.now += SCHEDULE_MS;
  env.addOnTime(onTime);
  const result = await p.poller.poll();
  assert.equal(result.status, "ok", JSON.stringify(result));
  const mode = p.modes.at(-1);
  assert.ok(mode === "whole" || mode === "second look", String(mode));
  return mode === "whole";
}

for (const kind of ["siem", "alerts", "graph", "incidents"] as const) {
  test(`issue 16 (${kind}): above one request, a detection short_overlap/2 late is caught by the next poll, one 12 s late by the second look, once`, async (t) => {
    const env = await setup(t, kind);
    const poller = pollerOf(env);
    // 8 a schedule: the overlap holds 48, more than max_per_request (5). The first poll (no checkpoint yet)
    // reads the lookback and measures it; then second looks.
    for (let i = 0; i < 3; i++) await tick(env, poller, 8);
    assert.deepEqual(poller.modes, ["whole", "second look", "second look"]);

    // Stamped before the last poll's end, visible 1 s after its time: the next poll's short overlap has it.
    const slight = env.add(env.clock.now - 500, env.clock.now + 500);
    // Stamped 10 s ago, visible in 2 s: 12 s late, more than short_overlap.
    const stampedAt = env.clock.now - 10_000;
    const late = env.add(stampedAt, env.clock.now + 2_000);
    assert.equal(await tick(env, poller, 8), false);
    assert.equal(env.stored(slight), 1, "the next poll caught the slightly late one");
    let polls = 1;
    while (env.clock.now + SCHEDULE_MS < stampedAt + OVERLAP_MS) {
      assert.equal(await tick(env, poller, 8), false, "a second-look poll");
      polls++;
      // The SIEM API reads [since, until]; the Alerts API and Graph read pages past a second look's end up
      // to the first that reaches it, which at 5 a page stay short of it. An alert that joins an incident
      // updates it at once (the incident is not late), so that one can come sooner.
      if (kind !== "incidents") assert.equal(env.stored(late), 0, `short poll ${polls} caught it`);
    }
    // The second look comes around within one schedule once it is `overlap` old.
    await tick(env, poller, 8);
    assert.ok(env.stored(late) >= 1, "the second look caught it");
    assert.ok(env.clock.now - stampedAt <= OVERLAP_MS + SCHEDULE_MS);
    for (let i = 0; i < 3; i++) await tick(env, poller, 8);
    for (const [id, n] of env.storedIds()) assert.equal(n, 1, `${id} stored once`);
    if (kind !== "incidents") assert.equal(env.stored(late), 1);
  });
}

test("issue 16: low -> high -> low volume loses nothing, and a late detection at low volume is caught by the next poll", async (t) => {
  // max_per_request 12: one on time a schedule (and a late one every third) fits, 20 a schedule does not.
  const env = await setup(t, "siem", 12);
  const poller = pollerOf(env);
  const late: string[] = [];
  /** A late one: stamped `lateMs - 1 s` ago, visible in 1 s. */
  const addLate = (lateMs: number) => {
    const id = env.add(env.clock.now - lateMs + 1_000, env.clock.now + 1_000);
    late.push(id);
    return id;
  };
  // Late ones of every kind while the mode changes: slightly late, past short_overlap, near the overlap;
  // at low volume one every third schedule.
  const lateness = [1_000, 12_000, 25_000];
  const run = async (ticks: number, onTime: number) => {
    const modes: boolean[] = [];
    for (let i = 0; i < ticks; i++) {
      if (onTime > 1) for (const ms of lateness) addLate(ms);
      else if (i % 3 === 0) addLate(lateness[(i / 3) % 3] as number);
      modes.push(await tick(env, poller, onTime));
    }
    return modes;
  };

  // Low: every poll reads the overlap whole.
  const low = await run(6, 1);
  assert.ok(
    low.every((whole) => whole),
    `low: ${low}`,
  );
  const lateLow = addLate(20_000);
  assert.equal(await tick(env, poller, 1), true);
  assert.equal(env.stored(lateLow), 1, "at low volume a 20 s late one is caught by the next poll");

  // High: 20 a schedule; once a poll measured it, second looks.
  const high = await run(12, 20);
  assert.ok(
    high.slice(2).every((whole) => !whole),
    `high: ${high}`,
  );

  // Low again: the second look stays on while the burst is within checkpoint - overlap, then whole.
  const after = await run(14, 1);
  assert.equal(after[0], false, `low again: ${after}`);
  assert.equal(after.at(-1), true, `low again: ${after}`);
  const lateAfter = addLate(20_000);
  assert.equal(await tick(env, poller, 1), true);
  assert.equal(env.stored(lateAfter), 1, "whole again: caught by the next poll");

  const ids = env.storedIds();
  assert.equal(
    ids.size,
    env.sim.detections.length,
    `all ${env.sim.detections.length} stored (${late.length} late)`,
  );
  for (const id of late) assert.equal(env.stored(id), 1, `${id} stored once`);
  for (const [id, n] of ids) assert.equal(n, 1, `${id} stored once`);
});

test("issue 16: a tenant gone quiet after a burst stays on the second look and reads next to nothing", async (t) => {
  const env = await setup(t, "siem");
  const poller = pollerOf(env);
  for (let i = 0; i < 8; i++) await tick(env, poller, 8);
  const served = () =>
    env.sim.requests.reduce((n, r) => n + (r.path.startsWith("/api/alerts") ? r.count : 0), 0);
  // Past the burst's second looks.
  for (let i = 0; i < 8; i++) await tick(env, poller, 0);
  const before = served();
  const modes: boolean[] = [];
  for (let i = 0; i < 12; i++) modes.push(await tick(env, poller, 0));
  assert.ok(
    modes.every((whole) => !whole),
    `${modes}`,
  );
  assert.equal(served() - before, 0, "no re-read of the burst's last overlap");
  // A late one still comes in by its second look.
  const late = env.add(env.clock.now - 10_000, env.clock.now + 1_000);
  for (let i = 0; i < 6; i++) await tick(env, poller, 0);
  assert.equal(env.stored(late), 1);
});

test("issue 16: after a restart the first poll reads the whole overlap (the settled point is not kept)", async (t) => {
  const env = await setup(t, "siem");
  let poller = pollerOf(env);
  for (let i = 0; i < 3; i++) await tick(env, poller, 8);
  const stampedAt = env.clock.now - 10_000;
  const late = env.add(stampedAt, env.clock.now + 2_000);
  for (let i = 0; i < 2; i++) assert.equal(await tick(env, poller, 8), false);
  assert.equal(env.stored(late), 0);
  // A new process: same state, same source settings, a new poller.
  poller = pollerOf(env);
  const before = env.sim.requests.length;
  assert.equal(await tick(env, poller, 8), true, "whole");
  assert.equal(env.stored(late), 1, "the first poll after the restart caught it");
  // Its requests reached back the whole overlap before the checkpoint.
  const first = env.sim.requests.slice(before).find((r) => r.path.startsWith("/api/alerts"));
  assert.ok(first);
  const since = Date.parse(String(first.query.sinceTimeUtc));
  assert.ok(env.clock.now - since >= OVERLAP_MS, `${env.clock.now - since} ms back`);
  // And the next ones are second looks again.
  assert.equal(await tick(env, poller, 8), false);
});

test("issue 16 settle: between second-look polls the SIEM API serves each on-time detection twice, fresh and at its second look", async (t) => {
  // max_per_request 10: a schedule's 8 fit one request (no split re-reads), the overlap's 48 do not.
  const env = await setup(t, "siem", 10);
  const poller = pollerOf(env);
  // Past the first second looks (30 s overlap, 5 s schedule) and the mode switch's short overlap.
  for (let i = 0; i < 10; i++) await tick(env, poller, 8);
  const served = () =>
    env.sim.requests.reduce((n, r) => n + (r.path.startsWith("/api/alerts") ? r.count : 0), 0);
  const before = served();
  const modes: boolean[] = [];
  for (let i = 0; i < 6; i++) modes.push(await tick(env, poller, 8));
  assert.ok(
    modes.every((whole) => !whole),
    `${modes}`,
  );
  // 48 made in these six schedules, read fresh; the second looks read six earlier schedules' 48 again.
  assert.equal(served() - before, 96, "nothing re-read but by the second look");
  for (const [id, n] of env.storedIds()) assert.equal(n, 1, `${id} stored once`);
});

test("issue 16: a tenant gone quiet: the second looks over its last busy stretch are still cut to its density", async (t) => {
  // max_per_request 50 and 60 a schedule: a whole schedule does not fit one request, so every window is cut
  // to the density the reads measured. Then nothing new: the fresh windows come back empty (and would widen a
  // shared estimate fourfold each), while the second looks still read the busy stretch.
  const limit = 50;
  const env = await setup(t, "siem", limit);
  const poller = pollerOf(env);
  for (let i = 0; i < 12; i++) await tick(env, poller, 60);
  const from = env.sim.requests.length;
  for (let i = 0; i < 10; i++) await tick(env, poller, 0);
  const full = env.sim.requests
    .slice(from)
    .filter((r) => r.path.startsWith("/api/alerts") && r.count >= limit)
    .map((r) => `${String(r.query.sinceTimeUtc)} .. ${String(r.query.untilTimeUtc)}: ${r.count}`);
  assert.deepEqual(full, [], "no second look came back full and was read again in halves");
  for (const [id, n] of env.storedIds()) assert.equal(n, 1, `${id} stored once`);
  assert.equal(env.storedIds().size, env.sim.detections.length);
});
