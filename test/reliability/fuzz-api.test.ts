// Issue 11's fuzz suite: arbitrary JSON as API responses (random shapes and types, deep nesting, huge
// strings, lone surrogates, line separators, numbers where strings are expected, future and ancient
// timestamps), served over real HTTP by a hostile API to the real source, state (SQLite file), formats
// (JSON and CEF) and sink (TCP), to real receivers. Properties, for every response:
//   - the forwarder never stops: no state failure, no exception out of a poll, and the next good detection
//     is delivered after it;
//   - every well-formed detection (an object, within the bounds) is delivered once per destination, the
//     same on both; one with a unique FullId exactly once, others once per distinct content;
//   - every other item is quarantined (its raw text) and counted, once however often it is re-read;
//   - every message is exactly one frame, and parses (JSON as the detection it came from, CEF strictly);
//   - memory stays bounded: a response over the byte cap or the item budget is refused whole
//     (E_API_TOO_LARGE) without reading it all; the checkpoint never passes the poll's end.
// A few seconds by default; `npm run soak` (MDE_SOAK=1) runs many more cases. MDE_SEED picks the seed.
// Peak RSS is measured by `npm run bench -- hostile`, not here.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import fc from "fast-check";
import { buildForwarder } from "../../src/cli/daemon.js";
import { configSchema } from "../../src/config/schema.js";
import type { ForwarderError } from "../../src/errors.js";
import { silentLogger } from "../../src/log.js";
import { formatTimestamp, ticksFromMs } from "../../src/timestamp.js";
import { parseCef } from "../support/cef-parser.js";
import { spawnForwarder } from "../support/forwarder.js";
import { detection, type HostileApi, hostileConfig, startHostileApi } from "../support/hostile-api.js";
import { type Receiver, startReceiver } from "../support/receiver.js";
import { counterValue } from "../support/source.js";
import { SEED, SOAK, stopGracefully } from "./harness.js";

const RUNS = Number(process.env.FC_RUNS ?? (SOAK ? 400 : 12));
const MAX_RESPONSE = 8 * 1_048_576;
const MAX_DEPTH = 64;
const MAX_ITEM_BYTES = 4 * 1_048_576;

// ---------------------------------------------------------------------------------------------------------
// What a response is made of. Times are offsets, resolved when the case is served.

type Time =
  | { kind: "recent"; agoMs: number }
  | { kind: "future"; aheadMs: number }
  | { kind: "fixed"; text: unknown };

type Item =
  | { kind: "detection"; fields: Record<string, unknown>; time: Time }
  | { kind: "mistyped"; value: Record<string, unknown> }
  | { kind: "deep"; depth: number; arrays: boolean }
  | { kind: "not_an_object"; value: unknown }
  | { kind: "huge"; bytes: number };

type Response = { kind: "items"; items: Item[] } | { kind: "not_an_array"; value: unknown };

const tricky = fc.constantFrom(
  "\u2028",
  "\u2029",
  "\u0085",
  "\ud800",
  "\udfff",
  "\r\n",
  "\n",
  "\t",
  "\0",
  "|",
  "=",
  "\\",
  '"',
  "😀",
  "中",
  " ",
);
const text = fc.string({
  unit: fc.oneof(
    { weight: 2, arbitrary: tricky },
    { weight: 3, arbitrary: fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 1 }) },
    { weight: 1, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) },
  ),
  maxLength: 40,
});
const hugeText = fc
  .tuple(text, fc.integer({ min: 20_000, max: 200_000 }))
  .map(([s, n]) => (s.length === 0 ? "x" : s).repeat(Math.ceil(n / Math.max(1, s.length))));
const value = fc.oneof(
  { weight: 4, arbitrary: text },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })) },
  { weight: 1, arbitrary: hugeText },
);
const key = fc.oneof(
  text,
  fc.constantFrom("Severity", "AlertTitle", "Description", "CommandLine", "AlertTime"),
);

const time: fc.Arbitrary<Time> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .integer({ min: 1_000, max: 60 * 60_000 })
      .map((agoMs) => ({ kind: "recent" as const, agoMs })),
  },
  {
    weight: 2,
    arbitrary: fc.oneof(
      fc
        .integer({ min: 1_000, max: 100 * 365 * 86_400_000 })
        .map((aheadMs) => ({ kind: "future" as const, aheadMs })),
      fc.constant({ kind: "fixed" as const, text: "9999-12-31T23:59:59.9999999Z" }),
    ),
  },
  {
    weight: 1,
    arbitrary: fc
      .date({
        min: new Date("0001-01-01T00:00:00Z"),
        max: new Date("1969-12-31T23:59:59Z"),
        noInvalidDate: true,
      })
      .map((d) => ({ kind: "fixed" as const, text: d.toISOString() })),
  },
  {
    weight: 1,
    arbitrary: fc
      .oneof(text, fc.integer(), fc.constant(null))
      .map((t) => ({ kind: "fixed" as const, text: t })),
  },
);

