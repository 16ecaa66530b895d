// v2 token requests (scope), certificate credentials (client assertions), against a small local token
// endpoint that records each request's form.
import assert from "node:assert/strict";
import { verify, X509Certificate } from "node:crypto";
import { Writable } from "node:stream";
import { after, before, test } from "node:test";
import pino from "pino";
import { ForwarderError } from "../../../src/errors.js";
import { silentLogger } from "../../../src/log.js";
import { createMetrics } from "../../../src/metrics/definitions.js";
import { CLIENT_ASSERTION_TYPE } from "../../../src/source/client-assertion.js";
import { createHttpClient } from "../../../src/source/http.js";
import { createTokenProvider, type TokenTenant } from "../../../src/source/oauth.js";
import { startTokenServer, type TokenServer } from "../../support/source.js";
import { hasOpenssl, makeTestPki, type TestPki } from "../../support/tls-certs.js";

const noOpenssl = hasOpenssl() ? false : "openssl is not installed";
const SECRET = "v2-secret-value-98765";

let server: TokenServer;
let pki: TestPki | undefined;
const http = createHttpClient();

before(async () => {
  server = await startTokenServer();
  if (!noOpenssl) pki = makeTestPki({ rsaClient: true });
});
after(async () => {
  await server.close();
  pki?.cleanup();
});

function tenant(overrides: Partial<TokenTenant> = {}): TokenTenant {
  return {
    name: "contoso",
    source: "alerts",
    cloud: "global",
    tenant_id: "tid",
    client_id: "cid",
    client_secret: SECRET,
    authority_host: server.url,
    ...overrides,
  };
}

function provider(t: TokenTenant, clock?: () => number, log = silentLogger()) {
  return createTokenProvider(t, {
    log,
    metrics: createMetrics({ defaultMetrics: false }),
    http,
    timeoutMs: 5_000,
    clock,
  });
}

function lastCall() {
  const call = server.calls.at(-1);
  assert.ok(call);
  return { path: call.path, form: Object.fromEntries(call.form) };
}

test("alerts: a v2 request with the Alerts API's default scope and no resource", async () => {
  assert.equal(await provider(tenant()).getToken(), `test-token-${server.calls.length}`);
  assert.deepEqual(lastCall(), {
    path: "/tid/oauth2/v2.0/token",
    form: {
      grant_type: "client_credentials",
      client_id: "cid",
      client_secret: SECRET,
      scope: "https://api.securitycenter.microsoft.com/.default",
    },
  });
});

test("graph in gcc-high: the cloud's Graph scope", async () => {
  await provider(tenant({ source: "graph", cloud: "gcc-high" })).getToken();
  assert.equal(lastCall().form.scope, "https://graph.microsoft.us/.default");
  assert.equal(lastCall().path, "/tid/oauth2/v2.0/token");
});

test("siem stays v1 with resource; with scope set it takes a v2 token", async () => {
  await provider(tenant({ source: "siem", resource: "https://graph.windows.net" })).getToken();
  assert.equal(lastCall().path, "/tid/oauth2/token");
  assert.equal(lastCall().form.resource, "https://graph.windows.net");
  assert.equal(lastCall().form.scope, undefined);
  await provider(
    tenant({ source: "siem", scope: "https://api.securitycenter.microsoft.com/.default" }),
  ).getToken();
  assert.equal(lastCall().path, "/tid/oauth2/v2.0/token");
  assert.equal(lastCall().form.scope, "https://api.securitycenter.microsoft.com/.default");
  assert.equal(lastCall().form.resource, undefined);
});

test("v2 tokens are cached by expires_in (a number) and fetched once for concurrent callers", async () => {
  let now = Date.parse("2026-11-30T08:00:00Z");
  const tokens = provider(tenant({ source: "graph" }), () => now);
  const before = server.calls.length;
  const [a, b] = await Promise.all([tokens.getToken(), tokens.getToken()]);
  assert.equal(a, b);
  now += 50 * 60_000; // 50 of 60 minutes: still cached
  assert.equal(await tokens.getToken(), a);
  assert.equal(server.calls.length - before, 1);
  now += 6 * 60_000; // within 5 minutes of the end: refreshed
  assert.notEqual(await tokens.getToken(), a);
  assert.equal(server.calls.length - before, 2);
});

test("a rejected v2 request is E_AUTH_TOKEN with the AADSTS code and without the secret", async (t) => {
  server.fail(401);
  t.after(() => server.succeed());
  const err = await provider(tenant())
    .getToken()
    .then(
      () => assert.fail("expected a rejection"),
      (e: unknown) => e,
    );
  assert.ok(err instanceof ForwarderError);
  assert.equal(err.code, "E_AUTH_TOKEN");
  assert.match(err.message, /invalid_client, AADSTS7000215/);
  assert.match(err.message, /client_secret/);
  assert.ok(!err.message.includes(SECRET));
});

