// `once`: one poll of every tenant, then drain every destination until its outbox is empty or sends keep
// failing. Exit 0 when every poll succeeded and everything was delivered; 1 otherwise.

import { buildLogConfig } from "../config/log.js";
import { EXIT } from "../errors.js";
import { createLogger } from "../log.js";
import type { Metrics } from "../metrics/definitions.js";
import type { CliValues } from "./args.js";
import { configNotices, configWarnings } from "./check-config.js";
import { loadConfigOrReport, reportFatal } from "./common.js";
import { buildForwarder, type Forwarder } from "./daemon.js";
import { createProgressLine } from "./progress.js";

/** Failed sends in a row before `once` gives up on a destination (with backoff between them). */
const MAX_SEND_FAILURES = 3;

export async function onceCommand(values: CliValues): Promise<number> {
  const loaded = loadConfigOrReport(values);
  if (!loaded.ok) return loaded.exitCode;
  const { config } = loaded.loaded;
  const progress = createProgressLine();
  const log = createLogger({
    ...buildLogConfig(config.log),
    // On a terminal, log lines are written above the progress line, never into it.
    wrap: (out) => progress.wrap(out),
  });
  for (const warning of configWarnings(config)) log.warn({ warning }, "Config warning.");
  for (const notice of configNotices(config)) log.warn({ notice }, "Config notice.");
  let forwarder: Forwarder;
  try {
    forwarder = buildForwarder(config, { log, onProgress: (p) => progress.update(p) });
  } catch (err) {
    return reportFatal(err);
  }
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
  const metrics = forwarder.metrics;
  const ticker = progress.active
    ? setInterval(() => {
        sentSoFar(metrics).then(
          (n) => progress.delivered(n),
          () => undefined,
        );
      }, 250)
    : undefined;
  try {
    // The destinations drain while the tenants are read: a backfill is sent while it arrives.
    const { polls, delivered: drained } = await forwarder.pipeline.pollAndDrain(
      MAX_SEND_FAILURES,
      abort.signal,
    );
    clearInterval(ticker);
    progress.delivered(await sentSoFar(metrics));
    progress.done();
    const pollsOk = polls.every((p) => p.result.status === "ok");
    const delivered = !abort.signal.aborted && drained;
    const pending = forwarder.store.outboxDepths();
    log.info(
      {
        polls: Object.fromEntries(polls.map((p) => [p.tenant, p.result.status])),
        pending: Object.fromEntries(pending),
      },
      delivered && pollsOk ? "Once: everything delivered." : "Once: something is pending or failed.",
    );
    return delivered && pollsOk ? EXIT.OK : EXIT.FAILED;
  } finally {
    clearInterval(ticker);
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
    await forwarder.close();
  }
}

/** Events confirmed sent in this run, all destinations together (mde_events_sent_total). */
async function sentSoFar(metrics: Metrics): Promise<number> {
  const { values } = await metrics.eventsSent.get();
  return values.reduce((sum, v) => sum + v.value, 0);
}
