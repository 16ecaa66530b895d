// Tenant resolution (cloud × source presets, overrides) and its errors, through the real config loader.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseConfig } from "../../../src/config/load.js";
import { ConfigError } from "../../../src/errors.js";
import { apiBaseOf, CLOUD_PRESETS, tokenRequestOf } from "../../../src/source/clouds.js";
import { apiUrlOf, type TenantConfig } from "../../../src/source/config.js";

/** A config with one tenant whose extra lines are `lines` (indented under the tenant). */
function configWith(lines: string, top = ""): string {
  const extra = lines
    .trim()
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => `    ${l.trim()}`)
    .join("\n");
  return `
tenants:
  - name: contoso
    tenant_id: tid
    client_id: cid
${extra}
destinations:
  - name: arcsight
    host: 127.0.0.1
${top}`;
}

function tenantOf(lines: string): TenantConfig {
  const tenant = parseConfig(configWith(lines), "test.yaml", {}).config.tenants[0];
  assert.ok(tenant);
  return tenant;
}

function issuesOf(text: string) {
  try {
    parseConfig(text, "test.yaml", {});
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.issues;
  }
  assert.fail("expected a ConfigError");
}

const CASES: Array<{
  cloud: string;
  source: string;
  region?: string;
  api: string;
  token: string;
  audience: { resource: string } | { scope: string };
}> = [
  {
    cloud: "global",
    source: "siem",
    region: "eu",
    api: "https://wdatp-alertexporter-eu.windows.com",
    token: "https://login.microsoftonline.com/tid/oauth2/token",
    audience: { resource: "https://graph.windows.net" },
  },
  {
    cloud: "global",
    source: "alerts",
    api: "https://api.securitycenter.microsoft.com",
    token: "https://login.microsoftonline.com/tid/oauth2/v2.0/token",
    audience: { scope: "https://api.securitycenter.microsoft.com/.default" },
  },
  {
    cloud: "global",
    source: "alerts",
    region: "uk",
    api: "https://api-uk.securitycenter.microsoft.com",
    token: "https://login.microsoftonline.com/tid/oauth2/v2.0/token",
    audience: { scope: "https://api.securitycenter.microsoft.com/.default" },
  },
  {
    cloud: "global",
    source: "graph",
    api: "https://graph.microsoft.com",
    token: "https://login.microsoftonline.com/tid/oauth2/v2.0/token",
    audience: { scope: "https://graph.microsoft.com/.default" },
  },
  {
    cloud: "gcc",
    source: "siem",
    api: "https://wdatp-alertexporter-us.gcc.securitycenter.windows.us",
    token: "https://login.microsoftonline.com/tid/oauth2/token",
    audience: { resource: "https://graph.windows.net" },
  },
  {
    cloud: "gcc",
    source: "alerts",
    api: "https://api-gcc.securitycenter.microsoft.us",
    token: "https://login.microsoftonline.com/tid/oauth2/v2.0/token",
    audience: { scope: "https://api-gcc.securitycenter.microsoft.us/.default" },
  },
  {
    cloud: "gcc",
    source: "graph",
    api: "https://graph.microsoft.com",
    token: "https://login.microsoftonline.com/tid/oauth2/v2.0/token",
    audience: { scope: "https://graph.microsoft.com/.default" },
  },
  {
    cloud: "gcc-high",
    source: "siem",
    api: "https://wdatp-alertexporter-us.securitycenter.windows.us",
    token: "https://login.microsoftonline.us/tid/oauth2/token",
    audience: { resource: "https://graph.windows.net" },
  },
  {
    cloud: "gcc-high",
    source: "alerts",
    api: "https://api-gov.securitycenter.microsoft.us",
    token: "https://login.microsoftonline.us/tid/oauth2/v2.0/token",
    audience: { scope: "https://api-gov.securitycenter.microsoft.us/.default" },
  },
  {
    cloud: "gcc-high",
    source: "graph",
    api: "https://graph.microsoft.us",
    token: "https://login.microsoftonline.us/tid/oauth2/v2.0/token",
    audience: { scope: "https://graph.microsoft.us/.default" },
  },
  {
    cloud: "dod",
    source: "siem",
    region: "us",
    api: "https://wdatp-alertexporter-us.securitycenter.windows.us",
    token: "https://login.microsoftonline.us/tid/oauth2/token",
    audience: { resource: "https://graph.windows.net" },
  },
  {
    cloud: "dod",
    source: "alerts",
    api: "https://api-gov.securitycenter.microsoft.us",
    token: "https://login.microsoftonline.us/tid/oauth2/v2.0/token",
    audience: { scope: "https://api-gov.securitycenter.microsoft.us/.default" },
  },
  {
    cloud: "dod",
    source: "graph",
    api: "https://dod-graph.microsoft.us",
    token: "https://login.microsoftonline.us/tid/oauth2/v2.0/token",
    audience: { scope: "https://dod-graph.microsoft.us/.default" },
  },
];

