import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { connect as netConnect, type Socket } from "node:net";
import { after, before, test } from "node:test";
import { connect as tlsConnect } from "node:tls";
import { DEMO_TENANT, type Simulator } from "../../../src/simulator/index.js";
import { hasOpenssl, makeTestPki, type TestPki } from "../../support/tls-certs.js";
import { ALERTS_API_SCOPE, GRAPH_SCOPE, startSimulator, until } from "./helpers.js";

const noOpenssl = !hasOpenssl() && "the openssl CLI is needed to make certificates";

let pki: TestPki | undefined;
before(() => {
  if (!noOpenssl) pki = makeTestPki();
});
after(() => pki?.cleanup());

interface Reply {
  status: number;
  body: string;
}

/** One HTTPS request, trusting only the test CA; over `socket` when given (a CONNECT tunnel). */
async function call(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; socket?: Socket; ca?: string },
): Promise<Reply> {
  const target = new URL(url);
  const req = httpsRequest(url, {
    method: options.method ?? "GET",
    headers: options.headers,
    ca: options.ca,
    agent: false,
    ...(options.socket === undefined
      ? {}
      : {
          createConnection: () =>
            tlsConnect({
              socket: options.socket,
              host: target.hostname,
              servername: undefined,
              ca: options.ca,
            }),
        }),
  });
  req.end(options.body);
  const [res] = (await once(req, "response")) as [IncomingMessage];
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") };
}

function tokenForm(scope: string): string {
  return new URLSearchParams({
    grant_type: "client_credentials",
    client_id: DEMO_TENANT.clientId,
    client_secret: DEMO_TENANT.clientSecret,
    scope,
  }).toString();
}

async function token(
  sim: Simulator,
  scope: string,
  extra: { socket?: Socket; ca?: string },
): Promise<string> {
  const reply = await call(sim.tokenUrl(), {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: tokenForm(scope),
    ...extra,
  });
  assert.equal(reply.status, 200, reply.body);
  return (JSON.parse(reply.body) as { access_token: string }).access_token;
}

test("serves HTTPS with the given certificate; clients verify it against the test CA", {
  skip: noOpenssl,
}, async (t) => {
  assert.ok(pki);
  const sim = await startSimulator(t, { tls: { cert: pki.server.cert, key: pki.server.key } });
  sim.addAlerts(4);
  assert.match(sim.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(sim.alertsApiUrl, `${sim.url}/mde`);
  assert.equal(sim.graphUrl, `${sim.url}/graph`);

  const mde = await token(sim, ALERTS_API_SCOPE, { ca: pki.ca });
  const reply = await call(`${sim.alertsApiUrl}/api/alerts`, {
    headers: { authorization: `Bearer ${mde}` },
    ca: pki.ca,
  });
  assert.equal(reply.status, 200);
  const body = JSON.parse(reply.body) as { "@odata.context": string; value: unknown[] };
  assert.equal(body.value.length, 4);
  assert.ok(body["@odata.context"].startsWith("https://"));

  // Without the CA the certificate does not verify.
  await assert.rejects(call(`${sim.url}/_sim/stats`, {}), (err: NodeJS.ErrnoException) =>
    /self[- ]signed|unable to (get|verify)/i.test(`${err.code} ${err.message}`),
  );
});

test("every call can go through an HTTP CONNECT proxy", { skip: noOpenssl }, async (t) => {
  assert.ok(pki);
  const ca = pki.ca;
  const sim = await startSimulator(t, { tls: { cert: pki.server.cert, key: pki.server.key } });
  sim.addAlerts(12);

  // A minimal forward proxy: CONNECT only, remembers where it tunnelled to.
  const tunnels: string[] = [];
  const open = new Set<Socket>();
  const proxy = createHttpServer((_req, res) => {
    res.writeHead(405).end();
  });
  proxy.on("connect", (req: IncomingMessage, client: Socket, head: Buffer) => {
    tunnels.push(req.url ?? "");
    const [host, port] = (req.url ?? "").split(":");
    const upstream = netConnect(Number(port), host, () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const s of [client, upstream]) {
      open.add(s);
      s.on("close", () => open.delete(s));
      s.on("error", () => s.destroy());
    }
  });
  proxy.listen(0, "127.0.0.1");
  await once(proxy, "listening");
  t.after(async () => {
    for (const s of open) s.destroy();
    proxy.close();
    await once(proxy, "close");
  });
  const proxyPort = (proxy.address() as { port: number }).port;

  const tunnel = async (): Promise<Socket> => {
    const target = new URL(sim.url);
    const req = httpRequest({ host: "127.0.0.1", port: proxyPort, method: "CONNECT", path: target.host });
    req.end();
    const [res, socket] = (await once(req, "connect")) as [IncomingMessage, Socket];
    assert.equal(res.statusCode, 200);
    return socket;
  };

  const graphToken = await token(sim, GRAPH_SCOPE, { socket: await tunnel(), ca });
  const first = await call(`${sim.graphUrl}/v1.0/security/alerts_v2?$top=5`, {
    headers: { authorization: `Bearer ${graphToken}` },
    socket: await tunnel(),
    ca,
  });
  assert.equal(first.status, 200);
  const page = JSON.parse(first.body) as { value: unknown[]; "@odata.nextLink": string };
  assert.equal(page.value.length, 5);
  // The next link points back at the simulator's https URL, so it works through the proxy as well.
  assert.ok(page["@odata.nextLink"].startsWith(`${sim.graphUrl}/`));
  const second = await call(page["@odata.nextLink"], {
    headers: { authorization: `Bearer ${graphToken}` },
    socket: await tunnel(),
    ca,
  });
  assert.equal(second.status, 200);
  assert.equal((JSON.parse(second.body) as { value: unknown[] }).value.length, 5);

  assert.equal(tunnels.length, 3);
  assert.ok(tunnels.every((u) => u === new URL(sim.url).host));
  assert.equal(sim.requests.length, 3);
  // The client side leaves the tunnels half-closed; close() still drops them at once.
  assert.ok(open.size > 0);
  const closing = sim.close();
  await until(() => open.size === 0);
  await closing;
});
