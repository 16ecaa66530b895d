// Per-destination transport options.
import { z } from "zod";
import { bool, duration, int } from "../config/types.js";

const tlsObjectSchema = z
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
  });

export const tlsSchema = tlsObjectSchema.prefault({});

/** librelp's default window: RELP commands sent and not yet answered, at most. */
export const DEFAULT_RELP_WINDOW = 128;
/** RELP has no assigned port; rsyslog's imrelp and omrelp examples use 2514. */
export const DEFAULT_RELP_PORT = 2514;

export const transportOptionsShape = {
  protocol: z
    .enum(["udp", "tcp", "tls", "relp"], { error: "must be one of udp, tcp, tls, relp" })
    .default("tcp"),
  host: z.string().trim().min(1, "must not be empty"),
  /** Defaults: 514 for udp and tcp, 6514 for tls, 2514 for relp. */
  port: int({ min: 1, max: 65535 }).optional(),
  /** Defaults: lf for tcp, octet-counting for tls (RFC 5425). Not used by udp and relp. */
  framing: z.enum(["lf", "octet-counting"], { error: "must be lf or octet-counting" }).optional(),
  /** Always used by protocol tls; for relp, the block's presence turns TLS on. Absent: the defaults. */
  tls: tlsObjectSchema.optional(),
  /** relp only: messages sent and not yet acknowledged, at most (default 128). */
  window_size: int({ min: 1, max: 10_000 }).optional(),
  connect_timeout: duration({ min: 100 }).default(10_000),
  write_timeout: duration({ min: 100 }).default(30_000),
};

const transportOptionsSchema = z.object(transportOptionsShape);
type RawTransportOptions = z.infer<typeof transportOptionsSchema>;

export type TlsOptions = z.infer<typeof tlsSchema>;

export type Framing = "lf" | "octet-counting";

/** Transport options with the protocol-dependent defaults filled in. */
export interface TransportOptions extends Omit<RawTransportOptions, "port" | "framing" | "tls"> {
  port: number;
  framing: Framing;
  tls: TlsOptions;
  /** relp: whether the destination has a `tls` block (RELP over TLS). Absent for the other protocols. */
  tls_enabled?: boolean;
}

export function resolveTransport(raw: RawTransportOptions): TransportOptions {
  const relp = raw.protocol === "relp";
  return {
    ...raw,
    port: raw.port ?? (raw.protocol === "tls" ? 6514 : relp ? DEFAULT_RELP_PORT : 514),
    framing: raw.framing ?? (raw.protocol === "tls" ? "octet-counting" : "lf"),
    tls: raw.tls ?? tlsSchema.parse({}),
    ...(relp
      ? { tls_enabled: raw.tls !== undefined, window_size: raw.window_size ?? DEFAULT_RELP_WINDOW }
      : {}),
  };
}

/** Whether connections of this destination use TLS: protocol tls, or relp with a `tls` block. */
export function usesTls(options: Pick<TransportOptions, "protocol" | "tls_enabled">): boolean {
  return options.protocol === "tls" || (options.protocol === "relp" && options.tls_enabled === true);
}

/** What createSink takes: the destination's name and its transport, protocol-dependent defaults filled in. */
export type SinkConfig = TransportOptions & { name: string };

/** The sink's part of a destination the schema accepted (its transform resolved the defaults). */
export function buildSinkConfig(destination: SinkConfig): SinkConfig {
  const { name, protocol, host, port, framing, tls, connect_timeout, write_timeout } = destination;
  return {
    name,
    protocol,
    host,
    port,
    framing,
    tls,
    connect_timeout,
    write_timeout,
    ...(destination.window_size === undefined ? {} : { window_size: destination.window_size }),
    ...(destination.tls_enabled === undefined ? {} : { tls_enabled: destination.tls_enabled }),
  };
}
