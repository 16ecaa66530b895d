// `run`: the daemon. SIGTERM/SIGINT stop it gracefully: no new polls, the send in flight finishes and is
// acknowledged, the database is closed, exit 0; a stop that takes longer than 10 s exits 1.
import { loadConfigFile } from "../config/load.js";
import { buildLogConfig } from "../config/log.js";
import { EXIT, type ForwarderError, toForwarderError } from "../errors.js";
import { createLogger, type Logger } from "../log.js";
import type { CliValues } from "./args.js";
import { configNotices, configWarnings } from "./check-config.js";
import { loadConfigOrReport, reportFatal } from "./common.js";
import { type RunningDaemon, startDaemon } from "./daemon.js";

const STOP_DEADLINE_MS = 10_000;

export async function runCommand(values: CliValues): Promise<number> {
  const loaded = loadConfigOrReport(values);
  if (!loaded.ok) return loaded.exitCode;
  const { config, file } = loaded.loaded;
  const log = createLogger(buildLogConfig(config.log));
  for (const warning of configWarnings(config)) log.warn({ warning }, "Config warning.");
  for (const notice of configNotices(config)) log.warn({ notice }, "Config notice.");
  let onFatal: (error: ForwarderError) => void = () => {};
  const fatal = new Promise<ForwarderError>((resolve) => {
    onFatal = resolve;
  });
  let daemon: Awaited<ReturnType<typeof startDaemon>>;
  try {
    daemon = await startDaemon(config, { log, onFatal: (error) => onFatal(error) });
  } catch (err) {
    return reportFatal(err);
  }
  const running = daemon;
  // Signals are handled from before the start is announced: a supervisor (or a test) may signal at once.
  const stopped = waitForStop(daemon.stop, log, fatal);
  // SIGHUP: re-read the same file. A broken or restart-only change is refused and the old config runs on.
  const onHup = () => {
    reloadConfig(file, running, log).catch(() => undefined);
  };
  process.on("SIGHUP", onHup);
  log.info(
    {
      config: file,
      tenants: config.tenants.map((t) => t.name),
      destinations: config.destinations.map((d) => d.name),
      metrics: daemon.metricsServer?.url,
    },
    "Forwarder started.",
  );
  try {
    return await stopped;
  } finally {
    process.off("SIGHUP", onHup);
  }
}

async function reloadConfig(file: string, daemon: RunningDaemon, log: Logger): Promise<void> {
  log.info({ config: file }, "Reloading the config (SIGHUP).");
  const previousLevel = log.level;
  try {
    const next = loadConfigFile(file).config;
    for (const warning of configWarnings(next)) log.warn({ warning }, "Config warning.");
    // Set first: the new pipeline's loggers are children made after this.
    log.level = next.log.level;
    await daemon.reload(next);
    log.info(
      {
        tenants: next.tenants.map((t) => t.name),
        destinations: next.destinations.map((d) => d.name),
        schedule: next.poll.schedule,
        // Not `level`: that key is the entry's own level in every JSON line.
        logLevel: next.log.level,
      },
      "Config reloaded.",
    );
  } catch (err) {
    log.level = previousLevel;
    daemon.forwarder.events.configRejected(log, toForwarderError(err));
  }
}

/**
 * Resolves with the exit code once SIGTERM or SIGINT (0), or a fatal error (1), has stopped `stop`.
 * Either way the stop is graceful and bounded by 10 s.
 */
export function waitForStop(
  stop: () => Promise<void>,
  log: Logger,
  fatal?: Promise<ForwarderError>,
): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const shutdown = (exitCode: number) => {
      if (stopping) return;
      stopping = true;
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
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
          resolve(exitCode);
        },
        (err: unknown) => {
          clearTimeout(deadline);
          log.error({ err: err instanceof Error ? err.message : String(err) }, "Stop failed.");
          resolve(EXIT.FAILED);
        },
      );
    };
    const onSignal = (signal: NodeJS.Signals) => {
      log.info({ signal }, "Stopping.");
      shutdown(EXIT.OK);
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
    fatal?.then((error) => {
      log.fatal({ code: error.code, err: error.message }, "Stopping after a fatal error; nothing is lost.");
      process.stderr.write(`mde-forwarder: ${error.code}: ${error.message}\n`);
      shutdown(EXIT.FAILED);
    });
  });
}
