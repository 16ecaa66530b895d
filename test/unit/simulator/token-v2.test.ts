import assert from "node:assert/strict";
import { createHash, generateKeyPairSync, X509Certificate } from "node:crypto";
import { after, before, test } from "node:test";
import { ForwarderError } from "../../../src/errors.js";
import { createSimulator, DEMO_TENANT, type SimTenant } from "../../../src/simulator/index.js";
import { hasOpenssl, makeTestPki, type TestPki } from "../../support/tls-certs.js";
import {
  ALERTS_API_SCOPE,
  alertsRequest,
  GRAPH_SCOPE,
  getV2Token,
  graphRequest,
  manualClock,
  mdeRequest,
  startSimulator,
  statusOf,
  T0,
  tokenRequest,
  v2Credentials,
  v2TokenRequest,
} from "./helpers.js";
import { signAssertion, thumbprintS256 } from "./jwt.js";

const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const noOpenssl = !hasOpenssl() && "the openssl CLI is needed to make certificates";

let pki: TestPki | undefined;
before(() => {
  if (!noOpenssl) pki = makeTestPki({ rsaClient: true });
});
after(() => pki?.cleanup());

function certTenant(): SimTenant & { key: string; cert: string } {
  const pair = pki?.rsaClient;
  assert.ok(pair);
  return {
    tenantId: "33333333-0000-4000-8000-000000000000",
    clientId: "cert-client",
    clientSecret: "unused-secret",
    clientCertificatePem: pair.cert,
    key: pair.key,
    cert: pair.cert,
  };
}

async function assertionSim(t: Parameters<typeof startSimulator>[0]) {
  const clock = manualClock();
  const tenant = certTenant();
  const sim = await startSimulator(t, { clock: clock.fn, tenants: [DEMO_TENANT, tenant] });
  const aud = sim.tokenUrl(tenant.tenantId);
  const assertion = (o: Partial<Parameters<typeof signAssertion>[0]> = {}) =>
    signAssertion({
      key: tenant.key,
      cert: tenant.cert,
      clientId: tenant.clientId,
      aud,
      now: clock.now,
      ...o,
    });
  const request = (clientAssertion: string, scope = GRAPH_SCOPE, extra: Record<string, string> = {}) =>
    v2TokenRequest(
      sim,
      {
        grant_type: "client_credentials",
        client_id: tenant.clientId,
        scope,
        client_assertion_type: JWT_BEARER,
        client_assertion: clientAssertion,
        ...extra,
      },
      tenant.tenantId,
    );
  return { sim, clock, tenant, aud, assertion, request };
}

/** An Azure AD refusal: status, error, AADSTS code, and no trace of the assertion in the body. */
async function refused(res: Response, status: number, error: string, code: number, assertion?: string) {
  assert.equal(res.status, status);
  const text = await res.text();
  const body = JSON.parse(text) as { error: string; error_codes: number[]; error_description: string };
  assert.equal(body.error, error, text);
  assert.deepEqual(body.error_codes, [code], text);
  assert.match(body.error_description, new RegExp(`^AADSTS${code}: `));
  if (assertion !== undefined) {
    for (const part of assertion.split(".")) assert.ok(!text.includes(part), "the assertion is never echoed");
  }
}

test("v2 with a secret: numbers as numbers, no resource, one token per scope", async (t) => {
  const clock = manualClock();
  const sim = await startSimulator(t, { clock: clock.fn, tokenLifetimeSeconds: 3599 });
  const res = await v2TokenRequest(sim, v2Credentials(GRAPH_SCOPE));
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("cache-control"), "no-store, no-cache");
  const body = (await res.json()) as Record<string, unknown>;
  assert.deepEqual(Object.keys(body), ["token_type", "expires_in", "ext_expires_in", "access_token"]);
  assert.equal(body.token_type, "Bearer");
  assert.equal(body.expires_in, 3599);
  assert.equal(body.ext_expires_in, 3599);
  assert.equal(sim.tokenUrl(), `${sim.url}/${DEMO_TENANT.tenantId}/oauth2/v2.0/token`);
  // The token works where its scope points, and expires like a v1 one.
  const token = String(body.access_token);
  assert.equal(await statusOf(graphRequest(sim, token)), 200);
  clock.now = T0 + 3_599_000;
  assert.equal(await statusOf(graphRequest(sim, token)), 401);
  assert.equal(sim.tokensIssued, 1);
});

