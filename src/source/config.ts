// Config of the source side: tenants and the poll settings.
import { validate as validateCron } from "node-cron";
import { z } from "zod";
import { keyDocs } from "../config/key-doc.js";
import { markdownTable } from "../config/markdown-table.js";
import { byteSize, duration, type Env, httpsUrl, int, name, nonEmpty } from "../config/types.js";
import { GRAPH_SERVICE_SOURCES } from "../record.js";
import { apiBaseOf, authorityOf, CLOUD_PRESETS, CLOUDS, REGIONS, SOURCES, tokenRequestOf } from "./clouds.js";
import { type ProxySettings, parseProxyUrl, redactUrlCredentials, resolveProxy } from "./proxy.js";

/** The SIEM API hosts per region, from Microsoft's "Pull detections using SIEM REST API" page. */
export const REGION_API_URLS = {
  eu: "https://wdatp-alertexporter-eu.windows.com",
  us: "https://wdatp-alertexporter-us.windows.com",
  uk: "https://wdatp-alertexporter-uk.windows.com",
} as const;

/** Keys that only the SIEM API knows; an error with another source rather than silently ignored. */
const SIEM_ONLY_KEYS = [
  "machine_groups",
  "device_created_machine_tags",
  "cloud_created_machine_tags",
] as const;

