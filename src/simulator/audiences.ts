// Which API a token is for, from the v1 `resource` or the v2 `scope` it was requested with. Real APIs
// refuse a token issued for another audience; the simulator does the same, keyed on these names.

/** "siem": the legacy SIEM API; "alerts-api": the MDE Alerts API; "graph": Microsoft Graph. */
export type Audience = "siem" | "alerts-api" | "graph";

// Application ID URIs (global and US Government clouds) and the first-party application ids that
// Azure AD also accepts in their place.
const RESOURCES: ReadonlyMap<string, Audience> = new Map([
  ["https://graph.windows.net", "siem"],
  ["00000002-0000-0000-c000-000000000000", "siem"],
  ["https://api.securitycenter.microsoft.com", "alerts-api"],
  ["https://api.securitycenter.windows.com", "alerts-api"],
  ["https://api.security.microsoft.com", "alerts-api"],
  ["https://securitycenter.onmicrosoft.com/windowsatpservice", "alerts-api"],
  ["https://api-gcc.securitycenter.microsoft.us", "alerts-api"],
  ["https://api-gov.securitycenter.microsoft.us", "alerts-api"],
  ["fc780465-2017-40d4-a0c5-307022471b92", "alerts-api"],
  ["https://graph.microsoft.com", "graph"],
  ["https://graph.microsoft.us", "graph"],
  ["https://dod-graph.microsoft.us", "graph"],
  ["00000003-0000-0000-c000-000000000000", "graph"],
]);

/** The audience of a resource (`https://graph.microsoft.com`, trailing slash or not); undefined if unknown. */
export function audienceOf(resource: string): Audience | undefined {
  return RESOURCES.get(resource.trim().toLowerCase().replace(/\/+$/, ""));
}