test("every cloud × source resolves to its preset API base, token endpoint and resource or scope", () => {
  for (const c of CASES) {
    const label = `${c.cloud}/${c.source}${c.region ? `/${c.region}` : ""}`;
    const tenant = tenantOf(
      `client_secret: s\ncloud: ${c.cloud}\nsource: ${c.source}\n${c.region ? `region: ${c.region}` : ""}`,
    );
    assert.equal(apiBaseOf(tenant), c.api, label);
    const token = tokenRequestOf(tenant);
    assert.equal(token.endpoint, c.token, label);
    if ("resource" in c.audience) {
      assert.equal(token.version, "v1", label);
      assert.deepEqual(
        { resource: tenant.resource, scope: tenant.scope },
        { ...c.audience, scope: undefined },
        label,
      );
    } else {
      assert.equal(token.version, "v2", label);
      assert.deepEqual(
        { resource: tenant.resource, scope: tenant.scope },
        { ...c.audience, resource: undefined },
        label,
      );
    }
    assert.deepEqual(
      token.version === "v1" ? { resource: token.resource } : { scope: token.scope },
      c.audience,
      label,
    );
  }
  // Every preset is covered.
  assert.deepEqual(new Set(CASES.map((c) => c.cloud)), new Set(Object.keys(CLOUD_PRESETS)));
});

test("an existing siem tenant loads unchanged: same defaults, same API host, v1 token", () => {
  const tenant = tenantOf("client_secret: s\nregion: eu");
  assert.equal(tenant.source, "siem");
  assert.equal(tenant.cloud, "global");
  assert.equal(tenant.authority_host, "https://login.microsoftonline.com");
  assert.equal(tenant.resource, "https://graph.windows.net");
  assert.equal(tenant.scope, undefined);
  assert.deepEqual(tenant.machine_groups, []);
  assert.equal(apiUrlOf(tenant), "https://wdatp-alertexporter-eu.windows.com");
});

test("overrides: api_url, authority_host, resource, scope (a siem tenant with scope takes a v2 token)", () => {
  const sim = tenantOf(
    "client_secret: s\nsource: alerts\ncloud: gcc-high\napi_url: http://127.0.0.1:9999/\nauthority_host: http://127.0.0.1:9998",
  );
  assert.equal(apiBaseOf(sim), "http://127.0.0.1:9999");
  assert.equal(tokenRequestOf(sim).endpoint, "http://127.0.0.1:9998/tid/oauth2/v2.0/token");
  assert.equal(
    sim.scope,
    "https://api-gov.securitycenter.microsoft.us/.default",
    "the scope follows the cloud, not api_url",
  );

  const v1 = tenantOf("client_secret: s\nregion: us\nresource: https://api.securitycenter.windows.com/");
  assert.deepEqual(tokenRequestOf(v1), {
    version: "v1",
    endpoint: "https://login.microsoftonline.com/tid/oauth2/token",
    resource: "https://api.securitycenter.windows.com/",
  });

  const v2 = tenantOf(
    "client_secret: s\nregion: us\nscope: https://securitycenter.onmicrosoft.com/windowsatpservice/.default",
  );
  assert.deepEqual(tokenRequestOf(v2), {
    version: "v2",
    endpoint: "https://login.microsoftonline.com/tid/oauth2/v2.0/token",
    scope: "https://securitycenter.onmicrosoft.com/windowsatpservice/.default",
  });
  assert.equal(v2.resource, undefined);

  const graph = tenantOf(
    "client_secret: s\nsource: graph\nscope: https://graph.microsoft.com/SecurityAlert.Read.All",
  );
  assert.equal(tokenRequestOf(graph).version, "v2");
  assert.equal(graph.scope, "https://graph.microsoft.com/SecurityAlert.Read.All");
  assert.equal(graph.events, "alert");
  assert.equal(tenantOf("client_secret: s\nsource: graph\nevents: evidence").events, "evidence");
});

