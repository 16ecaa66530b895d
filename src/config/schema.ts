// The one config schema. Each module owns the schema of its part; this file composes them and
// adds the cross-cutting rules (unique names). Every config type is inferred from here.
import { z } from "zod";
import { formatOptionsShape, refineFormatOptions } from "../format/config.js";
import { metricsSchema } from "../metrics/config.js";
import { selectionShape } from "../pipeline/config.js";
import { resolveTransport, transportOptionsShape } from "../sink/config.js";
import { pollSchema, proxySchema, tenantSchema } from "../source/config.js";
import { stateSchema } from "../state/config.js";
import { keyDocs } from "./key-doc.js";
import { logSchema } from "./log.js";
import { allKeys } from "./schema-walk.js";
import { name } from "./types.js";

export const destinationSchema = z
  .strictObject({
    name: name().register(keyDocs, {
      description: "Unique; used in the state, logs and metric labels",
      example: "arcsight",
    }),
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
  }))
  .register(keyDocs, { description: "One or more; each gets every detection its selection lets through" });

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

/** The rules for the whole file: the first paragraphs of docs/configuration.md. */
const CONFIG_NOTES = [
  "YAML, snake_case keys. Durations are written `250ms`, `30s`, `5m`, `2h`, `7d`. `http://` URLs are accepted " +
    "only for loopback hosts; anything else must be `https://`. Unknown keys are errors (typos do not pass " +
    "silently). `config/forwarder.reference.yaml` shows every key with its default; " +
    "`config/forwarder.example.yaml` is the minimal file. `node dist/cli/main.js check-config` prints the effective " +
    "config, secrets masked.",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's own ${VAR} syntax, not a template
  "**`$` in values.** In the file's string values, `${VAR}` and `${VAR:-default}` (also when `VAR` is empty) " +
    "expand from the environment, and `$$` is a literal `$`; an unset variable without default is an error, and " +
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's own ${VAR} syntax, not a template
    "so is a `${` that starts neither form (`${1X}`, `${X-default}`, an unclosed `${`): write `$${` for a " +
    "literal `${`. Any other `$` is kept as is (`pa$word` stays `pa$word`, `pa$$word` becomes `pa$word`). The " +
    "value of a variable is used exactly as it is (never expanded again), and so is the content of a `*_file`: " +
    "a secret with `$` signs is safest in a file.",
  "**Secrets and files.** Every secret key `x` (`client_secret`, `proxy.password`) also accepts `x_file`, a " +
    "file holding the secret (Docker secrets, systemd credentials); a trailing newline is ignored, nothing else " +
    "is changed. Every `*_file` (secrets, `client_certificate_file`, `client_key_file`, `tls.*_file`, " +
    "`proxy.ca_file`) must be a regular file of at most 64 KiB (`ca_file`: 1 MiB, as a CA bundle may be a whole " +
    "trust store): a FIFO, a device such as `/dev/zero`, a directory or a larger file is a config error naming " +
    "the key, at start-up, by `check-config` and on a reload, and is never read (the check is made with `fstat` " +
    "on a descriptor opened non-blocking, so a FIFO cannot hang the start or a SIGHUP reload). The config file " +
    "itself must be a regular file of at most 1 MiB.",
  "**YAML errors** are config errors (exit 78) naming the key path and line, described in our own words: the " +
    "message never quotes the file, so a secret can never leak through one. A plain value cannot start with " +
    '`* & ! | > \' " % @` or a backquote: quote a secret that does (`client_secret: "*x..."`), or YAML reads it ' +
    "as an alias, an anchor or a tag. Anchors and aliases may be used, with at most 1,000 nodes expanded in all " +
    '(an "alias bomb" is an error), and nesting is limited to 64 levels.',
  "**URL credentials** (`https://user:password@host`) are masked as `https://***@host` wherever a URL is " +
    "printed: `check-config`, log lines and error messages.",
].join("\n\n");

export const configSchema = z
  .strictObject({
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
  })
  .register(keyDocs, { description: "The forwarder's configuration", details: CONFIG_NOTES });

export type Config = z.infer<typeof configSchema>;
export type DestinationConfig = z.infer<typeof destinationSchema>;
export type { LogConfig } from "./log.js";

/** Keys whose values are secrets (`secret` in their doc): masked in check-config, accepted as `<key>_file`. */
export const SECRET_KEYS: readonly string[] = [
  ...new Set(
    allKeys(configSchema)
      .filter((k) => k.doc?.secret)
      .map((k) => k.key),
  ),
];
