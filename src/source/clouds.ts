// National cloud presets: the token authority and the API hosts of each source, per cloud, and the helpers
// that resolve a tenant's endpoints from them (a tenant's `authority_host`, `api_url`, `resource` and
// `scope` override the preset). The sources cited below are Microsoft's documentation pages:
// PULL = Microsoft's "Pull detections using SIEM REST API" page, GOV-2021 / GOV-NOW = the "Microsoft
// Defender for Endpoint for US Government customers" page (2021 and 2026 versions), ALERTS = the MDE
// Alerts API pages, GRAPH = Microsoft Graph's alerts_v2 and "national cloud deployments" pages.
import type { SourceKind } from "../record.js";

export const SOURCES = ["siem", "alerts", "graph", "incidents"] as const satisfies readonly SourceKind[];
export const CLOUDS = ["global", "gcc", "gcc-high", "dod"] as const;
export const REGIONS = ["eu", "us", "uk"] as const;

export type Cloud = (typeof CLOUDS)[number];
export type Region = (typeof REGIONS)[number];

export interface CloudPreset {
  /** Azure AD authority: tokens come from `{authority}/{tenant_id}/oauth2[/v2.0]/token`. */
  readonly authority: string;
  /** SIEM API host per region; a cloud with one host lists only `us`. */
  readonly siem: Readonly<Partial<Record<Region, string>>>;
  /** MDE Alerts API base; also the root of its default scope. */
  readonly alerts: string;
  /** Geo hosts of the Alerts API, chosen by `region`; absent where the cloud has one host. */
  readonly alertsRegional?: Readonly<Record<Region, string>>;
  /** Microsoft Graph root; also the root of its default scope. */
  readonly graph: string;
}

export const CLOUD_PRESETS: Readonly<Record<Cloud, CloudPreset>> = {
  global: {
    authority: "https://login.microsoftonline.com", // PULL (token request sample)
    siem: {
      // PULL ("GET https://wdatp-alertexporter-{eu,us,uk}.windows.com/api/alerts")
      eu: "https://wdatp-alertexporter-eu.windows.com",
      us: "https://wdatp-alertexporter-us.windows.com",
      uk: "https://wdatp-alertexporter-uk.windows.com",
    },
    alerts: "https://api.securitycenter.microsoft.com", // ALERTS (get-alerts)
    alertsRegional: {
      // ALERTS via msticpy's host table (geo hosts)
      eu: "https://api-eu.securitycenter.microsoft.com",
      us: "https://api-us.securitycenter.microsoft.com",
      uk: "https://api-uk.securitycenter.microsoft.com",
    },
    graph: "https://graph.microsoft.com", // GRAPH (alerts_v2)
  },
  gcc: {
    authority: "https://login.microsoftonline.com", // GOV-2021, GOV-NOW (GCC signs in on the global authority)
    siem: { us: "https://wdatp-alertexporter-us.gcc.securitycenter.windows.us" }, // GOV-2021 (GOV-NOW has no SIEM row)
    alerts: "https://api-gcc.securitycenter.microsoft.us", // GOV-NOW
    graph: "https://graph.microsoft.com", // GRAPH deployments ("global and GCC")
  },
  "gcc-high": {
    authority: "https://login.microsoftonline.us", // GOV-2021, GOV-NOW; GRAPH deployments
    siem: { us: "https://wdatp-alertexporter-us.securitycenter.windows.us" }, // GOV-2021 (GOV-NOW has no SIEM row)
    alerts: "https://api-gov.securitycenter.microsoft.us", // GOV-NOW
    graph: "https://graph.microsoft.us", // GRAPH deployments (US Gov L4)
  },
  dod: {
    authority: "https://login.microsoftonline.us", // GOV-2021, GOV-NOW; GRAPH deployments
    siem: { us: "https://wdatp-alertexporter-us.securitycenter.windows.us" }, // GOV-2021 (GOV-NOW has no SIEM row)
    alerts: "https://api-gov.securitycenter.microsoft.us", // GOV-NOW
    graph: "https://dod-graph.microsoft.us", // GRAPH deployments (US Gov L5, DoD)
  },
};

