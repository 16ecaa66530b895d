// Per-destination transport options.
import { z } from "zod";
import { bool, duration, int } from "../config/types.js";

export const tlsSchema = z
  .strictObject({
    ca_file: z.string().trim().min(1).optional(),
    cert_file: z.string().trim().min(1).optional(),
    key_file: z.string().trim().min(1).optional(),
    server_name: z.string().trim().min(1).optional(),
    reject_unauthorized: bool().default(true),
  })
  .superRefine((t, ctx) => {
    if ((t.cert_file === undefined) !== (t.key_file === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: [t.cert_file === undefined ? "cert_file" : "key_file"],
        message: "cert_file and key_file go together (mutual TLS)",
      });
    }
  })
  .prefault({});

export const transportOptionsShape = {
  protocol: z.enum(["udp", "tcp", "tls"], { error: "must be one of udp, tcp, tls" }).default("tcp"),
  host: z.string().trim().min(1, "must not be empty"),
  /** Defaults: 514 for udp and tcp, 6514 for tls. */
  port: int({ min: 1, max: 65535 }).optional(),
  /** Defaults: lf for tcp, octet-counting for tls (RFC 5425). Not used by udp. */
  framing: z.enum(["lf", "octet-counting"], { error: "must be lf or octet-counting" }).optional(),
  tls: tlsSchema,
  connect_timeout: duration({ min: 100 }).default(10_000),
  write_timeout: duration({ min: 100 }).default(30_000),
};

const transportOptionsSchema = z.object(transportOptionsShape);
type RawTransportOptions = z.infer<typeof transportOptionsSchema>;

export type TlsOptions = z.infer<typeof tlsSchema>;

export type Framing = "lf" | "octet-counting";

/** Transport options with the protocol-dependent defaults filled in. */
export interface TransportOptions extends Omit<RawTransportOptions, "port" | "framing"> {
  port: number;
  framing: Framing;
}

export function resolveTransport(raw: RawTransportOptions): TransportOptions {
  return {
    ...raw,
    port: raw.port ?? (raw.protocol === "tls" ? 6514 : 514),
    framing: raw.framing ?? (raw.protocol === "tls" ? "octet-counting" : "lf"),
  };
}
