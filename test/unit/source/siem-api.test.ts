import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ForwarderError } from "../../../src/errors.js";
import { createSimulator, type Fault, type Simulator } from "../../../src/simulator/index.js";
import { parseTimestamp, TICKS_PER_MS } from "../../../src/timestamp.js";
import { apiFor } from "../../support/source.js";

let sim: Simulator;
const NOW = Date.now();
const since = BigInt(NOW - 3_600_000) * TICKS_PER_MS + 1234n;
const until = BigInt(NOW) * TICKS_PER_MS + 5678n;

before(async () => {
  sim = await createSimulator();
  sim.generate(20, { from: NOW - 1_800_000, to: NOW - 1_000 });
});
after(() => sim.close());

test("the request carries explicit bounds in ms, limit, repeated machinegroups and the tag filters", async () => {
  const { api } = apiFor(sim, {
    tenant: {
      machine_groups: ["UKMachines", "FranceMachines"],
      device_created_machine_tags: "dev-tag",
      cloud_created_machine_tags: "cloud tag",
    },
  });
  await api.fetch({ since, until, limit: 50 });
  const q = sim.requests.at(-1)?.query ?? {};
  assert.equal(q.sinceTimeUtc, new Date(NOW - 3_600_000).toISOString());
  // The upper bound rounds up so the requested range always holds the intended one.
  assert.equal(q.untilTimeUtc, new Date(NOW + 1).toISOString());
  assert.equal(q.limit, "50");
  assert.deepEqual(q.machinegroups, ["UKMachines", "FranceMachines"]);
  assert.equal(q.DeviceCreatedMachineTags, "dev-tag");
  assert.equal(q.CloudCreatedMachineTags, "cloud tag");
  assert.equal(q.ago, undefined);
});

test("detections come back with their 7-digit timestamps intact", async () => {
  const { api } = apiFor(sim);
  const detections = await api.fetch({ since, until });
  assert.equal(detections.length, 20);
  for (const d of detections) {
    assert.match(String(d.LastProcessedTimeUtc), /\.\d{7}Z$/);
    assert.ok(parseTimestamp(d.LastProcessedTimeUtc) !== undefined);
  }
});

async function failure(fault: Fault, timeoutMs?: number): Promise<ForwarderError> {
  const { api } = apiFor(sim, { timeoutMs });
  sim.injectFaults([fault]);
  const err = await api.fetch({ since, until }).then(
    () => assert.fail(`expected ${JSON.stringify(fault)} to fail the call`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ForwarderError, String(err));
  return err;
}

test("403 is permanent E_API_FORBIDDEN", async () => {
  const err = await failure({ kind: "status", status: 403 });
  assert.equal(err.code, "E_API_FORBIDDEN");
  assert.equal(err.permanent, true);
});

test("429 is throttled with the server's Retry-After", async () => {
  const err = await failure({ kind: "status", status: 429, retryAfterSeconds: 42 });
  assert.equal(err.code, "E_API_THROTTLED");
  assert.equal(err.errorClass, "throttled");
  assert.equal(err.retryAfterMs, 42_000);
});

test("500 and 503 are retryable E_API_SERVER", async () => {
  assert.equal((await failure({ kind: "status", status: 500 })).code, "E_API_SERVER");
  const e503 = await failure({ kind: "status", status: 503 });
  assert.equal(e503.code, "E_API_SERVER");
  assert.equal(e503.errorClass, "retryable");
});

test("a body cut mid-array is a network error, never an empty result", async () => {
  const err = await failure({ kind: "cut" });
  assert.equal(err.code, "E_API_NETWORK");
  assert.equal(err.errorClass, "retryable");
});

test("an HTML page with status 200 is E_API_BAD_RESPONSE", async () => {
  const err = await failure({ kind: "html" });
  assert.equal(err.code, "E_API_BAD_RESPONSE");
  assert.match(err.message, /not JSON/);
});

test("a response slower than request_timeout is E_API_TIMEOUT", async () => {
  const err = await failure({ kind: "slow", delayMs: 2_000 }, 300);
  assert.equal(err.code, "E_API_TIMEOUT");
});

test("one 401 gets one fresh token and one retry; a second 401 is E_API_UNAUTHORIZED", async () => {
  const { api } = apiFor(sim);
  await api.fetch({ since, until });
  const tokensBefore = sim.tokensIssued;
  sim.injectFaults([{ kind: "status", status: 401 }]);
  assert.equal((await api.fetch({ since, until })).length, 20);
  assert.equal(sim.tokensIssued, tokensBefore + 1);

  const requestsBefore = sim.requests.filter((r) => r.path === "/api/alerts").length;
  sim.injectFaults([
    { kind: "status", status: 401 },
    { kind: "status", status: 401 },
  ]);
  await assert.rejects(api.fetch({ since, until }), (e: unknown) => {
    assert.ok(e instanceof ForwarderError);
    assert.equal(e.code, "E_API_UNAUTHORIZED");
    assert.equal(e.permanent, true);
    return true;
  });
  assert.equal(sim.requests.filter((r) => r.path === "/api/alerts").length - requestsBefore, 2);
});