const tenantInputSchema = z.strictObject({
  name: name().register(keyDocs, {
    description: "Unique; used in the state, logs and metric labels",
    example: "contoso",
  }),
  source: z
    .enum(SOURCES, { error: "must be one of siem, alerts, graph, incidents" })
    .default("siem")
    .register(keyDocs, {
      description: "The API this tenant is read from",
      details:
        "`siem` (the SIEM API), `alerts` (Defender for Endpoint Alerts API), `graph` " +
        "(Microsoft Graph `security/alerts_v2`: the alerts of every Defender product), `incidents` (Microsoft " +
        "Graph `security/incidents`); see [Sources](sources.md). New tenants start with `graph`: " +
        "Microsoft closed the SIEM API to new customers in 2021.",
    }),
  cloud: z
    .enum(CLOUDS, { error: "must be one of global, gcc, gcc-high, dod" })
    .default("global")
    .register(keyDocs, {
      description: "Picks the token authority and the API hosts (national clouds)",
    }),
  tenant_id: nonEmpty().register(keyDocs, {
    description: "Azure AD tenant (directory) id",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's own ${VAR} syntax, not a template
    example: "${MDE_TENANT_ID:-00000000-0000-0000-0000-000000000000}",
  }),
  client_id: nonEmpty().register(keyDocs, {
    description: "Application (client) id of the app registration",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's own ${VAR} syntax, not a template
    example: "${MDE_CLIENT_ID:-00000000-0000-0000-0000-000000000001}",
  }),
  client_secret: nonEmpty().optional().register(keyDocs, {
    description: "The app's client secret",
    default: "one credential is required",
    secret: true,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's own ${VAR} syntax, not a template
    example: "${MDE_CLIENT_SECRET:-change-me}",
    reference: "set",
  }),
  client_certificate_file: nonEmpty()
    .optional()
    .register(keyDocs, {
      description: "Instead of a secret: the PEM certificate registered on the app",
      default: "instead of a secret",
      example: "/etc/mde-forwarder/app.pem",
      details:
        "With `client_key_file`, its RSA private key (PEM, PKCS#8 or PKCS#1, unencrypted). Each token " +
        "request sends a fresh signed client assertion (RS256, 10 minutes, `x5t#S256` and `x5t` " +
        "thumbprints). Checked at start: an unreadable, non-RSA, encrypted, mismatched or expired file stops " +
        "the start with a message naming it; a warning is logged 30 days before the certificate expires.",
    }),
  client_key_file: nonEmpty().optional().register(keyDocs, {
    description: "With client_certificate_file: its RSA private key (PEM, unencrypted)",
    default: "instead of a secret",
    example: "/etc/mde-forwarder/app.key",
  }),
  region: z
    .enum(REGIONS, { error: "must be one of eu, us, uk" })
    .optional()
    .register(keyDocs, {
      description: "The API host (siem) or an optional geo host (alerts)",
      default: "see below",
      sources: ["siem", "alerts"],
      example: "eu",
      reference: "set",
      details:
        "siem: `eu`, `us`, `uk` picks `https://wdatp-alertexporter-{region}.windows.com`; required on the " +
        "global cloud unless `api_url` is set (the US Gov clouds have one host, so no region is needed). alerts: optional geo host " +
        "`https://api-{region}.securitycenter.microsoft.com`. Not used by graph and incidents (set `cloud` " +
        "for a national cloud).",
    }),
  api_url: httpsUrl().optional().register(keyDocs, {
    description: "Overrides the API base of the source (the simulator, a private endpoint)",
    default: "from `cloud` and `region`",
    example: "https://wdatp-alertexporter-eu.windows.com",
  }),
  authority_host: httpsUrl()
    .optional()
    .register(keyDocs, {
      description: "Host of the token endpoint",
      default: "from `cloud`",
      example: "https://login.microsoftonline.com",
      details:
        "Tokens come from `{authority_host}/{tenant_id}/oauth2/token` (v1) or " +
        "`{authority_host}/{tenant_id}/oauth2/v2.0/token` (v2).",
    }),
  resource: nonEmpty()
    .optional()
    .register(keyDocs, {
      description: "The v1 token's `resource`, as Microsoft's SIEM API page documents",
      default: "`https://graph.windows.net`",
      sources: ["siem"],
      example: "https://graph.windows.net",
    }),
  scope: nonEmpty()
    .optional()
    .register(keyDocs, {
      description: "A v2 token's scope; set on a siem tenant to take a v2 token instead of v1",
      default: "per source",
      example: "https://api.securitycenter.microsoft.com/.default",
      details:
        "alerts: `{Alerts API root}/.default`; graph and incidents: `{Graph root}/.default`; siem: none (a v1 " +
        "token with `resource`). On a siem tenant, set either `resource` or `scope`, not both.",
    }),
  events: z
    .enum(["alert", "evidence"], { error: "must be one of alert, evidence" })
    .optional()
    .register(keyDocs, {
      description: "One event per alert, or one per evidence entity",
      default: "`alert`",
      sources: ["alerts", "graph"],
      example: "alert",
      details: "An incident is always one event per version.",
    }),
  service_sources: z
    .array(
      z.enum(GRAPH_SERVICE_SOURCES, {
        error: `must be one of Graph's serviceSource values: ${GRAPH_SERVICE_SOURCES.join(", ")}`,
      }),
    )
    .min(1, "must name at least one service (leave the key out to read every service)")
    .optional()
    .register(keyDocs, {
      description: "Keep only the alerts of these products (a `$filter` on Graph's side)",
      default: "unset (every service)",
      sources: ["graph"],
      example: ["microsoftDefenderForEndpoint", "microsoftSentinel"],
      details:
        "Graph's `serviceSource` values, e.g. `[microsoftDefenderForEndpoint, microsoftDefenderForOffice365, " +
        "microsoftSentinel]` (what each covers: [Which alerts](sources.md#which-alerts)); an unknown one is an error.",
    }),
  machine_groups: z
    .array(nonEmpty())
    .optional()
    .register(keyDocs, {
      description: "Device groups to pull from (repeated `machinegroups` parameters)",
      default: "`[]` (all)",
      sources: ["siem"],
      example: ["UKMachines", "FranceMachines"],
    }),
  device_created_machine_tags: nonEmpty()
    .optional()
    .register(keyDocs, {
      description: "Sent as `DeviceCreatedMachineTags`",
      sources: ["siem"],
      example: "tag",
    }),
  cloud_created_machine_tags: nonEmpty()
    .optional()
    .register(keyDocs, {
      description: "Sent as `CloudCreatedMachineTags`",
      sources: ["siem"],
      example: "tag",
    }),
});

type TenantInput = z.infer<typeof tenantInputSchema>;

