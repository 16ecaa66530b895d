// node-cron drives the polls: one poll of every tenant at start, then on every tick. A tenant whose poll
// is still running skips the tick (its polls never overlap); one tenant never waits for another.
import { createTask, type ScheduledTask } from "node-cron";
import type { Logger } from "../log.js";
import type { TenantPoller } from "./poll.js";

export interface Scheduler {
  start(): void;
  /** Stops the ticks, aborts the polls in flight and waits for them to end. */
  stop(): Promise<void>;
}

export function createScheduler(
  schedule: string,
  pollers: readonly TenantPoller[],
  deps: { log: Logger; onTick?: () => void },
): Scheduler {
  const log = deps.log.child({ component: "scheduler" });
  const abort = new AbortController();
  const running = new Set<Promise<unknown>>();
  let task: ScheduledTask | undefined;

  function tick(): void {
    // Every tick also nudges the drains: one waiting out a long backoff (or behind a paused poll) tries
    // its destination again at least once per poll interval.
    deps.onTick?.();
    for (const poller of pollers) {
      if (poller.busy) {
        log.debug({ tenant: poller.tenant }, "Previous poll still running; this tick is skipped.");
        continue;
      }
      const p = poller.poll(abort.signal).finally(() => running.delete(p));
      running.add(p);
    }
  }

  return {
    start() {
      tick();
      task = createTask(schedule, tick, { name: "poll", noOverlap: false });
      void task.start();
      log.info({ schedule, next: task.getNextRun()?.toISOString() }, "Poll schedule started.");
    },
    async stop() {
      if (task) {
        await task.stop();
        await task.destroy();
      }
      abort.abort();
      await Promise.allSettled([...running]);
    },
  };
}

/** Milliseconds between two ticks of the schedule (for readiness: "polled within 3 intervals"). */
export function scheduleIntervalMs(schedule: string): number {
  const probe = createTask(schedule, () => undefined);
  try {
    const [a, b] = probe.getNextRuns(2);
    return a && b ? b.getTime() - a.getTime() : 60_000;
  } finally {
    void probe.destroy();
  }
}