test("certificate credentials: a signed assertion instead of a secret, verifiable with the certificate", {
  skip: noOpenssl,
}, async () => {
  assert.ok(pki?.rsaClient);
  const pair = pki.rsaClient;
  const certTenant = tenant({
    client_secret: undefined,
    client_certificate_file: pair.certFile,
    client_key_file: pair.keyFile,
  });
  const tokens = provider(certTenant);
  await tokens.getToken();
  const { path, form } = lastCall();
  assert.equal(path, "/tid/oauth2/v2.0/token");
  assert.equal(form.client_secret, undefined);
  assert.equal(form.client_assertion_type, CLIENT_ASSERTION_TYPE);
  assert.equal(form.scope, "https://api.securitycenter.microsoft.com/.default");
  const [h, p, s] = String(form.client_assertion).split(".");
  assert.ok(
    verify(
      "sha256",
      Buffer.from(`${h}.${p}`),
      new X509Certificate(pair.cert).publicKey,
      Buffer.from(s ?? "", "base64url"),
    ),
  );
  const claims = JSON.parse(Buffer.from(p ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
  // The audience is the token endpoint the assertion is sent to.
  assert.equal(claims.aud, `${server.url}/tid/oauth2/v2.0/token`);
  assert.equal(claims.iss, "cid");
  assert.equal(claims.sub, "cid");

  // A fresh assertion for every token request.
  tokens.invalidate(await tokens.getToken());
  await tokens.getToken();
  assert.notEqual(lastCall().form.client_assertion, form.client_assertion);

  // v1 (siem) with a certificate: the same assertion, addressed to the v1 endpoint, with resource.
  await provider({ ...certTenant, source: "siem", resource: "https://graph.windows.net" }).getToken();
  const v1 = lastCall();
  assert.equal(v1.path, "/tid/oauth2/token");
  assert.equal(v1.form.resource, "https://graph.windows.net");
  const v1Claims = JSON.parse(
    Buffer.from(String(v1.form.client_assertion).split(".")[1] ?? "", "base64url").toString("utf8"),
  ) as Record<string, unknown>;
  assert.equal(v1Claims.aud, `${server.url}/tid/oauth2/token`);
});

test("certificate credentials rejected: the message points at the certificate's thumbprint", {
  skip: noOpenssl,
}, async (t) => {
  assert.ok(pki?.rsaClient);
  const pair = pki.rsaClient;
  server.fail(401, {
    error: "invalid_client",
    error_description: "AADSTS700027: Client assertion failed signature validation.",
  });
  t.after(() => server.succeed());
  const err = await provider(
    tenant({
      client_secret: undefined,
      client_certificate_file: pair.certFile,
      client_key_file: pair.keyFile,
    }),
  )
    .getToken()
    .then(
      () => assert.fail("expected a rejection"),
      (e: unknown) => e,
    );
  assert.ok(err instanceof ForwarderError);
  assert.equal(err.code, "E_AUTH_TOKEN");
  const thumbprint = new X509Certificate(pair.cert).fingerprint.replace(/:/g, "");
  assert.match(err.message, new RegExp(`AADSTS700027.*thumbprint ${thumbprint}`));
});

test("a bad certificate stops the provider's creation, naming the tenant and the file", {
  skip: noOpenssl,
}, () => {
  assert.ok(pki?.rsaClient);
  const pair = pki.rsaClient;
  assert.throws(
    () =>
      provider(
        tenant({
          client_secret: undefined,
          client_certificate_file: pair.certFile,
          client_key_file: pair.certFile,
        }),
      ),
    (e: unknown) => {
      assert.ok(e instanceof ForwarderError);
      assert.equal(e.code, "E_CONFIG_INVALID");
      assert.match(e.message, /^tenant contoso: client_key_file .* holds no readable PEM private key/);
      assert.equal(e.details.tenant, "contoso");
      return true;
    },
  );
  assert.throws(() => provider(tenant({ client_secret: undefined })), {
    code: "E_CONFIG_INVALID",
    message: /tenant contoso has no credential/,
  });
});

test("a certificate close to its end is warned about at start, with file and thumbprint", {
  skip: noOpenssl,
}, () => {
  assert.ok(pki?.rsaClient);
  const pair = pki.rsaClient;
  const lines: string[] = [];
  const log = pino(
    { level: "info" },
    new Writable({
      write(chunk: Buffer, _e, cb) {
        lines.push(chunk.toString("utf8"));
        cb();
      },
    }),
  );
  // The test certificate is valid for 2 days: within the 30-day warning.
  provider(
    tenant({
      client_secret: undefined,
      client_certificate_file: pair.certFile,
      client_key_file: pair.keyFile,
    }),
    undefined,
    log,
  );
  const warning = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.level === 40);
  assert.ok(warning, lines.join(""));
  assert.equal(warning.certificateFile, pair.certFile);
  assert.equal(warning.thumbprint, new X509Certificate(pair.cert).fingerprint.replace(/:/g, ""));
  assert.ok(!lines.join("").includes("PRIVATE KEY"));
});
