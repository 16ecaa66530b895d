// Config of the source side: tenants and the poll settings.
import { validate as validateCron } from "node-cron";
import { z } from "zod";
import { duration, httpsUrl, int, name, nonEmpty } from "../config/types.js";
import { GRAPH_SERVICE_SOURCES } from "../record.js";
import { apiBaseOf, authorityOf, CLOUDS, REGIONS, SOURCES, tokenRequestOf } from "./clouds.js";
import { type Env, type ProxySettings, parseProxyUrl, redactUrlCredentials, resolveProxy } from "./proxy.js";

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
  name: name(),
  source: z.enum(SOURCES, { error: "must be one of siem, alerts, graph, incidents" }).default("siem"),
  cloud: z.enum(CLOUDS, { error: "must be one of global, gcc, gcc-high, dod" }).default("global"),
  tenant_id: nonEmpty(),
  client_id: nonEmpty(),
  client_secret: nonEmpty().optional(),
  client_certificate_file: nonEmpty().optional(),
  client_key_file: nonEmpty().optional(),
  region: z.enum(REGIONS, { error: "must be one of eu, us, uk" }).optional(),
  api_url: httpsUrl().optional(),
  authority_host: httpsUrl().optional(),
  resource: nonEmpty().optional(),
  scope: nonEmpty().optional(),
  events: z.enum(["alert", "evidence"], { error: "must be one of alert, evidence" }).optional(),
  service_sources: z
    .array(
      z.enum(GRAPH_SERVICE_SOURCES, {
        error: `must be one of Graph's serviceSource values: ${GRAPH_SERVICE_SOURCES.join(", ")}`,
      }),
    )
    .min(1, "must name at least one service (leave the key out to read every service)")
    .optional(),
  machine_groups: z.array(nonEmpty()).optional(),
  device_created_machine_tags: nonEmpty().optional(),
  cloud_created_machine_tags: nonEmpty().optional(),
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

export const tenantSchema = tenantInputSchema.superRefine(refineTenant).transform(resolveTenant);

export const pollSchema = z
  .strictObject({
    schedule: z
      .string()
      .default("*/1 * * * *")
      .refine((s) => validateCron(s), "is not a valid cron expression (5 fields, or 6 with seconds)"),
    lookback: duration({ min: 1_000 }).default(2 * 3_600_000),
    overlap: duration().default(5 * 60_000),
    max_per_request: int({ min: 1, max: 100_000 }).default(5000),
    request_timeout: duration({ min: 1_000 }).default(60_000),
    /** A tenant that failed permanently (403, rejected credentials) is tried again after this long. */
    permanent_error_retry: duration({ min: 1_000 }).default(3_600_000),
    /** API calls in flight at once across all tenants (token requests not counted). */
    max_concurrent_requests: int({ min: 1, max: 1_000 }).default(8),
  })
  .prefault({});

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
      .optional(),
    // A YAML list, or one comma-separated string (as `${NO_PROXY}` expands).
    no_proxy: z
      .union([z.array(nonEmpty()), z.string()], {
        error: "must be a list of hosts or a comma-separated string",
      })
      .transform((v) =>
        (typeof v === "string" ? v.split(",") : v).map((h) => h.trim()).filter((h) => h !== ""),
      )
      .optional(),
    ca_file: nonEmpty().optional(),
    // The credentials apart from the URL, so that the password can be a secret file (`password_file`).
    username: nonEmpty().optional(),
    password: z.string().min(1, "must not be empty").optional(),
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
  .optional();

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