/**
 * The v1 `resource` of SIEM tokens, as PULL documents it for the global cloud. The value for the US Gov
 * clouds is not documented; the same default applies there, `resource` overrides.
 */
export const SIEM_RESOURCE = "https://graph.windows.net";

/** The fields the endpoint helpers read; a TenantConfig has them all. */
export interface TenantEndpoints {
  readonly tenant_id: string;
  readonly source: SourceKind;
  readonly cloud: Cloud;
  readonly region?: Region | undefined;
  readonly api_url?: string | undefined;
  readonly authority_host?: string | undefined;
  readonly resource?: string | undefined;
  readonly scope?: string | undefined;
}

export type TokenRequest =
  /** Azure AD v1: `POST {authority}/{tenant}/oauth2/token` with `resource` (the SIEM API's documented way). */
  | { readonly version: "v1"; readonly endpoint: string; readonly resource: string }
  /** Microsoft identity platform v2: `POST {authority}/{tenant}/oauth2/v2.0/token` with `scope`. */
  | { readonly version: "v2"; readonly endpoint: string; readonly scope: string };

/**
 * The default scope of a v2 token for a source in a cloud: `{API root}/.default`. The Alerts API's global
 * scope is ALERTS' `https://api.securitycenter.microsoft.com/.default` (the geo hosts share it); the US Gov
 * Alerts scopes are not documented and follow the same rule from GOV-NOW's hosts. Graph's are GRAPH's roots.
 * SIEM tokens are v1 unless a scope is set; its default here is only for a `siem` tenant given `scope`.
 */
export function defaultScopeOf(source: SourceKind, cloud: Cloud): string {
  const preset = CLOUD_PRESETS[cloud];
  switch (source) {
    case "alerts":
      return `${preset.alerts}/.default`;
    case "graph":
    case "incidents":
      return `${preset.graph}/.default`;
    case "siem":
      return `${SIEM_RESOURCE}/.default`;
  }
}

export function authorityOf(tenant: Pick<TenantEndpoints, "cloud" | "authority_host">): string {
  return tenant.authority_host ?? CLOUD_PRESETS[tenant.cloud].authority;
}

/**
 * The API base URL of the tenant's source, without a trailing slash: `api_url` when set, else the preset
 * of its cloud (and region: SIEM's regional host, or the Alerts API's geo host when a region is given).
 * The config schema guarantees a SIEM tenant of the global cloud has a region or an api_url; a tenant
 * built by hand without either gets the `us` host.
 */
export function apiBaseOf(tenant: Pick<TenantEndpoints, "source" | "cloud" | "region" | "api_url">): string {
  if (tenant.api_url !== undefined) return tenant.api_url;
  const preset = CLOUD_PRESETS[tenant.cloud];
  switch (tenant.source) {
    case "siem":
      return preset.siem[tenant.region ?? "us"] ?? (preset.siem.us as string);
    case "alerts":
      return tenant.region !== undefined && preset.alertsRegional
        ? preset.alertsRegional[tenant.region]
        : preset.alerts;
    case "graph":
    case "incidents":
      return preset.graph;
  }
}

/**
 * The token request of a tenant: v1 with `resource` for `siem` (unless `scope` is set), v2 with `scope`
 * for `alerts`, `graph` and `incidents` (Graph's token).
 */
export function tokenRequestOf(tenant: TenantEndpoints): TokenRequest {
  const base = `${authorityOf(tenant)}/${encodeURIComponent(tenant.tenant_id)}/oauth2`;
  if (tenant.source === "siem" && tenant.scope === undefined) {
    return { version: "v1", endpoint: `${base}/token`, resource: tenant.resource ?? SIEM_RESOURCE };
  }
  return {
    version: "v2",
    endpoint: `${base}/v2.0/token`,
    scope: tenant.scope ?? defaultScopeOf(tenant.source, tenant.cloud),
  };
}