const item: fc.Arbitrary<Item> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .record({ fields: fc.dictionary(key, value, { maxKeys: 8 }), time })
      .map((d) => ({ kind: "detection" as const, ...d })),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({
        value: fc.dictionary(key, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
        fullId: fc.oneof(fc.integer(), fc.constant(null), fc.constant(""), fc.constant(undefined)),
      })
      .map(({ value, fullId }) => {
        const v: Record<string, unknown> = { ...value };
        if (fullId === undefined) delete v.FullId;
        else v.FullId = fullId;
        return { kind: "mistyped" as const, value: v };
      }),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({
        depth: fc.oneof(fc.integer({ min: 60, max: 70 }), fc.integer({ min: 71, max: 8_000 })),
        arrays: fc.boolean(),
      })
      .map((d) => ({ kind: "deep" as const, ...d })),
  },
  {
    weight: 1,
    arbitrary: fc
      .jsonValue({ maxDepth: 2 })
      .filter((v) => typeof v !== "object" || v === null || Array.isArray(v))
      .map((v) => ({ kind: "not_an_object" as const, value: v })),
  },
  { weight: 1, arbitrary: fc.constantFrom(5 * 1_048_576).map((bytes) => ({ kind: "huge" as const, bytes })) },
);

const response: fc.Arbitrary<Response> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.array(item, { maxLength: 25 }).map((items) => ({ kind: "items" as const, items })),
  },
  {
    weight: 1,
    arbitrary: fc
      .jsonValue({ maxDepth: 2 })
      .filter((v) => !Array.isArray(v) && !(typeof v === "object" && v !== null && "value" in v))
      .map((v) => ({ kind: "not_an_array" as const, value: v })),
  },
);

// ---------------------------------------------------------------------------------------------------------
// Serving a response, and what the forwarder must make of it.

interface Served {
  /** The body as sent. */
  body: string;
  /** Detections with a unique string FullId: FullId -> the detection as JSON.parse will read it. */
  byId: Map<string, unknown>;
  /** Objects without a usable FullId, by their content (keys sorted): delivered once per content. */
  byContent: Map<string, unknown>;
  /** The raw text of each distinct item that must be quarantined, cut to 64 KiB. */
  quarantined: Set<string>;
  future: number;
  outcome: "ok" | "E_API_TOO_LARGE" | "E_API_BAD_RESPONSE";
}

/** Key-sorted JSON: the forwarder's content key for detections without FullId treats key order as noise. */
function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(",")}]`;
  if (v !== null && typeof v === "object") {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stable((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v) ?? "null";
}

function nested(depth: number, arrays: boolean): string {
  return arrays
    ? `${"[".repeat(depth)}1${"]".repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
}

function serve(r: Response, caseId: number): Served {
  const served: Served = {
    body: "",
    byId: new Map(),
    byContent: new Map(),
    quarantined: new Set(),
    future: 0,
    outcome: "ok",
  };
  if (r.kind === "not_an_array") {
    served.body = JSON.stringify(r.value);
    served.outcome = "E_API_BAD_RESPONSE";
    return served;
  }
  const now = Date.now();
  const texts = r.items.map((it, i): string => {
    switch (it.kind) {
      case "detection": {
        const id = `fz${caseId}-${i}`;
        const t =
          it.time.kind === "recent"
            ? new Date(now - it.time.agoMs).toISOString()
            : it.time.kind === "future"
              ? new Date(now + it.time.aheadMs).toISOString()
              : it.time.text;
        if (it.time.kind === "future" || t === "9999-12-31T23:59:59.9999999Z") served.future++;
        const d = detection(id, typeof t === "string" ? t : "x", { ...it.fields });
        d.LastProcessedTimeUtc = t;
        d.FullId = id;
        const textOf = JSON.stringify(d);
        if (Buffer.byteLength(textOf) > MAX_ITEM_BYTES) served.quarantined.add(textOf.slice(0, 65_536));
        else served.byId.set(id, JSON.parse(textOf));
        return textOf;
      }
      case "mistyped": {
        const textOf = JSON.stringify(it.value);
        const parsed = JSON.parse(textOf) as unknown;
        served.byContent.set(stable(parsed), parsed);
        return textOf;
      }
      case "deep": {
        const textOf = `{"FullId":"fz${caseId}-${i}","LastProcessedTimeUtc":"${new Date(now - 1_000).toISOString()}","x":${nested(it.depth, it.arrays)}}`;
        // The item itself is one level; its field `x` adds `depth`.
        if (it.depth + 1 > MAX_DEPTH) served.quarantined.add(textOf.slice(0, 65_536));
        else served.byId.set(`fz${caseId}-${i}`, JSON.parse(textOf));
        return textOf;
      }
      case "not_an_object": {
        const textOf = JSON.stringify(it.value);
        served.quarantined.add(textOf);
        return textOf;
      }
      case "huge": {
        const textOf = `{"FullId":"fz${caseId}-${i}","pad":"${"p".repeat(it.bytes)}"}`;
        served.quarantined.add(textOf.slice(0, 65_536));
        return textOf;
      }
    }
    return "null";
  });
  served.body = `[${texts.join(",")}]`;
  if (Buffer.byteLength(served.body) > MAX_RESPONSE) served.outcome = "E_API_TOO_LARGE";
  return served;
}

