// Issue 11, finding 8: the proxy password has a `_file` form. A config file names the proxy (no
// credentials in the URL), its user and a password file; the request goes through a real CONNECT proxy
// that requires exactly those credentials, to a real HTTPS server.
import assert from "node:assert/strict";
import { once } from "node:events";
import fs from "node:fs";
import https from "node:https";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { effectiveConfig } from "../../../src/cli/check-config.js";
import { loadConfigFile } from "../../../src/config/load.js";
import { createHttpClient } from "../../../src/source/http.js";
import { resolveProxy } from "../../../src/source/proxy.js";
import { startTestProxy, type TestProxy } from "../../support/proxy.js";
import { hasOpenssl, makeTestPki, type TestPki } from "../../support/tls-certs.js";

const skip = hasOpenssl() ? false : "openssl is not installed";
const PASSWORD = "Zq9-pr0xy-$ecret:w0rd";

let pki: TestPki;
let server: https.Server;
let origin: string;
let proxy: TestProxy;
let dir: string;

before(async () => {
  if (skip) return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "mde-proxy-password-"));
  pki = makeTestPki({ caName: "mde-test-proxy-password-ca" });
  server = https.createServer({ cert: pki.server.cert, key: pki.server.key }, (_req, res) => {
    res.writeHead(200, { "content-type": "text/plain" }).end("through");
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  origin = `https://localhost:${(server.address() as AddressInfo).port}`;
  proxy = await startTestProxy({ auth: { user: "svc", password: PASSWORD } });
});

after(async () => {
  if (skip) return;
  await proxy.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  pki.cleanup();
  fs.rmSync(dir, { recursive: true, force: true });
});

test("finding 8: proxy.password_file authenticates to the proxy and is masked by check-config", {
  skip,
}, async () => {
  const passwordFile = path.join(dir, "proxy_password");
  // As a Docker secret would hold it: the password and a newline; `$` and `:` are not special in a file.
  fs.writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  const configFile = path.join(dir, "forwarder.yaml");
  fs.writeFileSync(
    configFile,
    [
      "tenants:",
      "  - name: contoso",
      "    tenant_id: t",
      "    client_id: c",
      "    client_secret: s",
      "    region: eu",
      "destinations:",
      "  - name: siem",
      "    host: 127.0.0.1",
      "proxy:",
      `  url: ${proxy.url}`,
      "  username: svc",
      `  password_file: ${passwordFile}`,
      `  ca_file: ${pki.caFile}`,
      "",
    ].join("\n"),
  );
  const loaded = loadConfigFile(configFile, {});
  const client = createHttpClient({
    proxy: resolveProxy(loaded.config.proxy, {}),
    caFile: loaded.config.proxy?.ca_file,
  });
  const res = await client.request({ method: "GET", url: `${origin}/x`, timeoutMs: 5_000 });
  assert.equal(res.status, 200);
  assert.equal(res.body, "through");
  assert.equal(proxy.attempts.at(-1)?.status, 200);
  assert.equal(
    proxy.attempts.at(-1)?.authorization,
    `Basic ${Buffer.from(`svc:${PASSWORD}`).toString("base64")}`,
  );
  const printed = JSON.stringify(effectiveConfig(loaded));
  assert.ok(!printed.includes(PASSWORD.slice(0, 8)), printed);
  assert.ok(printed.includes(`"password":"***** (from ${passwordFile})"`), printed);

  // A wrong password in the file is refused by the proxy (407), as with credentials in the URL.
  fs.writeFileSync(passwordFile, "wrong\n");
  const wrong = loadConfigFile(configFile, {});
  const refused = createHttpClient({ proxy: resolveProxy(wrong.config.proxy, {}), caFile: pki.caFile });
  await assert.rejects(refused.request({ method: "GET", url: `${origin}/y`, timeoutMs: 5_000 }));
  assert.equal(proxy.attempts.at(-1)?.status, 407);
});
