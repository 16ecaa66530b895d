// The source's HTTP client through a real CONNECT proxy (test/support/proxy.ts) to a real HTTPS server
// whose certificate comes from a throwaway CA: the CA a TLS-inspecting proxy would bring.
import assert from "node:assert/strict";
import { once } from "node:events";
import fs from "node:fs";
import https from "node:https";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { after, before, test } from "node:test";
import pino from "pino";
import { ForwarderError } from "../../../src/errors.js";
import { silentLogger } from "../../../src/log.js";
import { createMetrics } from "../../../src/metrics/definitions.js";
import { createHttpClient, type HttpClientOptions, TransportFailure } from "../../../src/source/http.js";
import { createTokenProvider } from "../../../src/source/oauth.js";
import { resolveProxy } from "../../../src/source/proxy.js";
import { startTestProxy, type TestProxy } from "../../support/proxy.js";
import { startTokenServer, type TokenServer } from "../../support/source.js";
import { hasOpenssl, makeTestPki, type TestPki } from "../../support/tls-certs.js";

const skip = hasOpenssl() ? false : "openssl is not installed";
const PASSWORD = "pr0xy-s3cret-w0rd";

let pki: TestPki;
let server: https.Server;
let origin: string;
let hits = 0;
let proxy: TestProxy;
let authProxy: TestProxy;
let dir: string;

before(async () => {
  if (skip) return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "mde-proxy-test-"));
  pki = makeTestPki({ caName: "mde-test-inspecting-ca" });
  server = https.createServer({ cert: pki.server.cert, key: pki.server.key }, (req, res) => {
    hits++;
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ path: req.url }));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  origin = `https://localhost:${(server.address() as AddressInfo).port}`;
  proxy = await startTestProxy();
  authProxy = await startTestProxy({ auth: { user: "svc", password: PASSWORD } });
});

after(async () => {
  if (skip) return;
  await proxy.close();
  await authProxy.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  pki.cleanup();
  fs.rmSync(dir, { recursive: true, force: true });
});

function client(options: { url?: string; noProxy?: string[]; ca?: boolean; log?: HttpClientOptions["log"] }) {
  return createHttpClient({
    proxy: resolveProxy({ url: options.url ?? proxy.url, no_proxy: options.noProxy }, {}),
    caFile: options.ca === false ? undefined : pki.caFile,
    log: options.log,
  });
}

async function failure(promise: Promise<unknown>): Promise<TransportFailure> {
  const err = await promise.then(
    () => assert.fail("expected the request to fail"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof TransportFailure, String(err));
  return err;
}

/** A logger whose lines are kept, to check what it wrote. */
function capturingLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString("utf8"));
      cb();
    },
  });
  return { log: pino({ level: "trace" }, stream), lines };
}

test("an HTTPS request goes through one CONNECT tunnel, kept for the next request", { skip }, async () => {
  const http = client({});
  const before = { tunnels: proxy.tunnels, hits };
  const res = await http.request({ method: "GET", url: `${origin}/api/alerts?x=1`, timeoutMs: 5_000 });
  assert.equal(res.status, 200);
  assert.deepEqual(JSON.parse(res.body), { path: "/api/alerts?x=1" });
  const again = await http.request({ method: "GET", url: `${origin}/again`, timeoutMs: 5_000 });
  assert.equal(again.status, 200);
  assert.equal(hits - before.hits, 2);
  assert.equal(proxy.tunnels - before.tunnels, 1, "one tunnel for both requests (keep-alive)");
  assert.equal(proxy.attempts.at(-1)?.target, `localhost:${new URL(origin).port}`);
});

test("an IP literal target is verified against the certificate's IP through the tunnel", {
  skip,
}, async () => {
  const before = proxy.tunnels;
  const url = `https://127.0.0.1:${new URL(origin).port}/ip`;
  const res = await client({}).request({ method: "GET", url, timeoutMs: 5_000 });
  assert.equal(res.status, 200);
  assert.equal(proxy.tunnels - before, 1);
});

test("NO_PROXY sends a matching host direct: the proxy sees nothing", { skip }, async () => {
  const before = { tunnels: proxy.tunnels, attempts: proxy.attempts.length, hits };
  const res = await client({ noProxy: ["localhost"] }).request({
    method: "GET",
    url: `${origin}/direct`,
    timeoutMs: 5_000,
  });
  assert.equal(res.status, 200);
  assert.equal(hits - before.hits, 1);
  assert.equal(proxy.tunnels, before.tunnels);
  assert.equal(proxy.attempts.length, before.attempts);
});

test("the inspecting CA must come from ca_file: without it the tunnel works but TLS is refused", {
  skip,
}, async () => {
  const before = proxy.tunnels;
  const err = await failure(
    client({ ca: false }).request({ method: "GET", url: `${origin}/untrusted`, timeoutMs: 5_000 }),
  );
  assert.equal(err.kind, "network");
  assert.match(err.reason, /CERT|SIGNATURE|ISSUER/);
  assert.equal(proxy.tunnels - before, 1, "the refusal is the certificate's, not the proxy's");
  assert.equal(err.proxy, undefined);
});

test("ca_file is trusted on direct requests too", { skip }, async () => {
  const direct = createHttpClient({ caFile: pki.caFile });
  assert.equal((await direct.request({ method: "GET", url: `${origin}/d`, timeoutMs: 5_000 })).status, 200);
  const withoutCa = createHttpClient();
  const err = await failure(withoutCa.request({ method: "GET", url: `${origin}/d`, timeoutMs: 5_000 }));
  assert.match(err.reason, /CERT|SIGNATURE|ISSUER/);
});