// ---------------------------------------------------------------------------------------------------------

interface Env {
  api: HostileApi;
  json: Receiver;
  cef: Receiver;
  fatal: ForwarderError[];
  forwarder: ReturnType<typeof buildForwarder>;
  cycle(): Promise<{ status: string; code?: string }>;
  close(): Promise<void>;
}

/** One forwarder with a fresh state per case; close() ends it (t.after too, should the case throw). */
async function environment(t: TestContext): Promise<Env> {
  const dir = mkdtempSync(join(tmpdir(), "mde-fuzz-"));
  const api = await startHostileApi(t);
  const json = await startReceiver({ protocol: "tcp" });
  const cef = await startReceiver({ protocol: "tcp" });
  const raw = hostileConfig({
    api,
    receiverPort: json.port,
    stateDir: dir,
    poll: { max_response_bytes: MAX_RESPONSE, request_timeout: "10s", overlap: "2h" },
    destination: { name: "json", format: "json", syslog_header: "none" },
  });
  raw.destinations = [
    ...(raw.destinations as unknown[]),
    {
      name: "cef",
      format: "cef",
      protocol: "tcp",
      host: "127.0.0.1",
      port: cef.port,
      framing: "octet-counting",
    },
  ];
  const fatal: ForwarderError[] = [];
  const forwarder = buildForwarder(configSchema.parse(raw), {
    log: silentLogger(),
    confirmAfterMs: 20,
    onFatal: (e) => fatal.push(e),
  });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await forwarder.close();
    await json.close();
    await cef.close();
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  };
  t.after(close);
  return {
    close,
    api,
    json,
    cef,
    fatal,
    forwarder,
    async cycle() {
      const [polled] = await forwarder.pipeline.pollOnce();
      const drained = await forwarder.pipeline.drainUntilEmpty(1);
      assert.ok(drained, "every destination drained");
      const result = polled?.result;
      return result?.status === "failed"
        ? { status: "failed", code: result.error.code }
        : { status: result?.status ?? "none" };
    },
  };
}

async function sum(env: Env, name: string): Promise<number> {
  const metric = await env.forwarder.metrics.registry.getSingleMetric(name)?.get();
  return (metric?.values ?? []).reduce((n, v) => n + v.value, 0);
}

test("fuzz: arbitrary API responses through source, state, format and sink", async (t) => {
  let caseId = 0;
  await fc.assert(
    fc.asyncProperty(response, async (r) => {
      caseId++;
      const env = await environment(t);
      try {
        await check(env, serve(r, caseId), caseId);
      } finally {
        await env.close();
      }
    }),
    { numRuns: RUNS, seed: SEED, endOnFailure: true },
  );
});

