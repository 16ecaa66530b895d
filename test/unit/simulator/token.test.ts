import assert from "node:assert/strict";
import { test } from "node:test";
import { DEMO_TENANT, type SimTenant } from "../../../src/simulator/index.js";
import {
  alertsRequest,
  credentials,
  getToken,
  manualClock,
  startSimulator,
  statusOf,
  T0,
  tokenRequest,
} from "./helpers.js";

const OTHER: SimTenant = {
  tenantId: "11111111-2222-4333-8444-555555555555",
  clientId: "other-client",
  clientSecret: "0ther-S3cret~value",
};

test("issues a bearer token shaped like Azure AD v1's, numbers as strings", async (t) => {
  const clock = manualClock();
  const sim = await startSimulator(t, { clock: clock.fn, tokenLifetimeSeconds: 3599 });
  const res = await tokenRequest(sim, credentials());
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  assert.equal(res.headers.get("cache-control"), "no-store, no-cache");
  const body = (await res.json()) as Record<string, unknown>;
  assert.deepEqual(Object.keys(body), [
    "token_type",
    "expires_in",
    "ext_expires_in",
    "expires_on",
    "not_before",
    "resource",
    "access_token",
  ]);
  assert.equal(body.token_type, "Bearer");
  assert.equal(body.expires_in, "3599");
  assert.equal(body.ext_expires_in, "0");
  assert.equal(body.expires_on, String(T0 / 1000 + 3599));
  assert.equal(body.not_before, String(T0 / 1000));
  assert.equal(body.resource, "https://graph.windows.net");
  assert.equal(typeof body.access_token, "string");
  assert.ok((body.access_token as string).length >= 40);
  assert.equal(sim.tokensIssued, 1);
  // Tokens are opaque and random: a second one differs.
  assert.notEqual(await getToken(sim), body.access_token);
  assert.equal(sim.tokensIssued, 2);
  assert.deepEqual(
    sim.requests.map((r) => [r.path, r.status]),
    [
      [`/${DEMO_TENANT.tenantId}/oauth2/token`, 200],
      [`/${DEMO_TENANT.tenantId}/oauth2/token`, 200],
    ],
  );
});

test("a wrong secret gets 401 invalid_client AADSTS7000215, and the secret is never echoed", async (t) => {
  const sim = await startSimulator(t, { tenants: [DEMO_TENANT, OTHER] });
  const wrongSecret = "Wr0ng~Secret.value-1234567890";
  const res = await tokenRequest(sim, { ...credentials(OTHER), client_secret: wrongSecret }, OTHER.tenantId);
  assert.equal(res.status, 401);
  const text = await res.text();
  const body = JSON.parse(text) as Record<string, unknown>;
  assert.equal(body.error, "invalid_client");
  assert.match(String(body.error_description), /^AADSTS7000215: Invalid client secret provided/);
  assert.deepEqual(body.error_codes, [7000215]);
  for (const secret of [wrongSecret, OTHER.clientSecret, DEMO_TENANT.clientSecret]) {
    assert.ok(!text.includes(secret), "the error body must not contain a secret");
    assert.ok(!text.includes(encodeURIComponent(secret)));
  }
  // The right secret of another tenant does not work either.
  const cross = await tokenRequest(
    sim,
    { ...credentials(OTHER), client_secret: DEMO_TENANT.clientSecret },
    OTHER.tenantId,
  );
  assert.equal(cross.status, 401);
  assert.ok(!(await cross.text()).includes(DEMO_TENANT.clientSecret));
  assert.equal(sim.tokensIssued, 0);
});