function refineTenant(t: TenantInput, ctx: z.RefinementCtx): void {
  const issue = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
  const secret = t.client_secret !== undefined;
  const cert = t.client_certificate_file !== undefined;
  const key = t.client_key_file !== undefined;
  if (secret && (cert || key)) {
    issue(
      cert ? "client_certificate_file" : "client_key_file",
      "set either client_secret (or client_secret_file) or client_certificate_file with client_key_file, not both",
    );
  } else if (cert && !key) {
    issue("client_key_file", "is required with client_certificate_file (the certificate's private key, PEM)");
  } else if (key && !cert) {
    issue(
      "client_certificate_file",
      "is required with client_key_file (the PEM certificate registered on the app)",
    );
  } else if (!secret && !cert) {
    issue(
      "client_secret",
      "is required: set client_secret (or client_secret_file), or client_certificate_file and client_key_file",
    );
  }

  if (t.source !== "siem") {
    for (const k of SIEM_ONLY_KEYS) if (t[k] !== undefined) issue(k, `${k} is for source: siem`);
    if (t.resource !== undefined) {
      issue("resource", `resource is for source: siem (a v1 token); source ${t.source} takes scope`);
    }
    if (t.source === "incidents" && t.events !== undefined) {
      issue("events", "events is for source: alerts or graph (an incident is one event per version)");
    }
  } else {
    if (t.events !== undefined) issue("events", "events is for source: alerts or graph");
    if (t.resource !== undefined && t.scope !== undefined) {
      issue("scope", "set either resource (a v1 token) or scope (a v2 token), not both");
    }
  }

  if (t.service_sources !== undefined && t.source !== "graph") {
    issue(
      "service_sources",
      t.source === "incidents"
        ? "service_sources is for source: graph (Graph cannot filter incidents by service)"
        : "service_sources is for source: graph",
    );
  }
  if (t.region !== undefined) {
    if (t.source === "graph" || t.source === "incidents") {
      issue("region", `region is not used by source: ${t.source} (set cloud for a national cloud)`);
    } else if (t.cloud !== "global" && t.region !== "us") {
      issue("region", `cloud ${t.cloud} has only the us host; remove region or set it to us`);
    } else if (t.cloud !== "global" && t.source === "alerts") {
      issue("region", `region is for cloud: global (cloud ${t.cloud} has one Alerts API host)`);
    }
  }
  if (t.source === "siem" && t.cloud === "global" && t.region === undefined && t.api_url === undefined) {
    issue("region", "set region (eu, us, uk) or api_url");
  }
}

/** A tenant as the forwarder uses it: what its cloud and source imply is filled in. */
export type ResolvedTenant = Omit<
  TenantInput,
  "authority_host" | "resource" | "scope" | "events" | "machine_groups"
> & {
  /** The token authority: `authority_host`, else the cloud's. */
  authority_host: string;
  /** Set for a v1 token (siem without scope), absent for v2. */
  resource?: string;
  /** Set for a v2 token (alerts, graph, incidents, siem with scope), absent for v1. */
  scope?: string;
  /** alerts/graph: one event per alert or per evidence entity; `alert` (unused) for siem. */
  events: "alert" | "evidence";
  /** siem only; [] elsewhere. */
  machine_groups: string[];
};

/** Fills in what the tenant's cloud and source imply, so that check-config shows what will be used. */
function resolveTenant(t: TenantInput): ResolvedTenant {
  const { resource: _resource, scope: _scope, machine_groups, events, ...rest } = t;
  const token = tokenRequestOf(t);
  return {
    ...rest,
    authority_host: authorityOf(t),
    ...(token.version === "v1" ? { resource: token.resource } : { scope: token.scope }),
    events: events ?? "alert",
    machine_groups: machine_groups ?? [],
  };
}