/** The properties, for one served response (see the top of the file). */
async function check(env: Env, served: Served, caseId: number): Promise<void> {
  env.api.handle((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(served.body);
  });

  const first = await env.cycle();
  if (served.outcome === "ok") assert.equal(first.status, "ok", JSON.stringify(first));
  else assert.deepEqual(first, { status: "failed", code: served.outcome });
  // The overlap reads the same response again: nothing new may come of it.
  if (served.outcome === "ok") assert.equal((await env.cycle()).status, "ok");

  // Still working: the next good detection is delivered. Sent last on both connections, its arrival also
  // means everything sent before it has arrived.
  const fresh = detection(`fresh${caseId}`, new Date(Date.now() - 500).toISOString());
  const freshId = `dafresh${caseId}:hostile`;
  env.api.handle((_req, res) => {
    const body = JSON.stringify([fresh]);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(body);
  });
  assert.equal((await env.cycle()).status, "ok");
  await env.json.waitUntil(() => env.json.messages.some((m) => m.includes(`"${freshId}"`)), "fresh (JSON)");
  await env.cef.waitUntil(() => env.cef.messages.some((m) => m.includes(`cs3=${freshId}`)), "fresh (CEF)");
  assert.deepEqual(env.fatal, [], "no state failure");

  // Delivered once, exactly as received (JSON), and parseable (CEF), one frame each.
  const expected = served.outcome === "ok" ? served.byId.size + served.byContent.size : 0;
  assert.equal(env.json.messages.length, expected + 1, "JSON: one frame per detection, none twice");
  assert.equal(env.cef.messages.length, expected + 1, "CEF: one frame per detection, none twice");
  const seen = new Map<string, number>();
  for (const m of env.json.messages) {
    const parsed = JSON.parse(m) as Record<string, unknown>;
    const id = parsed.FullId;
    if (id === freshId) continue;
    if (typeof id === "string" && served.byId.has(id)) {
      assert.deepEqual(parsed, served.byId.get(id), `detection ${id} arrives as received`);
      seen.set(id, (seen.get(id) ?? 0) + 1);
    } else {
      const content = stable(parsed);
      assert.ok(served.byContent.has(content), `unexpected message ${m.slice(0, 200)}`);
      seen.set(content, (seen.get(content) ?? 0) + 1);
    }
  }
  for (const [k, n] of seen) assert.equal(n, 1, `${k.slice(0, 80)} delivered ${n} times`);
  const cefIds = new Set<string>();
  for (const m of env.cef.messages) {
    const id = parseCef(m).extension.get("cs3");
    if (id !== undefined && served.byId.has(id)) cefIds.add(id);
  }
  if (served.outcome === "ok") {
    assert.deepEqual([...cefIds].sort(), [...served.byId.keys()].sort(), "CEF: every FullId once");
  }

  // Quarantined (once, however often re-read) and counted.
  const rows = env.forwarder.store.quarantined(0, 1_000);
  const want = served.outcome === "ok" ? served.quarantined : new Set<string>();
  assert.deepEqual(new Set(rows.map((q) => q.raw)), want, "the quarantine holds every other item");
  assert.equal(rows.length, want.size, "each once");
  assert.equal(await sum(env, "mde_detections_quarantined_total"), want.size, "and counted");
  if (served.outcome === "ok") {
    const future = await counterValue(env.forwarder.metrics, "mde_detections_future_total", {
      tenant: "hostile",
    });
    assert.ok(future >= served.future, `future-dated counted: ${future} of ${served.future}`);
  }

  // The checkpoint never passes the end of the poll (now).
  const checkpoint = env.forwarder.store.getCheckpoint("hostile");
  if (checkpoint !== undefined) assert.ok(checkpoint <= formatTimestamp(ticksFromMs(Date.now())), checkpoint);
}

test("fuzz: the daemon (`run`, a real process) never exits whatever the API sends", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "mde-fuzz-run-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const api = await startHostileApi(t);
  const rx = await startReceiver({ protocol: "tcp" });
  t.after(() => rx.close());
  const samples = fc.sample(response, { numRuns: SOAK ? 120 : 2, seed: SEED });
  // Between the random ones: the attacks of issue 11 (a deep detection, a future date, a million `{}`).
  const fixed: string[] = [
    `[${JSON.stringify(detection("d1", new Date(Date.now() - 5_000).toISOString()))},{"FullId":"deep","x":${nested(6_000, false)}}]`,
    JSON.stringify([detection("future", "9999-12-31T23:59:59.9999999Z")]),
    `[${"{},".repeat(999_999)}{}]`,
  ];
  const bodies = [...fixed, ...samples.map((s, i) => serve(s, 10_000 + i).body)];
  let served = 0;
  api.handle((_req, res) => {
    const body = bodies[served % bodies.length] ?? "[]";
    served++;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(body);
  });
  const file = join(dir, "forwarder.yaml");
  const raw = hostileConfig({
    api,
    receiverPort: rx.port,
    stateDir: dir,
    poll: { schedule: "* * * * * *", max_response_bytes: MAX_RESPONSE, request_timeout: "5s" },
  });
  writeFileSync(file, JSON.stringify(raw));
  const p = spawnForwarder(["run", "-c", file]);
  t.after(() => p.kill("SIGKILL"));
  const deadline = performance.now() + (SOAK ? 600_000 : 60_000);
  while (served < bodies.length + 1 && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(p.child.exitCode, null, `the daemon exited: ${p.stderr.join("")}`);
  }
  assert.ok(served > bodies.length, `served ${served} of ${bodies.length} responses`);
  await rx.waitUntil(
    () =>
      rx.messages.some((m) => m.includes("dad1:hostile")) &&
      rx.messages.some((m) => m.includes("dafuture:hostile")),
    "the good detections among the bad",
  );
  assert.ok(
    p.logs.some((l) => /quarantined/.test(l.msg)),
    "the deep detection was quarantined",
  );
  assert.ok(!p.logs.some((l) => l.level === "fatal"), "no fatal log line");
  await stopGracefully(p);
});
