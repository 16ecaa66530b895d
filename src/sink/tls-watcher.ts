// Watches the TLS files an open connection was made with. An open TLS connection keeps its
// certificates for as long as it lives, so a rotated certificate would otherwise wait for the next
// network failure. Polling stat is cheap (three stats per interval), works on every filesystem and
// follows symlink swaps, where fs.watch does not.
//
// A change is acted on only once the new material validates: a half-written file (or a key written
// before its certificate) is logged as an error once per version of the files, and the connection
// stays up on the old material until the files are whole again.
import { type ForwarderError, toForwarderError } from "../errors.js";
import type { Logger } from "../log.js";
import {
  changedTlsFiles,
  loadTlsMaterial,
  stampTlsFiles,
  type TlsFileKey,
  type TlsFileStamps,
} from "./tls-material.js";
import type { SinkOptions } from "./types.js";

export const DEFAULT_TLS_WATCH_INTERVAL_MS = 30_000;

export interface TlsWatcherOptions {
  sink: SinkOptions;
  /** The stamps of the files the connection was made with. */
  stamps: TlsFileStamps;
  intervalMs: number;
}

export interface TlsWatcherDeps {
  log: Logger;
  /** Called once, when files changed and the new material is valid; the watcher has stopped by then. */
  onRotate(changed: readonly TlsFileKey[]): void;
  /**
   * Called once per unusable version of the files, which it reports (createSink: the tlsFilesInvalid
   * event logs and counts it); the connection stays on the old material.
   */
  onInvalid?(error: ForwarderError, files: TlsFilesChanged): void;
}

/** The changed keys (`tls.cert_file`) and their paths. */
export interface TlsFilesChanged {
  readonly changed: readonly string[];
  readonly files: ReadonlyArray<string | undefined>;
}

export interface TlsWatcher {
  /** Idempotent; no timer is left behind, and a check in progress is ignored. */
  stop(): void;
}

export function createTlsWatcher(options: TlsWatcherOptions, deps: TlsWatcherDeps): TlsWatcher {
  const { sink, stamps, intervalMs } = options;
  const { log } = deps;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  /** The stamps of a version already found unusable: reported once, not at every tick. */
  let rejected: string | undefined;

  const schedule = (): void => {
    if (!stopped) timer = setTimeout(tick, intervalMs);
  };

  async function check(): Promise<void> {
    const now = await stampTlsFiles(sink);
    if (stopped) return;
    const changed = changedTlsFiles(stamps, now);
    const signature = JSON.stringify(now);
    if (changed.length === 0 || signature === rejected) return schedule();
    const fields = {
      changed: changed.map((key) => `tls.${key}`),
      files: changed.map((key) => sink.tls[key]),
    };
    try {
      await loadTlsMaterial(sink);
    } catch (err) {
      if (stopped) return;
      rejected = signature;
      deps.onInvalid?.(toForwarderError(err, "E_SINK_TLS"), fields);
      return schedule();
    }
    if (stopped) return;
    stopped = true;
    log.info(
      fields,
      "TLS files changed on disk; reconnecting with them once the sends in flight are confirmed.",
    );
    deps.onRotate(changed);
  }

  function tick(): void {
    timer = undefined;
    check().catch((err: unknown) => {
      // Not expected (stat and load report through their results); keep watching regardless.
      log.error({ err: err instanceof Error ? err.message : String(err) }, "Checking the TLS files failed.");
      schedule();
    });
  }

  schedule();
  return {
    stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}
