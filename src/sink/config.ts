// Per-destination transport options.
import { z } from "zod";
import { keyDocs } from "../config/key-doc.js";
import { bool, duration, int } from "../config/types.js";

const tlsObjectSchema = z
  .strictObject({
    ca_file: z.string().trim().min(1).optional().register(keyDocs, {
      description: "CA bundle (PEM) that verifies the receiver",
      default: "Node's built-in CAs",
      example: "/etc/ssl/siem-ca.pem",
    }),
    cert_file: z.string().trim().min(1).optional().register(keyDocs, {
      description: "Client certificate (PEM) for mutual TLS, with `key_file`",
      example: "/etc/ssl/client.pem",
    }),
    key_file: z
      .string()
      .trim()
      .min(1)
      .optional()
      .register(keyDocs, {
        description: "The client certificate's key (PEM), with `cert_file`",
        example: "/etc/ssl/client.key",
        details:
          "`cert_file` and `key_file` go together (both or neither). Keys in PKCS#8, PKCS#1 (RSA) or SEC1 (EC) " +
          "form; an encrypted (passphrase) key is refused.",
      }),
    server_name: z.string().trim().min(1).optional().register(keyDocs, {
      description: "Name verified in the receiver's certificate (and sent as SNI)",
      default: "`host`",
      example: "siem.example.com",
    }),
    reject_unauthorized: bool().default(true).register(keyDocs, {
      description: "`false` skips certificate verification: a warning at start and by `check-config`",
    }),
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
    .default("tcp")
    .register(keyDocs, {
      description: "Transport; relp: the receiver acknowledges each message",
      details:
        "`relp` is rsyslog's Reliable Event Logging Protocol: the receiver acknowledges each message; see " +
        "[Delivery guarantees](delivery.md#relp).",
    }),
  host: z
    .string()
    .trim()
    .min(1, "must not be empty")
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's own ${VAR} syntax, not a template
    .register(keyDocs, { description: "Receiver host name or address", example: "${SIEM_HOST:-127.0.0.1}" }),
  port: int({ min: 1, max: 65535 }).optional().register(keyDocs, {
    description: "Receiver port (RELP has no assigned port; rsyslog's examples use 2514)",
    default: "514; tls: 6514; relp: 2514",
    example: 514,
  }),
  framing: z
    .enum(["lf", "octet-counting"], { error: "must be lf or octet-counting" })
    .optional()
    .register(keyDocs, {
      description: "RFC 6587 / RFC 5425 framing; not for udp and relp (RELP frames each message)",
      default: "`lf`; tls: `octet-counting`",
      example: "lf",
    }),
  tls: tlsObjectSchema.optional().register(keyDocs, {
    description: "TLS settings: always used by protocol tls; for relp, the block turns TLS on",
    default: "unset (the defaults below)",
    details:
      "The `tls` keys serve protocol `tls`, and `relp`, where a `tls` block (even `tls: {}`) turns TLS on. " +
      "TLS connections require TLS 1.2 or later. The CA, certificate and key files are read at every connect " +
      "and checked for changes every 30 seconds while a connection is open: when they change (a rotated " +
      "certificate) and the new files validate, the connection is ended once its sends are confirmed and the " +
      "next one uses them, without a restart. New files that do not validate are logged (and counted as " +
      "`E_SINK_TLS`), and the current connection carries on with the old ones. A RELP session is replaced the " +
      "same way: once every message sent on it is acknowledged, it is closed with `close` and the next one uses " +
      "the new files.",
  }),
  window_size: int({ min: 1, max: 10_000 }).optional().register(keyDocs, {
    description: "relp only: messages sent and not yet acknowledged, at most",
    default: "128 (relp)",
    example: 128,
    details: "librelp's default is 128. The window also bounds the duplicates one lost connection can cause.",
  }),
  connect_timeout: duration({ min: 100 })
    .default(10_000)
    .register(keyDocs, { description: "One connection attempt" }),
  write_timeout: duration({ min: 100 }).default(30_000).register(keyDocs, {
    description: "A write the receiver does not take within this fails the connection",
    details:
      "The messages of a failed connection are resent. relp: also messages left this long without an answer.",
  }),
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
