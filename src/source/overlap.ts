// Which windows a poll reads. A detection can become visible in the API after later ones (its
// LastProcessedTimeUtc is in the past when it shows up): the overlap is how late it may be and still be
// caught. Re-reading the whole overlap on every poll reads each detection overlap/schedule times (61 times
// at a 5 s schedule). Instead every instant is read twice: once fresh, from the checkpoint minus a short
// overlap (which catches the slightly late at once), and once more when it is `overlap` old and can no
// longer change (the second look, which catches everything up to `overlap` late). Reads per detection:
// 2 + short_overlap/schedule, whatever the overlap.
//
// `settled` is the poller's: every detection dated before it that will ever be visible has been read. It
// lives in memory only, so the first poll after a start (settled unknown) reads the whole overlap, as every
// poll did before: the checkpoint never runs more than `overlap` ahead of the settled point (the second look
// is read before the fresh window, and the fresh window never passes the poll's start), so
// [checkpoint - overlap, now] covers whatever the previous process had not looked at twice.
import { type Ticks, ticksFromMs } from "../timestamp.js";

export interface PollWindow {
  readonly since: Ticks;
  readonly until: Ticks;
  /**
   * The second look, which ends well before now: the Alerts API and Graph, which read on past `until`,
   * stop at the first page that reaches it.
   */
  readonly second?: boolean;
}

export interface PollPlan {
  /** Oldest first: the second look and the fresh window, or one window where they meet. */
  readonly windows: readonly PollWindow[];
  /** Once `windows` are read whole, the settled point moves here (now - overlap). */
  readonly settles: Ticks;
}

export interface OverlapSettings {
  /** ms: the first window of a tenant without checkpoint. */
  readonly lookback: number;
  /** ms: how late a detection may become visible and still be caught. */
  readonly overlap: number;
  /** ms: every poll reads this far before the checkpoint. */
  readonly short_overlap: number;
}

export function planPoll(
  checkpoint: Ticks | undefined,
  settled: Ticks | undefined,
  now: Ticks,
  s: OverlapSettings,
  /**
   * The end of the last poll read whole since the start. Everything before it minus short_overlap was
   * visible then if it is at most short_overlap late (later ones are the second look's), so an idle
   * tenant's checkpoint does not make every poll read the same last seconds again.
   */
  readUntil?: Ticks,
): PollPlan {
  const overlap = ticksFromMs(s.overlap);
  const settles = now - overlap;
  if (checkpoint === undefined)
    return { windows: [{ since: now - ticksFromMs(s.lookback), until: now }], settles };
  // The poller never moves a checkpoint past a window's end (now), so one ahead of our clock was written
  // by an older version that followed a future-dated detection, or our clock went back. Reading from it
  // would read nothing until the clock catches up: read from now instead (the alert rule
  // MdeCheckpointInFuture tells the operator to reset it).
  const base = checkpoint > now ? now : checkpoint;
  if (settled === undefined) return { windows: [{ since: base - overlap, until: now }], settles };
  const read = readUntil === undefined || readUntil > now ? base : readUntil;
  // biome-ignore lint/complexity/useMathMinMax: bigints (Math.max throws on them)
  const fresh = (read > base ? read : base) - ticksFromMs(s.short_overlap);
  // Nothing matured since the last poll (the clock stood still or went back): the fresh window alone.
  if (settles <= settled) return { windows: [{ since: fresh, until: now }], settles };
  // The checkpoint lags (a backlog, an idle tenant): one window covers both.
  if (fresh <= settles)
    return { windows: [{ since: fresh < settled ? fresh : settled, until: now }], settles };
  return {
    windows: [
      { since: settled, until: settles, second: true },
      { since: fresh, until: now },
    ],
    settles,
  };
}

/**
 * The settled point after a poll of `plan` has read its windows, oldest first, up to `reached` (a time up
 * to which everything was read): reading only moves it forward, and never past `plan.settles`.
 */
export function settledAfter(plan: PollPlan, settled: Ticks | undefined, reached: Ticks): Ticks {
  const from = settled ?? (plan.windows[0]?.since as Ticks);
  const to = reached < plan.settles ? reached : plan.settles;
  // biome-ignore lint/complexity/useMathMinMax: bigints (Math.max throws on them)
  return to > from ? to : from;
}
