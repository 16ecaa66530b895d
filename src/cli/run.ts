// `run`: the daemon. SIGTERM/SIGINT stop it gracefully: no new polls, the send in flight finishes and is
// acknowledged, the database is closed, exit 0; a stop that takes longer than 10 s exits 1.
import { EXIT } from "../errors.js";
import { createLogger } from "../log.js";
import type { CliValues } from "./args.js";
import { configWarnings } from "./check-config.js";
import { loadConfigOrReport, reportFatal } from "./common.js";
import { startDaemon } from "./daemon.js";

const STOP_DEADLINE_MS = 10_000;

export async function runCommand(values: CliValues): Promise<number> {
  const loaded = loadConfigOrReport(values);
  if (!loaded.ok) return loaded.exitCode;
  const { config, file } = loaded.loaded;
  const log = createLogger({ level: config.log.level });
  for (const warning of configWarnings(config)) log.warn({ warning }, "Config warning.");
  let daemon: Awaited<ReturnType<typeof startDaemon>>;
  try {
    daemon = await startDaemon(config, { log });
  } catch (err) {
    return reportFatal(err);
  }
  log.info(
    {
      config: file,
      tenants: config.tenants.map((t) => t.name),
      destinations: config.destinations.map((d) => d.name),
      metrics: daemon.metricsServer?.url,
    },
    "Forwarder started.",
  );
  return waitForStop(daemon.stop, log);
}

/** Resolves with the exit code once SIGTERM or SIGINT has stopped `stop`. */
export function waitForStop(
  stop: () => Promise<void>,
  log: ReturnType<typeof createLogger>,
): Promise<number> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
      log.info({ signal }, "Stopping.");
      const deadline = setTimeout(() => {
        log.error(
          { deadlineMs: STOP_DEADLINE_MS },
          "Stop took too long; exiting with undelivered sends in flight.",
        );
        process.exit(EXIT.FAILED);
      }, STOP_DEADLINE_MS);
      deadline.unref();
      stop().then(
        () => {
          clearTimeout(deadline);
          log.info("Stopped.");
          resolve(EXIT.OK);
        },
        (err: unknown) => {
          clearTimeout(deadline);
          log.error({ err: err instanceof Error ? err.message : String(err) }, "Stop failed.");
          resolve(EXIT.FAILED);
        },
      );
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });
}