/** The national clouds' endpoints, from the presets the forwarder uses (clouds.ts). */
function nationalClouds(): string {
  const clouds = Object.entries(CLOUD_PRESETS);
  const siem = (p: (typeof CLOUD_PRESETS)[keyof typeof CLOUD_PRESETS]) =>
    Object.keys(p.siem).length > 1 ? "https://wdatp-alertexporter-{eu,us,uk}.windows.com" : (p.siem.us ?? "");
  const alerts = (p: (typeof CLOUD_PRESETS)[keyof typeof CLOUD_PRESETS]) =>
    p.alertsRegional === undefined ? p.alerts : `${p.alerts} (\`region\`: api-{us,eu,uk}.…)`;
  return [
    "**National clouds.** `cloud` picks the token authority and the API hosts of every source:",
    markdownTable(
      ["cloud", "token authority", "Graph (graph, incidents)"],
      clouds.map(([name, p]) => [`\`${name}\``, p.authority, p.graph]),
    ),
    markdownTable(
      ["cloud", "SIEM API (siem)", "Alerts API (alerts)"],
      clouds.map(([name, p]) => [`\`${name}\``, siem(p), alerts(p)]),
    ),
    "Microsoft documents no SIEM `resource` for the US Gov clouds; the global value is used there, and " +
      "`resource` overrides it. The US Gov Alerts API scopes are not documented either and follow the API " +
      "host (`https://api-gov.securitycenter.microsoft.us/.default`); `scope` overrides them.",
  ].join("\n\n");
}

export const tenantSchema = tenantInputSchema
  .superRefine(refineTenant)
  .transform(resolveTenant)
  .register(keyDocs, {
    description: "One or more; each has its own checkpoint",
    details: [
      "A tenant needs exactly one credential: `client_secret` (or `client_secret_file`), or " +
        "`client_certificate_file` with `client_key_file`. A key of one source used with another is an " +
        "error, not ignored.",
      nationalClouds(),
    ].join("\n\n"),
  });

export const pollSchema = z
  .strictObject({
    schedule: z
      .string()
      .default("*/1 * * * *")
      .refine((s) => validateCron(s), "is not a valid cron expression (5 fields, or 6 with seconds)")
      .register(keyDocs, {
        description: "node-cron expression (5 fields, or 6 with seconds)",
        details:
          "Every tenant is also polled once at start. A tenant whose poll is still running when the schedule " +
          "fires skips that tick.",
      }),
    lookback: duration({ min: 1_000 })
      .default(2 * 3_600_000)
      .register(keyDocs, {
        description: "First window of a tenant without checkpoint: `[now - lookback, now]`",
      }),
    overlap: duration()
      .default(5 * 60_000)
      .register(keyDocs, {
        description: "How late a detection may become visible in the API and still be caught",
        details:
          "A detection can show up after later ones, its LastProcessedTimeUtc already behind the checkpoint. " +
          "While the overlap holds at most `max_per_request` detections (one request's worth, measured from " +
          "this tenant's recent polls; every small tenant), every poll reads all of it, so a late detection is " +
          "caught by the next poll. Above that, each poll reads on from where the previous one ended, `settle` " +
          "before its now (after a whole read: from the checkpoint minus `short_overlap`), and every stretch of " +
          "time once more when it is `overlap` old (the second look): a detection up to `settle` late is " +
          "caught on time, one up to `overlap` late by that second look, about `overlap` after its " +
          "LastProcessedTimeUtc. The first poll after a start reads the whole overlap. Re-read detections are " +
          "dropped by FullId. See docs/sources.md.",
      }),
    short_overlap: duration()
      .default(2_000)
      .register(keyDocs, {
        description: "At high volume, a poll after a whole read starts this far before the checkpoint",
        details:
          "Catches at the next poll a detection that becomes visible a moment after its LastProcessedTimeUtc " +
          "(the API stamping it before serving it, a poll's end racing that, clock skew) when the mode switches " +
          "from whole reads to second looks; between second-look polls `settle` does that. With `settle` 0 " +
          "every second-look poll reads this much again, so a detection is fetched 2 + " +
          "short_overlap/schedule times in that mode: 2.4 at a 5 s schedule, 2.03 at one minute. Set it to " +
          "`overlap` (and `settle` to 0) to read the whole overlap on every poll whatever the volume (every " +
          "late detection caught at the next poll, at overlap/schedule times the reads).",
      }),
    settle: duration()
      .default(500)
      .register(keyDocs, {
        description: "At high volume, how long a poll leaves the newest instants for the next one",
        details:
          "A second-look poll's fresh window ends this far before now and the next one starts " +
          "exactly there, so nothing is read twice but by the second look: a detection is fetched twice, and " +
          "one served up to `settle` after its LastProcessedTimeUtc is still caught on time, at the cost of " +
          "`settle` more latency for every detection (the SIEM API; the Alerts API and Graph return what is " +
          "newer anyway, so their polls re-read the last `settle` instead). The first second-look poll after a " +
          "whole read starts `short_overlap` back. 0 re-reads `short_overlap` on every poll instead (2 + " +
          "short_overlap/schedule fetches per detection).",
      }),
    max_per_request: int({ min: 1, max: 100_000 })
      .default(5000)
      .register(keyDocs, {
        description: "Sent as `limit`; a response with exactly this many detections splits the window",
        details:
          "A full response may have cut older detections off, so its window is split. One with more than " +
          "`limit` proves the server ignores `limit`, so it cut nothing: it is taken as complete, never split " +
          "(said once in the log).",
      }),
    request_timeout: duration({ min: 1_000 })
      .default(60_000)
      .register(keyDocs, { description: "One API or token request, the whole response included" }),
    permanent_error_retry: duration({ min: 1_000 })
      .default(3_600_000)
      .register(keyDocs, {
        description: "A tenant whose poll failed permanently rests this long; other tenants carry on",
        details:
          "Permanent failures are a 403, rejected credentials, or a 401 with a fresh token: trying again at " +
          "once would not help, and would only fill the log.",
      }),
    max_concurrent_requests: int({ min: 1, max: 1_000 }).default(8).register(keyDocs, {
      description: "API calls in flight at once across all tenants (token requests not counted)",
      details: "A tenant waiting for its rate limit holds no slot.",
    }),
    max_response_bytes: byteSize({ min: 65_536, max: 1_073_741_824 })
      .default(64 * 1_048_576)
      .register(keyDocs, {
        description: "One API response, decompressed; the request is aborted past it (E_API_TOO_LARGE)",
        details:
          "The response is read as a stream and never held whole beyond this size: a huge, endless or " +
          "compressed-bomb body costs bounded memory. The other tenants and the next poll carry on.",
      }),
    max_requests_per_poll: int({ min: 1, max: 1_000_000 })
      .default(1_000)
      .register(keyDocs, {
        description: "API requests one poll of a tenant may make (E_POLL_TOO_MANY_REQUESTS past it)",
        details:
          "A server that ignores `limit` would otherwise split the window without end; the next poll goes on " +
          "from the checkpoint.",
      }),
  })
  .prefault({})
  .register(keyDocs, { description: "When and how the tenants are read" });

