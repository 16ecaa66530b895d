// The CEF/LEEF header product of an event, by the product that raised it. Graph's alerts_v2 returns the
// alerts of every Defender product; SIEM content keys on vendor and product, so a Defender for Office 365
// alert says so in the header. Defender for Endpoint alerts (and every SIEM API and Alerts API detection)
// keep the configured product (`header.product`, "Microsoft Defender ATP" by default), so existing
// content for Microsoft's connector keeps matching. `mapping.product_per_service: false` pins every event
// to the configured product.
import type { GraphServiceSource } from "../record.js";

/** The products by Graph's serviceSource; undefined: the configured product. */
export const SERVICE_PRODUCTS: Readonly<Record<GraphServiceSource, string | undefined>> = {
  microsoftDefenderForEndpoint: undefined,
  microsoftDefenderForIdentity: "Microsoft Defender for Identity",
  microsoftDefenderForCloudApps: "Microsoft Defender for Cloud Apps",
  microsoftDefenderForOffice365: "Microsoft Defender for Office 365",
  microsoft365Defender: "Microsoft Defender XDR",
  azureAdIdentityProtection: "Microsoft Entra ID Protection",
  microsoftAppGovernance: "Microsoft Defender for Cloud Apps app governance",
  dataLossPrevention: "Microsoft Purview Data Loss Prevention",
  microsoftDefenderForCloud: "Microsoft Defender for Cloud",
  microsoftSentinel: "Microsoft Sentinel",
  microsoftInsiderRiskManagement: "Microsoft Purview Insider Risk Management",
};

/** The product of incident events: incidents are Defender XDR's, whatever products their alerts come from. */
export const INCIDENT_PRODUCT = "Microsoft Defender XDR";

/** A member Graph adds later: camelCase, letters and digits. */
const MEMBER = /^[a-z][A-Za-z0-9]{2,62}$/;

/**
 * The product for a Graph alert's serviceSource: the table's name; for a member the table does not know
 * yet, its words (`microsoftDefenderForThings` → "Microsoft Defender For Things"); undefined (the
 * configured product) for Defender for Endpoint, `unknown`, `unknownFutureValue` and anything else.
 */
export function serviceProduct(serviceSource: unknown): string | undefined {
  if (typeof serviceSource !== "string") return undefined;
  if (Object.hasOwn(SERVICE_PRODUCTS, serviceSource)) {
    return SERVICE_PRODUCTS[serviceSource as GraphServiceSource];
  }
  if (serviceSource === "unknown" || serviceSource === "unknownFutureValue" || !MEMBER.test(serviceSource)) {
    return undefined;
  }
  const words = serviceSource.replace(/([a-z0-9])([A-Z])/g, "$1 $2");
  return words.charAt(0).toUpperCase() + words.slice(1);
}