test("certificate credentials are accepted in place of a secret", () => {
  const tenant = tenantOf(
    "client_certificate_file: /etc/mde/app.pem\nclient_key_file: /etc/mde/app.key\nsource: graph",
  );
  assert.equal(tenant.client_secret, undefined);
  assert.equal(tenant.client_certificate_file, "/etc/mde/app.pem");
  assert.equal(tenant.client_key_file, "/etc/mde/app.key");
});

test("credential errors name the keys", () => {
  const cases: Array<[string, string, RegExp]> = [
    [
      "region: eu",
      "tenants[0].client_secret",
      /client_secret \(or client_secret_file\), or client_certificate_file and client_key_file/,
    ],
    [
      "region: eu\nclient_secret: s\nclient_certificate_file: /a.pem\nclient_key_file: /a.key",
      "tenants[0].client_certificate_file",
      /either client_secret .* not both/,
    ],
    [
      "region: eu\nclient_certificate_file: /a.pem",
      "tenants[0].client_key_file",
      /is required with client_certificate_file/,
    ],
    [
      "region: eu\nclient_key_file: /a.key",
      "tenants[0].client_certificate_file",
      /is required with client_key_file/,
    ],
  ];
  for (const [lines, path, message] of cases) {
    const issues = issuesOf(configWith(lines));
    const issue = issues.find((i) => i.path === path);
    assert.ok(issue, `${lines}: ${JSON.stringify(issues)}`);
    assert.match(issue.message, message);
    assert.equal(typeof issue.line, "number");
  }
});

test("source-specific keys with another source are errors naming the key and its source", () => {
  const cases: Array<[string, string, RegExp]> = [
    [
      "source: alerts\nmachine_groups: [UK]",
      "tenants[0].machine_groups",
      /machine_groups is for source: siem/,
    ],
    [
      "source: graph\ndevice_created_machine_tags: t",
      "tenants[0].device_created_machine_tags",
      /is for source: siem/,
    ],
    [
      "source: graph\ncloud_created_machine_tags: t",
      "tenants[0].cloud_created_machine_tags",
      /is for source: siem/,
    ],
    [
      "source: alerts\nresource: https://graph.windows.net",
      "tenants[0].resource",
      /resource is for source: siem/,
    ],
    ["region: eu\nevents: evidence", "tenants[0].events", /events is for source: alerts or graph/],
    ["region: eu\nresource: r\nscope: s", "tenants[0].scope", /either resource .* or scope/],
    ["source: graph\nregion: eu", "tenants[0].region", /not used by source: graph/],
    ["cloud: gcc-high\nregion: eu", "tenants[0].region", /only the us host/],
    ["cloud: gcc\nsource: alerts\nregion: us", "tenants[0].region", /region is for cloud: global/],
    ["source: siem", "tenants[0].region", /set region \(eu, us, uk\) or api_url/],
    ["source: splunk", "tenants[0].source", /must be one of siem, alerts, graph, incidents/],
    ["source: incidents\nregion: eu", "tenants[0].region", /not used by source: incidents/],
    ["source: incidents\nevents: evidence", "tenants[0].events", /an incident is one event per version/],
    [
      "source: incidents\nservice_sources: [microsoftSentinel]",
      "tenants[0].service_sources",
      /service_sources is for source: graph \(Graph cannot filter incidents by service\)/,
    ],
    [
      "source: alerts\nservice_sources: [microsoftSentinel]",
      "tenants[0].service_sources",
      /for source: graph/,
    ],
    [
      "source: graph\nservice_sources: [microsoftDefenderForEndpoints]",
      "tenants[0].service_sources[0]",
      /must be one of Graph's serviceSource values: microsoftDefenderForEndpoint, /,
    ],
    ["source: graph\nservice_sources: []", "tenants[0].service_sources", /at least one service/],
    ["cloud: china", "tenants[0].cloud", /must be one of global, gcc, gcc-high, dod/],
    ["source: alerts\nevents: entity", "tenants[0].events", /must be one of alert, evidence/],
  ];
  for (const [lines, path, message] of cases) {
    const issues = issuesOf(configWith(`client_secret: s\n${lines}`));
    const issue = issues.find((i) => i.path === path);
    assert.ok(issue, `${lines}: ${JSON.stringify(issues)}`);
    assert.match(issue.message, message, lines);
  }
  // A gov SIEM tenant needs no region: its cloud has one host.
  assert.equal(
    apiBaseOf(tenantOf("client_secret: s\ncloud: gcc")),
    "https://wdatp-alertexporter-us.gcc.securitycenter.windows.us",
  );
});

