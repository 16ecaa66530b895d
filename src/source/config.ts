// Config of the source side: tenants and the poll settings.
import { validate as validateCron } from "node-cron";
import { z } from "zod";
import { duration, httpsUrl, int, name, nonEmpty } from "../config/types.js";

/** The SIEM API hosts per region, from Microsoft's "Pull detections using SIEM REST API" page. */
export const REGION_API_URLS = {
  eu: "https://wdatp-alertexporter-eu.windows.com",
  us: "https://wdatp-alertexporter-us.windows.com",
  uk: "https://wdatp-alertexporter-uk.windows.com",
} as const;

export const tenantSchema = z
  .strictObject({
    name: name(),
    tenant_id: nonEmpty(),
    client_id: nonEmpty(),
    client_secret: nonEmpty(),
    region: z.enum(["eu", "us", "uk"], { error: "must be one of eu, us, uk" }).optional(),
    api_url: httpsUrl().optional(),
    authority_host: httpsUrl().default("https://login.microsoftonline.com"),
    resource: nonEmpty().default("https://graph.windows.net"),
    machine_groups: z.array(nonEmpty()).default([]),
    device_created_machine_tags: nonEmpty().optional(),
    cloud_created_machine_tags: nonEmpty().optional(),
  })
  .superRefine((t, ctx) => {
    if (t.region === undefined && t.api_url === undefined) {
      ctx.addIssue({ code: "custom", path: ["region"], message: "set region (eu, us, uk) or api_url" });
    }
  });

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
  })
  .prefault({});

export type TenantConfig = z.infer<typeof tenantSchema>;
export type PollConfig = z.infer<typeof pollSchema>;

export function apiUrlOf(tenant: TenantConfig): string {
  return tenant.api_url ?? REGION_API_URLS[tenant.region ?? "us"];
}
