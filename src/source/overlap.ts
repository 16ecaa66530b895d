// Which windows a poll reads. A detection can become visible in the API after later ones (its
// LastProcessedTimeUtc is in the past when it shows up): the overlap is how late it may be and still be
// caught. The API has no "visible since" filter, so a detection is only caught by reading its instant again
// after it became visible: catching every one up to `overlap` late within a schedule costs overlap/schedule
// reads of each instant (61 at a 5 s schedule and the 5 min default). Two modes:
//
// - Whole (low volume): while [checkpoint - overlap, now] holds at most one request's worth of detections
//   (`max_per_request`, estimated from this tenant's own recent polls), every poll reads all of it, in one
//   request: a late detection is caught by the next poll, as before.
// - Second look (high volume): every instant is read twice, once fresh and once more when it is `overlap`
//   old and can no longer change (the second look, which catches everything up to `overlap` late, `overlap`
//   after its time). Between second-look polls the fresh window goes on from where the last one ended and
//   stops `settle` before now, so a detection served up to `settle` after its time is still read fresh:
//   2 reads per detection, whatever the overlap. After a whole read (which ends at now) the fresh window
//   starts a short overlap before the checkpoint, and stops `settle` before now like the others (with
//   `settle` 0 every poll does both: 2 + short_overlap/schedule reads). Ending that first one at now instead
//   left a gap: the next poll goes on from its end, so a detection dated just before it and served just
//   after it waited for the second look (the reliability suite's liveness check caught it, issue 16).
//
// `settled` is the poller's: every detection dated before it that will ever be visible has been read. Both
// modes move it (a whole read settles everything older than now - overlap), so a switch either way leaves
// no instant without its second look. It lives in memory only, as the volume does, so the first poll after a
// start (settled unknown) reads the whole overlap, as every poll did before: the checkpoint never runs more
// than `overlap` ahead of the settled point (the second look is read before the fresh window, and the fresh
// window never passes the poll's start), so [checkpoint - overlap, now] covers whatever the previous
// process had not looked at twice. `settle` only holds the checkpoint further back (it never passes the
// window's end), so a restart loses nothing to it either.
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
  /** One window reaching back the whole overlap (or the lookback): the low-volume mode, or the first poll. */
  readonly whole: boolean;
}

export interface OverlapSettings {
  /** ms: the first window of a tenant without checkpoint. */
  readonly lookback: number;
  /** ms: how late a detection may become visible and still be caught. */
  readonly overlap: number;
  /** ms: in the second-look mode every poll reads this far before the checkpoint. */
  readonly short_overlap: number;
  /** An overlap estimated to hold at most this many detections (one request's worth) is read whole. */
  readonly max_per_request: number;
  /**
   * ms: between second-look polls, the fresh window ends this far before now and the next one starts where
   * it ended (no short overlap): a detection served up to `settle` after its time is read once, on time.
   * 0 (or absent): every second-look poll re-reads short_overlap instead.
   */
  readonly settle?: number;
}