test("the proxy block: url checked without echoing credentials, no_proxy as a list or a string", () => {
  const ok = parseConfig(
    configWith(
      "client_secret: s\nregion: eu",
      "proxy:\n  url: http://u:pw@proxy.corp:3128\n  no_proxy: localhost, .corp.example\n  ca_file: /etc/ssl/corp.pem\n",
    ),
    "test.yaml",
    {},
  ).config;
  assert.deepEqual(ok.proxy, {
    url: "http://u:pw@proxy.corp:3128",
    no_proxy: ["localhost", ".corp.example"],
    ca_file: "/etc/ssl/corp.pem",
  });
  const list = parseConfig(
    configWith("client_secret: s\nregion: eu", "proxy:\n  no_proxy: [a.example, b.example]\n"),
    "t",
    {},
  );
  assert.deepEqual(list.config.proxy?.no_proxy, ["a.example", "b.example"]);
  assert.equal(parseConfig(configWith("client_secret: s\nregion: eu"), "t", {}).config.proxy, undefined);

  const issues = issuesOf(
    configWith(
      "client_secret: s\nregion: eu",
      "proxy:\n  url: https://u:topsecret@proxy.corp:3128\n  extra: 1\n",
    ),
  );
  const url = issues.find((i) => i.path === "proxy.url");
  assert.ok(url, JSON.stringify(issues));
  assert.match(url.message, /only http:\/\/ proxies/);
  assert.ok(!url.message.includes("topsecret"));
  assert.ok(issues.some((i) => i.path === "proxy" && /unknown key "extra"/.test(i.message)));
});

test("poll.max_concurrent_requests defaults to 8 and must be at least 1", () => {
  assert.equal(
    parseConfig(configWith("client_secret: s\nregion: eu"), "t", {}).config.poll.max_concurrent_requests,
    8,
  );
  const issues = issuesOf(
    configWith("client_secret: s\nregion: eu", "poll:\n  max_concurrent_requests: 0\n"),
  );
  assert.ok(issues.some((i) => i.path === "poll.max_concurrent_requests" && /at least 1/.test(i.message)));
});

test("incidents read Graph: its host, its v2 scope and authority in every cloud; service_sources passes through", () => {
  for (const cloud of ["global", "gcc", "gcc-high", "dod"] as const) {
    const graph = tenantOf(`client_secret: s\nsource: graph\ncloud: ${cloud}`);
    const incidents = tenantOf(`client_secret: s\nsource: incidents\ncloud: ${cloud}`);
    assert.equal(apiBaseOf(incidents), apiBaseOf(graph), cloud);
    assert.deepEqual(tokenRequestOf(incidents), tokenRequestOf(graph), cloud);
  }
  const filtered = tenantOf(
    "client_secret: s\nsource: graph\nservice_sources: [microsoftSentinel, microsoftDefenderForCloud]",
  );
  assert.deepEqual(filtered.service_sources, ["microsoftSentinel", "microsoftDefenderForCloud"]);
  assert.equal(
    tenantOf("client_secret: s\nsource: graph").service_sources,
    undefined,
    "default: every service",
  );
});
