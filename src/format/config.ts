// Per-destination format options: what the message looks like, before framing.
import { z } from "zod";

export const FACILITIES = {
  kern: 0,
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  syslog: 5,
  lpr: 6,
  news: 7,
  uucp: 8,
  cron: 9,
  authpriv: 10,
  ftp: 11,
  ntp: 12,
  security: 13,
  console: 14,
  solaris_cron: 15,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
} as const;

export type Facility = keyof typeof FACILITIES;

const facilityNames = Object.keys(FACILITIES) as [Facility, ...Facility[]];

export const formatOptionsShape = {
  format: z.enum(["cef", "leef", "json"], { error: "must be one of cef, leef, json" }).default("cef"),
  syslog_header: z
    .enum(["rfc5424", "rfc3164", "none"], { error: "must be one of rfc5424, rfc3164, none" })
    .default("rfc5424"),
  facility: z.enum(facilityNames, { error: `must be one of ${facilityNames.join(", ")}` }).default("local0"),
  app_name: z
    .string()
    .regex(/^[!-~]{1,48}$/, "must be 1-48 printable ASCII characters without spaces")
    .default("mde-forwarder"),
  /** Defaults to the machine's host name at start-up. */
  hostname: z
    .string()
    .regex(/^[!-~]{1,255}$/, "must be 1-255 printable ASCII characters without spaces")
    .optional(),
  leef_version: z.enum(["1.0", "2.0"], { error: "must be 1.0 or 2.0" }).default("2.0"),
};

const formatOptionsSchema = z.object(formatOptionsShape);
export type FormatOptions = z.infer<typeof formatOptionsSchema>;
