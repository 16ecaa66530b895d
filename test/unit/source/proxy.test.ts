import assert from "node:assert/strict";
import { test } from "node:test";
import { ForwarderError } from "../../../src/errors.js";
import {
  parseNoProxy,
  parseProxyUrl,
  proxyFor,
  redactUrlCredentials,
  resolveProxy,
} from "../../../src/source/proxy.js";

test("NO_PROXY: exact names, and a name or .name matching itself and every subdomain (curl)", () => {
  const np = parseNoProxy("localhost, example.com,.corp.example");
  assert.equal(np.matches("localhost", 443), true);
  assert.equal(np.matches("LOCALHOST", 443), true, "case-insensitive");
  assert.equal(np.matches("example.com", 443), true);
  assert.equal(np.matches("api.example.com", 443), true);
  assert.equal(np.matches("a.b.example.com.", 443), true, "a trailing dot is the same name");
  assert.equal(np.matches("corp.example", 443), true);
  assert.equal(np.matches("login.corp.example", 443), true);
  assert.equal(np.matches("notexample.com", 443), false, "a suffix must start at a label");
  assert.equal(np.matches("example.com.evil", 443), false);
  assert.equal(np.matches("api.securitycenter.microsoft.com", 443), false);
});

test("NO_PROXY: * alone bypasses every host; an empty list none", () => {
  assert.equal(parseNoProxy("*").matches("login.microsoftonline.com", 443), true);
  assert.equal(parseNoProxy(["*"]).matches("10.1.2.3", 443), true);
  assert.equal(parseNoProxy("").matches("localhost", 443), false);
  assert.equal(parseNoProxy([]).matches("localhost", 443), false);
});

test("NO_PROXY: IP literals and subnets match addresses; names are never resolved to match them", () => {
  const np = parseNoProxy(["127.0.0.1", "10.0.0.0/8", "::1", "[fd00::]/8"]);
  assert.equal(np.matches("127.0.0.1", 443), true);
  assert.equal(np.matches("127.0.0.2", 443), false);
  assert.equal(np.matches("10.200.3.4", 443), true);
  assert.equal(np.matches("11.0.0.1", 443), false);
  assert.equal(np.matches("[::1]", 443), true, "a URL's bracketed IPv6 host");
  assert.equal(np.matches("::1", 443), true);
  assert.equal(np.matches("fd12::5", 443), true);
  assert.equal(np.matches("fe80::1", 443), false);
  assert.equal(
    np.matches("localhost", 443),
    false,
    "127.0.0.1 in the list does not match the name localhost",
  );
});

test("NO_PROXY: an entry with a port matches that port only", () => {
  const np = parseNoProxy("internal.example:8443,127.0.0.1:9000,[::1]:7000");
  assert.equal(np.matches("internal.example", 8443), true);
  assert.equal(np.matches("api.internal.example", 8443), true);
  assert.equal(np.matches("internal.example", 443), false);
  assert.equal(np.matches("127.0.0.1", 9000), true);
  assert.equal(np.matches("127.0.0.1", 443), false);
  assert.equal(np.matches("[::1]", 7000), true);
  assert.equal(np.matches("[::1]", 443), false);
});

test("proxy URLs: host, port (80 by default, as any http:// URL), Basic credentials decoded", () => {
  const p = parseProxyUrl("http://svc%40corp:p%3Ass@proxy.example.com:3128");
  assert.equal(p.host, "proxy.example.com");
  assert.equal(p.port, 3128);
  assert.equal(p.label, "proxy.example.com:3128");
  assert.equal(p.authorization, `Basic ${Buffer.from("svc@corp:p:ss").toString("base64")}`);
  assert.equal(parseProxyUrl("http://proxy.example.com").port, 80);
  const bare = parseProxyUrl("proxy.example.com:8080");
  assert.equal(bare.host, "proxy.example.com", "no scheme is read as http:// (curl)");
  assert.equal(bare.authorization, undefined);
  const v6 = parseProxyUrl("http://[fd00::1]:3128");
  assert.equal(v6.host, "fd00::1");
  assert.equal(v6.label, "[fd00::1]:3128");
});

test("proxy URLs that cannot be used are E_CONFIG_INVALID without the credentials", () => {
  for (const raw of [
    "https://user:hunter2@proxy:3128",
    "socks5://user:hunter2@proxy:1080",
    "http://user:hunter2@",
  ]) {
    assert.throws(
      () => parseProxyUrl(raw),
      (e: unknown) => {
        assert.ok(e instanceof ForwarderError);
        assert.equal(e.code, "E_CONFIG_INVALID");
        assert.ok(!e.message.includes("hunter2"), e.message);
        return true;
      },
      raw,
    );
  }
});

test("redactUrlCredentials masks user info, even with unencoded @ or / in the password", () => {
  assert.equal(redactUrlCredentials("http://u:p@proxy:3128"), "http://***@proxy:3128");
  assert.equal(redactUrlCredentials("http://u:p@ss/w@proxy:3128"), "http://***@proxy:3128");
  assert.equal(redactUrlCredentials("u:p@proxy:3128"), "***@proxy:3128");
  assert.equal(redactUrlCredentials("http://proxy:3128"), "http://proxy:3128");
});

test("resolveProxy: config first, then https_proxy / HTTPS_PROXY; no_proxy likewise", () => {
  const env = { HTTPS_PROXY: "http://env-proxy:3128", NO_PROXY: "env.example" };
  const fromEnv = resolveProxy(undefined, env);
  assert.equal(fromEnv?.https.label, "env-proxy:3128");
  assert.equal(fromEnv?.noProxy.matches("x.env.example", 443), true);
  assert.equal(
    resolveProxy(undefined, { https_proxy: "http://lower:1", HTTPS_PROXY: "http://upper:2" })?.https.label,
    "lower:1",
  );
  assert.equal(resolveProxy(undefined, { HTTPS_PROXY: "  " }), undefined, "an empty variable is no proxy");
  assert.equal(
    resolveProxy(undefined, { HTTP_PROXY: "http://plain:3128" }),
    undefined,
    "HTTP_PROXY is not used",
  );
  assert.equal(resolveProxy(undefined, {}), undefined);

  const fromConfig = resolveProxy({ url: "http://conf-proxy:8080", no_proxy: ["conf.example"] }, env);
  assert.equal(fromConfig?.https.label, "conf-proxy:8080");
  assert.equal(fromConfig?.noProxy.matches("conf.example", 443), true);
  assert.equal(
    fromConfig?.noProxy.matches("env.example", 443),
    false,
    "the config's list replaces the env's",
  );
  // A block with only no_proxy takes the URL from the environment.
  assert.equal(resolveProxy({ no_proxy: ["x"] }, env)?.https.label, "env-proxy:3128");
});

test("proxyFor: https targets through the proxy unless NO_PROXY matches; http:// targets always direct", () => {
  const settings = resolveProxy({ url: "http://proxy:3128", no_proxy: ["localhost"] }, {});
  assert.equal(
    proxyFor(settings, new URL("https://api.securitycenter.microsoft.com/api/alerts"))?.label,
    "proxy:3128",
  );
  assert.equal(proxyFor(settings, new URL("https://localhost:8443/")), undefined);
  assert.equal(proxyFor(settings, new URL("http://127.0.0.1:8080/api/alerts")), undefined);
  assert.equal(proxyFor(undefined, new URL("https://graph.microsoft.com/")), undefined);
});