/**
 * The top-level `proxy` block. Every key is optional: the url falls back to $https_proxy / $HTTPS_PROXY and
 * no_proxy to $no_proxy / $NO_PROXY when the forwarder starts (see resolveProxy in proxy.ts).
 */
export const proxySchema = z
  .strictObject({
    url: z
      .string()
      .trim()
      .min(1, "must not be empty")
      .superRefine((value, ctx) => {
        try {
          parseProxyUrl(value);
        } catch (err) {
          // The message names the URL without its credentials.
          const message = err instanceof Error ? err.message.replace(/^proxy\.url: /, "") : "is not a URL";
          ctx.addIssue({ code: "custom", message });
        }
      })
      .optional()
      .register(keyDocs, {
        description: "`http://[user:password@]host[:port]` (port 80 if not given)",
        default: "`$https_proxy` / `$HTTPS_PROXY`",
        example: "http://user:password@proxy.example.com:3128",
        details:
          "Every HTTPS call of the source side, token requests included, goes through an HTTP CONNECT tunnel. " +
          "The credentials go out as `Proxy-Authorization` and are never logged (`check-config` shows the URL " +
          "without them). `http://` targets (loopback only) are never proxied.",
      }),
    // A YAML list, or one comma-separated string (as `${NO_PROXY}` expands).
    no_proxy: z
      .union([z.array(nonEmpty()), z.string()], {
        error: "must be a list of hosts or a comma-separated string",
      })
      .transform((v) =>
        (typeof v === "string" ? v.split(",") : v).map((h) => h.trim()).filter((h) => h !== ""),
      )
      .optional()
      .register(keyDocs, {
        description: "Hosts reached directly, as a list or a comma-separated string",
        default: "`$no_proxy` / `$NO_PROXY`",
        example: ["localhost", ".corp.example"],
        details:
          "`example.com` and `.example.com` match the name and every subdomain; `*` alone matches every host; " +
          "IP addresses and subnets (`10.0.0.0/8`, `::1`); `host:port` matches one port only.",
      }),
    ca_file: nonEmpty()
      .optional()
      .register(keyDocs, {
        description: "A PEM bundle of extra CAs, for TLS-inspecting proxies",
        example: "/etc/ssl/corp-root.pem",
        details:
          "Trusted for every outbound HTTPS call of the source side, in addition to Node's built-in root CAs. " +
          "An unreadable file, or one with no certificate, stops the start.",
      }),
    // The credentials apart from the URL, so that the password can be a secret file (`password_file`).
    username: nonEmpty().optional().register(keyDocs, {
      description: "The proxy user, instead of credentials in `url` (then `url` must carry none)",
      example: "svc-mde",
    }),
    password: z.string().min(1, "must not be empty").optional().register(keyDocs, {
      description: "The proxy password, with `username`",
      secret: true,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's own ${VAR} syntax, not a template
      example: "${PROXY_PASSWORD}",
    }),
  })
  .superRefine((p, ctx) => {
    if (p.password !== undefined && p.username === undefined) {
      ctx.addIssue({ code: "custom", path: ["username"], message: "is required with password" });
    }
    if ((p.username !== undefined || p.password !== undefined) && p.url !== undefined && hasUserInfo(p.url)) {
      ctx.addIssue({
        code: "custom",
        path: ["url"],
        message: "carries credentials and username/password are set too; keep one of them",
      });
    }
  })
  .optional()
  .register(keyDocs, {
    description: "Optional: an HTTP proxy for every HTTPS call of the source side",
    details:
      "A proxy that refuses the tunnel (403, 407) or cannot be reached is `E_API_NETWORK` (retryable). The " +
      "message names the proxy as `host:port`, never with credentials.",
  });

