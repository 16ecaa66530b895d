// `send-test`: one synthetic detection with hostile values to each destination (or `--destination`),
// printing exactly what was sent so a SIEM admin can compare with what their parser made of it.
import { hostname } from "node:os";
import { buildLogConfig } from "../config/log.js";
import type { DestinationConfig } from "../config/schema.js";
import { EXIT, toForwarderError } from "../errors.js";
import { createEvents } from "../events/index.js";
import { buildFormatConfig, createFormatter } from "../format/index.js";
import { createLogger } from "../log.js";
import { createMetrics } from "../metrics/definitions.js";
import { buildSinkConfig } from "../sink/config.js";
import { createSink } from "../sink/index.js";
import { maskUrlCredentials } from "../url-credentials.js";
import type { CliValues } from "./args.js";
import { loadDestinationsOrReport } from "./common.js";
import { sampleDetection } from "./sample-detection.js";

export async function sendTestCommand(values: CliValues): Promise<number> {
  // Only the destinations must be valid: the receiver can be tested before the Azure app exists.
  const loaded = loadDestinationsOrReport(values);
  if (!loaded.ok) return loaded.exitCode;
  const { config, notes } = loaded.loaded;
  const [first] = notes;
  if (first !== undefined) {
    const more = notes.length > 1 ? `, and ${notes.length - 1} more` : "";
    process.stderr.write(
      `note: send-test uses only destinations; ${notes.length} problem${notes.length === 1 ? "" : "s"} elsewhere ` +
        `(${first.path || "(root)"}: ${maskUrlCredentials(first.message)}${more}) would stop run and once; check-config lists them.\n`,
    );
  }
  const targets = config.destinations.filter(
    (d) => values.destination === undefined || d.name === values.destination,
  );
  if (targets.length === 0) {
    process.stderr.write(
      `no destination named ${values.destination}; configured: ${config.destinations.map((d) => d.name).join(", ")}\n`,
    );
    return EXIT.USAGE;
  }
  // stdout is what was sent; log lines go to stderr.
  const { level, format } = buildLogConfig(config.log);
  const log = createLogger({ level: level === "info" ? "warn" : level, format, output: "stderr" });
  const detection = sampleDetection(Date.now());
  let failed = 0;
  for (const d of targets) {
    const message = createFormatter(buildFormatConfig(d), { hostname: hostname() }).format(detection);
    const where = `${d.name} (${d.protocol}://${d.host}:${d.port}${transportNote(d)})`;
    if (message.tooLarge) {
      failed++;
      process.stdout.write(
        `NOT SENT to ${where}: ${message.bytes.length} bytes do not fit max_message_bytes ${d.max_message_bytes}\n`,
      );
      continue;
    }
    // Its up/down lines are those of the daemon; nothing scrapes the counters of a one-off test send.
    const sink = createSink(buildSinkConfig(d), {
      log,
      events: createEvents({ metrics: createMetrics({ defaultMetrics: false }) }),
    });
    try {
      const result = await sink.send([message.text]);
      if (result.dropped.length > 0) {
        failed++;
        process.stdout.write(`NOT SENT to ${where}: message of ${message.bytes.length} bytes is too large\n`);
      } else {
        // RELP: the send resolved on the receiver's own acknowledgement, which is worth saying; UDP: on
        // nothing but the absence of a refusal, which is worth saying too.
        const acknowledged =
          d.protocol === "relp"
            ? ", acknowledged by the receiver (rsp 200)"
            : d.protocol === "udp"
              ? " (UDP cannot confirm delivery: check that it arrived)"
              : "";
        process.stdout.write(
          `sent to ${where}${acknowledged}, ${message.bytes.length} bytes${message.truncated > 0 ? ` (${message.truncated} values cut to fit)` : ""}:\n${message.text}\n`,
        );
      }
    } catch (err) {
      failed++;
      const e = toForwarderError(err);
      process.stdout.write(`FAILED to send to ${where}: ${e.code}: ${e.message}\n`);
    } finally {
      await sink.close();
    }
  }
  return failed === 0 ? EXIT.OK : EXIT.FAILED;
}

/** What else identifies the transport: the framing of tcp and tls, TLS for relp. */
function transportNote(d: DestinationConfig): string {
  if (d.protocol === "udp") return "";
  if (d.protocol === "relp") return d.tls_enabled ? ", TLS" : "";
  return `, ${d.framing}`;
}