test("v2 refuses scopes Azure AD refuses, with its codes", async (t) => {
  const sim = await startSimulator(t);
  const cases: Array<{ scope: string | undefined; status: number; error: string; code: number }> = [
    { scope: undefined, status: 400, error: "invalid_request", code: 900144 },
    {
      scope: "https://graph.microsoft.com/SecurityAlert.Read.All",
      status: 400,
      error: "invalid_scope",
      code: 1002012,
    },
    { scope: `${GRAPH_SCOPE} ${ALERTS_API_SCOPE}`, status: 400, error: "invalid_scope", code: 70011 },
    { scope: "https://example.invalid/.default", status: 400, error: "invalid_resource", code: 500011 },
  ];
  for (const c of cases) {
    const fields = v2Credentials(c.scope ?? "");
    if (c.scope === undefined) delete fields.scope;
    await refused(await v2TokenRequest(sim, fields), c.status, c.error, c.code);
  }
  // Secret errors are the v1 ones.
  await refused(
    await v2TokenRequest(sim, { ...v2Credentials(GRAPH_SCOPE), client_secret: "wrong" }),
    401,
    "invalid_client",
    7000215,
  );
  await refused(
    await v2TokenRequest(sim, { ...v2Credentials(GRAPH_SCOPE), client_secret: "" }),
    401,
    "invalid_client",
    7000218,
  );
  assert.equal(sim.tokensIssued, 0);
  // Scopes (like resources) are case-insensitive and may carry a trailing slash before /.default.
  assert.ok((await getV2Token(sim, "HTTPS://Graph.Microsoft.com//.default")).startsWith("sim."));
});

test("each API accepts only tokens issued for it", async (t) => {
  const sim = await startSimulator(t);
  sim.addAlerts(2);
  sim.generate(2);
  const graph = await getV2Token(sim, GRAPH_SCOPE);
  const alerts = await getV2Token(sim, ALERTS_API_SCOPE);
  const siemV2 = await getV2Token(sim, "https://graph.windows.net/.default");
  assert.equal(await statusOf(graphRequest(sim, graph)), 200);
  assert.equal(await statusOf(mdeRequest(sim, graph)), 401, "a Graph token is refused by the Alerts API");
  assert.equal(await statusOf(alertsRequest(sim, graph)), 401, "and by the SIEM API");
  assert.equal(await statusOf(mdeRequest(sim, alerts)), 200);
  assert.equal(await statusOf(graphRequest(sim, alerts)), 401);
  assert.equal(await statusOf(alertsRequest(sim, alerts)), 401);
  assert.equal(await statusOf(alertsRequest(sim, siemV2)), 200, "a v2 token for the SIEM API's resource");
  assert.equal(await statusOf(mdeRequest(sim, siemV2)), 401);
  // v1 tokens keep working on the SIEM API whatever their resource, as they always did.
  const v1 = await tokenRequest(sim, {
    grant_type: "client_credentials",
    client_id: DEMO_TENANT.clientId,
    client_secret: DEMO_TENANT.clientSecret,
    resource: "https://graph.microsoft.com",
  });
  const v1Graph = ((await v1.json()) as { access_token: string }).access_token;
  assert.equal(await statusOf(alertsRequest(sim, v1Graph)), 200);
  assert.equal(await statusOf(graphRequest(sim, v1Graph)), 200);
  assert.equal(await statusOf(mdeRequest(sim, v1Graph)), 401);
});

test("a valid client assertion gets a token", { skip: noOpenssl }, async (t) => {
  const { sim, assertion, request, tenant } = await assertionSim(t);
  const res = await request(assertion());
  assert.equal(res.status, 200, await res.clone().text());
  const token = ((await res.json()) as { access_token: string }).access_token;
  assert.equal(await statusOf(graphRequest(sim, token)), 200);
  // The legacy SHA-1 x5t header alone is accepted too, as Azure AD still does.
  const legacy = assertion({ header: { "x5t#S256": undefined, x5t: sha1Thumbprint(tenant.cert) } });
  assert.equal(await statusOf(request(legacy)), 200);
  // The v1 endpoint takes assertions as well, addressed to itself.
  const v1Aud = `${sim.url}/${tenant.tenantId}/oauth2/token`;
  const v1 = await tokenRequest(
    sim,
    {
      grant_type: "client_credentials",
      client_id: tenant.clientId,
      resource: "https://api.securitycenter.windows.com",
      client_assertion_type: JWT_BEARER,
      client_assertion: assertion({ aud: v1Aud }),
    },
    tenant.tenantId,
  );
  assert.equal(v1.status, 200);
  await v1.text();
  assert.equal(sim.tokensIssued, 3);
});