/** What the planner asks of a tenant's recent polls. */
export interface VolumeEstimate {
  /**
   * Whether the detections dated from `since` (checkpoint - overlap) are estimated to fit one request of
   * `maxPerRequest`; undefined when unknown.
   */
  fits(since: Ticks, maxPerRequest: number): boolean | undefined;
  /**
   * Whether the latest completed poll was whole; undefined when unknown. After a second-look poll the next
   * fresh window can start where that one ended (`settle`); after a whole one (a mode switch) it starts
   * short_overlap back.
   */
  latestWhole?(): boolean | undefined;
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
  /** The tenant's recent polls; unknown (a whole read, which measures it) when absent. */
  volume?: VolumeEstimate,
): PollPlan {
  const overlap = ticksFromMs(s.overlap);
  const settles = now - overlap;
  if (checkpoint === undefined)
    return { windows: [{ since: now - ticksFromMs(s.lookback), until: now }], settles, whole: true };
  // The poller never moves a checkpoint past a window's end (now), so one ahead of our clock was written
  // by an older version that followed a future-dated detection, or our clock went back. Reading from it
  // would read nothing until the clock catches up: read from now instead (the alert rule
  // MdeCheckpointInFuture tells the operator to reset it).
  const base = checkpoint > now ? now : checkpoint;
  // What a whole read of [base - overlap, now] would fetch decides.
  if (settled === undefined || volume?.fits(base - overlap, s.max_per_request) !== false)
    return { windows: [{ since: base - overlap, until: now }], settles, whole: true };
  const read = readUntil === undefined || readUntil > now ? base : readUntil;
  // Every second-look poll stops `settle` before now. After one, everything dated before its end and served
  // within `settle` of its time was visible then, so this one goes on from there. After a whole read (which
  // ends at now: a mode switch), or not knowing, the short overlap. A later detection waits for the second
  // look either way.
  const settle = ticksFromMs(s.settle ?? 0);
  const settling = settle > 0n && settle < overlap;
  const afterSettled = settling && volume?.latestWhole?.() === false;
  // biome-ignore lint/complexity/useMathMinMax: bigints (Math.max throws on them)
  const fresh = (read > base ? read : base) - (afterSettled ? 0n : ticksFromMs(s.short_overlap));
  const end = settling ? now - settle : now;
  // Nothing matured since the last poll (the clock stood still or went back): the fresh window alone.
  if (settles <= settled)
    return { windows: [{ since: fresh, until: end > fresh ? end : fresh }], settles, whole: false };
  // The checkpoint lags (a backlog, an idle tenant): one window covers both.
  if (fresh <= settles)
    return { windows: [{ since: fresh < settled ? fresh : settled, until: end }], settles, whole: false };
  return {
    windows: [
      { since: settled, until: settles, second: true },
      { since: fresh, until: end > fresh ? end : fresh },
    ],
    settles,
    whole: false,
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

/** A tenant's recent polls, kept for the planner's estimate (in memory: a start begins unknown). */
export interface OverlapVolume extends VolumeEstimate {
  /**
   * A poll that completed at `at` (its now): whether it was whole, how many requests it took, how many
   * detections it received and how many of them were new. A failed or paused poll is not a measurement.
   */
  record(at: Ticks, poll: { whole: boolean; requests: number; received: number; inserted: number }): void;
}

/** Polls with new detections kept at most (a long backlog): the oldest are forgotten first. */
const MAX_POLLS = 4_096;

/**
 * What a whole read would fetch: the detections dated from `since` = checkpoint - overlap. While every poll
 * is whole, the latest one measured exactly that: it fits when it came in one answer (however many items:
 * a server that ignores `limit` sends it all at once) or held at most max_per_request (a density-cut read
 * may take two requests for less). In the second-look mode no poll reads it, so the new detections of the
 * polls since then are what it holds, and a whole read since then that did not fit still counts. Polls
 * before `since` are forgotten: a tenant that goes quiet after a burst keeps its checkpoint, so it stays in
 * the second-look mode (which then reads next to nothing) rather than reading the burst's last overlap
 * again; one that goes on at a lower rate moves its checkpoint, forgets the burst and reads whole again.
 */
export function createOverlapVolume(): OverlapVolume {
  // Oldest first; only polls that stored new detections (an idle tenant's polls add nothing).
  const polls: Array<{ at: Ticks; inserted: number }> = [];
  let lastWhole: { at: Ticks; requests: number; received: number } | undefined;
  /** Whether the latest completed poll read the whole overlap; undefined before the first one. */
  let latestWasWhole: boolean | undefined;
  return {
    record(at, poll) {
      if (poll.inserted > 0) {
        polls.push({ at, inserted: poll.inserted });
        if (polls.length > MAX_POLLS) polls.shift();
      }
      latestWasWhole = poll.whole;
      if (poll.whole) lastWhole = { at, requests: poll.requests, received: poll.received };
    },
    latestWhole() {
      return latestWasWhole;
    },
    fits(since, maxPerRequest) {
      let old = 0;
      while (old < polls.length && (polls[old] as { at: Ticks }).at < since) old++;
      if (old > 0) polls.splice(0, old);
      if (lastWhole !== undefined && lastWhole.at < since) lastWhole = undefined;
      if (latestWasWhole === undefined) return undefined;
      const wholeFits = lastWhole && (lastWhole.requests <= 1 || lastWhole.received <= maxPerRequest);
      if (latestWasWhole && lastWhole !== undefined) return wholeFits;
      if (lastWhole !== undefined && !wholeFits) return false;
      let inserted = 0;
      for (const p of polls) inserted += p.inserted;
      return inserted <= maxPerRequest;
    },
  };
}