test("unknown tenant, unknown client, missing and unsupported parameters are Azure AD errors", async (t) => {
  const sim = await startSimulator(t);
  const cases: Array<{
    fields: Record<string, string>;
    tenant?: string;
    status: number;
    error: string;
    code: number;
  }> = [
    {
      fields: credentials(),
      tenant: "99999999-0000-4000-8000-000000000000",
      status: 400,
      error: "invalid_request",
      code: 90002,
    },
    {
      fields: { ...credentials(), client_id: "nobody" },
      status: 400,
      error: "unauthorized_client",
      code: 700016,
    },
    { fields: { ...credentials(), grant_type: "" }, status: 400, error: "invalid_request", code: 900144 },
    {
      fields: { ...credentials(), grant_type: "password" },
      status: 400,
      error: "unsupported_grant_type",
      code: 70003,
    },
    { fields: { ...credentials(), client_secret: "" }, status: 401, error: "invalid_client", code: 7000218 },
    { fields: { ...credentials(), resource: "" }, status: 400, error: "invalid_request", code: 900144 },
  ];
  for (const c of cases) {
    const res = await tokenRequest(sim, c.fields, c.tenant);
    assert.equal(res.status, c.status, JSON.stringify(c));
    const text = await res.text();
    const body = JSON.parse(text) as Record<string, unknown>;
    assert.equal(body.error, c.error);
    assert.deepEqual(body.error_codes, [c.code]);
    assert.ok(!text.includes(DEMO_TENANT.clientSecret));
  }
  // A JSON body is not a form: Azure AD sees no grant_type.
  const json = await fetch(`${sim.authorityHost}/${DEMO_TENANT.tenantId}/oauth2/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(credentials()),
  });
  assert.equal(json.status, 400);
  assert.deepEqual(((await json.json()) as { error_codes: number[] }).error_codes, [900144]);
  assert.equal(sim.tokensIssued, 0);
});

test("the API answers 401 without a token, with a bad one, after expiry and after expireTokens()", async (t) => {
  const clock = manualClock();
  const sim = await startSimulator(t, { clock: clock.fn, tokenLifetimeSeconds: 600 });
  sim.generate(3);

  const none = await alertsRequest(sim, undefined);
  assert.equal(none.status, 401);
  assert.match(none.headers.get("www-authenticate") ?? "", /^Bearer/);
  await none.text();
  const bogus = await alertsRequest(sim, "not-a-token");
  assert.equal(bogus.status, 401);
  await bogus.text();
  const basic = await fetch(`${sim.url}/api/alerts`, { headers: { authorization: "Basic ZGVtbzpkZW1v" } });
  assert.equal(basic.status, 401);
  await basic.text();

  const token = await getToken(sim);
  const ok = await alertsRequest(sim, token);
  assert.equal(ok.status, 200);
  assert.equal(((await ok.json()) as unknown[]).length, 3);

  // Still valid one second before the end of its lifetime, invalid at the end.
  clock.now = T0 + 599_000;
  assert.equal(await statusOf(alertsRequest(sim, token)), 200);
  clock.now = T0 + 600_000;
  const expired = await alertsRequest(sim, token);
  assert.equal(expired.status, 401);
  await expired.text();

  const fresh = await getToken(sim);
  assert.equal(await statusOf(alertsRequest(sim, fresh)), 200);
  sim.expireTokens();
  const revoked = await alertsRequest(sim, fresh);
  assert.equal(revoked.status, 401);
  await revoked.text();
  const again = await getToken(sim);
  assert.equal(await statusOf(alertsRequest(sim, again)), 200);
});

test("a token sees only its own tenant's detections", async (t) => {
  const sim = await startSimulator(t, { tenants: [DEMO_TENANT, OTHER] });
  const mine = sim.generate(4, { tenantId: DEMO_TENANT.tenantId });
  const theirs = sim.generate(2, { tenantId: OTHER.tenantId });
  const a = await (await alertsRequest(sim, await getToken(sim, DEMO_TENANT))).json();
  const b = await (await alertsRequest(sim, await getToken(sim, OTHER))).json();
  const ids = (list: unknown) => (list as Array<{ FullId: string }>).map((d) => d.FullId).sort();
  assert.deepEqual(ids(a), ids(mine));
  assert.deepEqual(ids(b), ids(theirs));
  assert.equal(sim.detections.length, 6);
});
