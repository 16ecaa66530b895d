// What several commands share: loading the config with the CLI's error contract (exit 78, key paths,
// no stack trace) and turning start-up failures into one clear line.
import {
  type LoadedConfig,
  type LoadedDestinations,
  loadConfigFile,
  loadDestinationsFile,
} from "../config/load.js";
import { ConfigError, EXIT, isForwarderError } from "../errors.js";
import { maskUrlCredentials } from "../url-credentials.js";
import { type CliValues, configPath } from "./args.js";

export type LoadResult = { ok: true; loaded: LoadedConfig } | { ok: false; exitCode: number };

export function loadConfigOrReport(values: CliValues): LoadResult {
  const file = configPath(values);
  try {
    return { ok: true, loaded: loadConfigFile(file) };
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${maskUrlCredentials(err.message)}\n`);
      return { ok: false, exitCode: EXIT.CONFIG };
    }
    throw err;
  }
}

export type LoadDestinationsResult =
  | { ok: true; loaded: LoadedDestinations }
  | { ok: false; exitCode: number };

/** loadConfigOrReport for commands that use only the destinations (send-test). */
export function loadDestinationsOrReport(values: CliValues): LoadDestinationsResult {
  const file = configPath(values);
  try {
    return { ok: true, loaded: loadDestinationsFile(file) };
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${maskUrlCredentials(err.message)}\n`);
      return { ok: false, exitCode: EXIT.CONFIG };
    }
    throw err;
  }
}

/**
 * One line for a failure at start-up: `E_STATE_CORRUPT: state file ... (the checkpoint was not reset)`.
 * A config problem found while starting (a certificate file that is a FIFO, say) exits 78 like any other.
 */
export function reportFatal(err: unknown): number {
  if (err instanceof ConfigError) {
    process.stderr.write(`${maskUrlCredentials(err.message)}\n`);
    return EXIT.CONFIG;
  }
  if (isForwarderError(err)) {
    process.stderr.write(`mde-forwarder: ${err.code}: ${maskUrlCredentials(err.message)}\n`);
    return err.code === "E_CONFIG_INVALID" || err.code === "E_CONFIG_READ" ? EXIT.CONFIG : EXIT.FAILED;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`mde-forwarder: ${maskUrlCredentials(message)}\n`);
  return EXIT.FAILED;
}