test("proxy credentials go out as Proxy-Authorization and never into logs", { skip }, async () => {
  const { log, lines } = capturingLogger();
  const url = `http://svc:${PASSWORD}@127.0.0.1:${authProxy.port}`;
  const res = await client({ url, log }).request({ method: "GET", url: `${origin}/auth`, timeoutMs: 5_000 });
  assert.equal(res.status, 200);
  assert.equal(authProxy.attempts.at(-1)?.status, 200);
  assert.equal(
    authProxy.attempts.at(-1)?.authorization,
    `Basic ${Buffer.from(`svc:${PASSWORD}`).toString("base64")}`,
  );
  assert.ok(lines.length > 0, "the proxy in use is logged");
  const logged = lines.join("");
  assert.match(logged, new RegExp(`127\\.0\\.0\\.1:${authProxy.port}`));
  assert.ok(!logged.includes(PASSWORD));
  assert.ok(!logged.includes(Buffer.from(`svc:${PASSWORD}`).toString("base64")));
});

test("407 (wrong credentials) is a network failure naming the proxy, without credentials", {
  skip,
}, async () => {
  const wrong = `${PASSWORD}-wrong`;
  const url = `http://svc:${wrong}@127.0.0.1:${authProxy.port}`;
  const err = await failure(client({ url }).request({ method: "GET", url: `${origin}/x`, timeoutMs: 5_000 }));
  assert.equal(err.kind, "network");
  assert.equal(err.proxy, `127.0.0.1:${authProxy.port}`);
  assert.match(err.reason, /407/);
  assert.match(err.reason, new RegExp(`proxy 127\\.0\\.0\\.1:${authProxy.port}`));
  assert.equal(authProxy.attempts.at(-1)?.status, 407);
  const everything = `${err.message} ${err.reason} ${JSON.stringify(err)} ${String(err.stack)}`;
  assert.ok(!everything.includes(wrong));
  assert.ok(!everything.includes("svc:"));
});

test("a proxy that refuses (403) or cannot be reached is a network failure naming it", {
  skip,
}, async (t) => {
  proxy.refuse(403);
  t.after(() => proxy.accept());
  const refused = await failure(client({}).request({ method: "GET", url: `${origin}/x`, timeoutMs: 5_000 }));
  assert.match(refused.reason, /refused the tunnel .* 403/);
  assert.equal(refused.proxy, `127.0.0.1:${proxy.port}`);

  // A port nothing listens on: a closed throwaway server's.
  const closed = https.createServer();
  closed.listen(0, "127.0.0.1");
  await once(closed, "listening");
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const unreachable = await failure(
    client({ url: `http://u:${PASSWORD}@127.0.0.1:${port}` }).request({
      method: "GET",
      url: `${origin}/x`,
      timeoutMs: 5_000,
    }),
  );
  assert.match(unreachable.reason, /unreachable \(ECONNREFUSED\)/);
  assert.ok(!unreachable.reason.includes(PASSWORD));
});

test("the token request goes through the proxy too; a proxy failure there is E_API_NETWORK", {
  skip,
}, async (t) => {
  const tokenServer: TokenServer = await startTokenServer({ cert: pki.server.cert, key: pki.server.key });
  t.after(() => tokenServer.close());
  const tenant = {
    name: "contoso",
    source: "graph" as const,
    cloud: "global" as const,
    tenant_id: "tid",
    client_id: "cid",
    client_secret: "very-secret-value",
    authority_host: tokenServer.url,
  };
  const deps = { log: silentLogger(), metrics: createMetrics({ defaultMetrics: false }), timeoutMs: 5_000 };
  const before = proxy.tunnels;
  const tokens = createTokenProvider(tenant, { ...deps, http: client({}) });
  assert.equal(await tokens.getToken(), "test-token-1");
  assert.equal(proxy.tunnels - before, 1);
  assert.equal(tokenServer.calls[0]?.path, "/tid/oauth2/v2.0/token");

  const url = `http://svc:${PASSWORD}-wrong@127.0.0.1:${authProxy.port}`;
  const failing = createTokenProvider(tenant, { ...deps, http: client({ url }) });
  const err = await failing.getToken().then(
    () => assert.fail("expected a failure"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ForwarderError);
  assert.equal(err.code, "E_API_NETWORK");
  assert.equal(err.errorClass, "retryable");
  assert.equal(err.details.proxy, `127.0.0.1:${authProxy.port}`);
  assert.match(err.message, /proxy 127\.0\.0\.1:\d+ refused the tunnel/);
  assert.ok(!err.message.includes(PASSWORD));
  assert.ok(!JSON.stringify(err.details).includes(PASSWORD));
});

test("a ca_file that is missing or holds no certificate stops the start, naming the file", { skip }, () => {
  const empty = path.join(dir, "empty.pem");
  fs.writeFileSync(empty, "not a certificate\n");
  assert.throws(() => createHttpClient({ caFile: empty }), {
    code: "E_CONFIG_INVALID",
    message: new RegExp(`proxy.ca_file ${empty.replace(/[.\\]/g, "\\$&")}: no PEM certificate`),
  });
  assert.throws(() => createHttpClient({ caFile: path.join(dir, "nope.pem") }), {
    code: "E_CONFIG_INVALID",
    message: /nope\.pem: cannot read \(ENOENT\)/,
  });
});
