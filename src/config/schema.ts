// The one config schema. Each module owns the schema of its part; this file composes them and
// adds the cross-cutting rules (unique names). Every config type is inferred from here.
import { z } from "zod";
import { formatOptionsShape, refineFormatOptions } from "../format/config.js";
import { logSchema } from "../log-config.js";
import { metricsSchema } from "../metrics/config.js";
import { selectionShape } from "../pipeline/config.js";
import { resolveTransport, transportOptionsShape } from "../sink/config.js";
import { pollSchema, proxySchema, tenantSchema } from "../source/config.js";
import { stateSchema } from "../state/config.js";
import { name } from "./types.js";

export const destinationSchema = z
  .strictObject({
    name: name(),
    ...formatOptionsShape,
    ...transportOptionsShape,
    ...selectionShape,
  })
  .superRefine((d, ctx) => {
    refineFormatOptions(d, ctx);
    if ((d.protocol === "udp" || d.protocol === "relp") && d.framing !== undefined) {
      ctx.addIssue({ code: "custom", path: ["framing"], message: "applies to tcp and tls only" });
    }
    const tlsSet = d.tls?.ca_file || d.tls?.cert_file || d.tls?.key_file || d.tls?.server_name;
    if ((d.protocol === "udp" || d.protocol === "tcp") && tlsSet) {
      ctx.addIssue({ code: "custom", path: ["tls"], message: "is set but protocol is not tls or relp" });
    }
    if (d.protocol !== "relp" && d.window_size !== undefined) {
      ctx.addIssue({ code: "custom", path: ["window_size"], message: "applies to relp only" });
    }
  })
  .transform((d) => ({
    ...d,
    ...resolveTransport(d),
    // A datagram beyond 2048 bytes is not guaranteed to arrive (RFC 5426); streams have no such limit.
    max_message_bytes: d.max_message_bytes ?? (d.protocol === "udp" ? 2048 : undefined),
  }));

function uniqueNames(kind: string) {
  return (items: readonly { name: string }[], ctx: z.RefinementCtx) => {
    const seen = new Map<string, number>();
    items.forEach((item, index) => {
      const first = seen.get(item.name);
      if (first !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: [index, "name"],
          message: `duplicate ${kind} name "${item.name}" (also at index ${first})`,
        });
      } else {
        seen.set(item.name, index);
      }
    });
  };
}

export const configSchema = z.strictObject({
  tenants: z.array(tenantSchema).min(1, "needs at least one tenant").superRefine(uniqueNames("tenant")),
  poll: pollSchema,
  proxy: proxySchema,
  state: stateSchema,
  destinations: z
    .array(destinationSchema)
    .min(1, "needs at least one destination")
    .superRefine(uniqueNames("destination")),
  metrics: metricsSchema,
  log: logSchema,
});

export type Config = z.infer<typeof configSchema>;
export type DestinationConfig = z.infer<typeof destinationSchema>;
export type { LogConfig } from "../log-config.js";

/** Keys whose values are secrets: masked in check-config, accepted as `<key>_file`. */
export const SECRET_KEYS = ["client_secret", "password"] as const;
