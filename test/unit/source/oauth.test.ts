import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ForwarderError } from "../../../src/errors.js";
import { createSimulator, type Simulator } from "../../../src/simulator/index.js";
import { apiFor, counterValue } from "../../support/source.js";

let now = Date.parse("2026-11-30T08:00:00Z");
const clock = () => now;
let sim: Simulator;

before(async () => {
  sim = await createSimulator({ clock, tokenLifetimeSeconds: 600 });
});
after(() => sim.close());

test("the token is fetched once and cached; concurrent callers share one request", async () => {
  const { tokens, metrics } = apiFor(sim, { clock });
  const issued = sim.tokensIssued;
  const [a, b, c] = await Promise.all([tokens.getToken(), tokens.getToken(), tokens.getToken()]);
  assert.equal(a, b);
  assert.equal(b, c);
  assert.equal(await tokens.getToken(), a);
  assert.equal(sim.tokensIssued - issued, 1);
  assert.equal(
    await counterValue(metrics, "mde_token_requests_total", { tenant: "demo", outcome: "success" }),
    1,
  );
});

test("the token is refreshed shortly before it expires, not after", async () => {
  const { tokens } = apiFor(sim, { clock });
  const first = await tokens.getToken();
  now += 240_000; // 4 of 10 minutes: still cached
  assert.equal(await tokens.getToken(), first);
  now += 70_000; // past half of a short lifetime: refreshed before expiry
  const second = await tokens.getToken();
  assert.notEqual(second, first);
});

test("a rejected secret is a permanent E_AUTH_TOKEN that never shows the secret", async () => {
  const secret = "wrong-secret-value-1234";
  const { tokens, metrics } = apiFor(sim, { clock, tenant: { client_secret: secret } });
  const err = await tokens.getToken().then(
    () => assert.fail("expected a rejection"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ForwarderError);
  assert.equal(err.code, "E_AUTH_TOKEN");
  assert.equal(err.permanent, true);
  assert.match(err.message, /invalid_client/);
  assert.ok(!err.message.includes(secret));
  assert.ok(!JSON.stringify(err.details).includes(secret));
  assert.equal(
    await counterValue(metrics, "mde_token_requests_total", { tenant: "demo", outcome: "rejected" }),
    1,
  );
});

test("a failing token endpoint is retryable E_AUTH_UNAVAILABLE", async () => {
  const { tokens } = apiFor(sim, { clock });
  sim.injectFaults([{ kind: "status", status: 503 }], "token");
  await assert.rejects(tokens.getToken(), (e: unknown) => {
    assert.ok(e instanceof ForwarderError);
    assert.equal(e.code, "E_AUTH_UNAVAILABLE");
    assert.equal(e.errorClass, "retryable");
    return true;
  });
  // The failure is not cached: the next call gets a token.
  assert.ok((await tokens.getToken()).length > 10);
});

test("an expired token is refreshed on a 401 and the call succeeds without a failed poll", async () => {
  const { tokens, api, metrics } = apiFor(sim, { clock });
  sim.generate(3, { from: now - 60_000, to: now - 1_000 });
  const before = await tokens.getToken();
  sim.expireTokens();
  const detections = await api.fetch({
    since: BigInt(now - 3_600_000) * 10_000n,
    until: BigInt(now) * 10_000n,
  });
  assert.ok(detections.length >= 3);
  assert.notEqual(await tokens.getToken(), before);
  assert.equal(await counterValue(metrics, "mde_api_requests_total", { tenant: "demo", status: "401" }), 1);
  assert.equal(await counterValue(metrics, "mde_api_requests_total", { tenant: "demo", status: "200" }), 1);
});