test("refused assertions: signature, thumbprint, time, audience, issuer, replay", {
  skip: noOpenssl,
}, async (t) => {
  const { sim, clock, assertion, request, tenant, aud } = await assertionSim(t);
  const otherKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({
    type: "pkcs8",
    format: "pem",
  });
  const cases: Array<{ name: string; jwt: string; code: number }> = [
    // Signed with another key, but naming the registered certificate.
    { name: "wrong signature", jwt: assertion({ key: String(otherKey) }), code: 700027 },
    {
      name: "wrong x5t#S256",
      jwt: assertion({ header: { "x5t#S256": thumbprintS256(pki?.server.cert ?? "") } }),
      code: 700027,
    },
    { name: "no thumbprint", jwt: assertion({ header: { "x5t#S256": undefined } }), code: 700027 },
    { name: "expired", jwt: assertion({ now: clock.now - 11 * 60_000 }), code: 700024 },
    { name: "not yet valid", jwt: assertion({ claims: { nbf: clock.now / 1000 + 300 } }), code: 700024 },
    { name: "valid for too long", jwt: assertion({ lifetime: 3600 }), code: 700024 },
    {
      name: "wrong aud",
      jwt: assertion({ aud: `${sim.url}/${DEMO_TENANT.tenantId}/oauth2/v2.0/token` }),
      code: 700023,
    },
    { name: "v1 aud at the v2 endpoint", jwt: assertion({ aud: aud.replace("/v2.0", "") }), code: 700023 },
    { name: "iss is not the client", jwt: assertion({ claims: { iss: "someone-else" } }), code: 700021 },
    { name: "sub is not the client", jwt: assertion({ claims: { sub: "someone-else" } }), code: 700021 },
    { name: "no jti", jwt: assertion({ claims: { jti: undefined } }), code: 50027 },
    { name: "HS256", jwt: assertion({ header: { alg: "HS256" } }), code: 5002730 },
    { name: "not a JWT", jwt: "not.a-jwt", code: 50027 },
  ];
  for (const c of cases) {
    const res = await request(c.jwt);
    assert.notEqual(res.status, 200, c.name);
    await refused(res, 401, "invalid_client", c.code, c.jwt);
  }

  const once = assertion();
  assert.equal(await statusOf(request(once)), 200);
  await refused(await request(once), 401, "invalid_client", 50013, once);
  // A fresh jti works again.
  assert.equal(await statusOf(request(assertion())), 200);

  // Malformed requests around the assertion.
  await refused(
    await request(assertion(), GRAPH_SCOPE, { client_assertion_type: "jwt" }),
    400,
    "invalid_request",
    9002313,
  );
  await refused(
    await request(assertion(), GRAPH_SCOPE, { client_secret: tenant.clientSecret }),
    400,
    "invalid_request",
    9002313,
  );
  assert.equal(sim.tokensIssued, 2);
});

test("a tenant without a registered certificate refuses every assertion", { skip: noOpenssl }, async (t) => {
  const tenant = certTenant();
  const sim = await startSimulator(t, { tenants: [DEMO_TENANT] });
  const jwt = signAssertion({
    key: tenant.key,
    cert: tenant.cert,
    clientId: DEMO_TENANT.clientId,
    aud: sim.tokenUrl(),
    now: Date.now(),
  });
  const res = await v2TokenRequest(sim, {
    grant_type: "client_credentials",
    client_id: DEMO_TENANT.clientId,
    scope: GRAPH_SCOPE,
    client_assertion_type: JWT_BEARER,
    client_assertion: jwt,
  });
  await refused(res, 401, "invalid_client", 700027, jwt);
});

test("a tenant certificate must be an RSA certificate", { skip: noOpenssl }, async () => {
  for (const pem of ["not a certificate", pki?.server.cert ?? ""]) {
    await assert.rejects(
      createSimulator({ tenants: [{ ...DEMO_TENANT, clientCertificatePem: pem }] }),
      (err: unknown) => err instanceof ForwarderError && err.code === "E_CONFIG_INVALID",
    );
  }
});

function sha1Thumbprint(certPem: string): string {
  return createHash("sha1").update(new X509Certificate(certPem).raw).digest("base64url");
}