function hasUserInfo(url: string): boolean {
  return /^([a-z][a-z0-9+.-]*:\/\/)?[^/?#]*@/i.test(url.trim());
}

export type TenantConfig = z.infer<typeof tenantSchema>;
export type PollConfig = z.infer<typeof pollSchema>;
export type ProxyConfig = NonNullable<z.infer<typeof proxySchema>>;

/** The SIEM API base of a tenant (kept for siem-api.ts); apiBaseOf covers every source. */
export function apiUrlOf(tenant: TenantConfig): string {
  return apiBaseOf(tenant);
}

/** The proxy URL of a config, safe to print (credentials masked), for check-config and logs. */
export function printableProxyUrl(proxy: ProxyConfig | undefined): string | undefined {
  return proxy?.url === undefined ? undefined : redactUrlCredentials(proxy.url);
}

/** One tenant's source, for createSource: the tenant (what its cloud and source imply filled in) and the poll settings. */
export interface SourceConfig {
  readonly tenant: TenantConfig;
  readonly poll: PollConfig;
}

/** The source side: what every tenant shares (one HTTP client, one concurrency limit) and each tenant. */
export interface SourcesConfig {
  /** For createHttpClient: the proxy in force (`proxy`, else the environment's) and the extra CAs. */
  readonly http: { readonly proxy: ProxySettings | undefined; readonly caFile: string | undefined };
  /** poll.max_concurrent_requests: API calls in flight at once across all tenants. */
  readonly maxConcurrentRequests: number;
  readonly tenants: readonly SourceConfig[];
}

/**
 * The source side of a config the schema accepted. `env` supplies the proxy when `proxy.url` is unset
 * ($https_proxy, $no_proxy); throws E_CONFIG_INVALID for an unusable proxy URL there.
 */
export function buildSourceConfig(
  config: { tenants: readonly TenantConfig[]; poll: PollConfig; proxy?: ProxyConfig | undefined },
  env: Env,
): SourcesConfig {
  return {
    http: { proxy: resolveProxy(config.proxy, env), caFile: config.proxy?.ca_file },
    maxConcurrentRequests: config.poll.max_concurrent_requests,
    tenants: config.tenants.map((tenant) => ({ tenant, poll: config.poll })),
  };
}
