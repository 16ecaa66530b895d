// The hot tail of one destination's outbox: the events this process stored for it, still in memory as the
// API parsed them, so that the drain sends them without reading them back from the state (a query, a copy
// of each body and its JSON.parse). The outbox stays the truth: a row is acknowledged only after its send
// was confirmed, whichever way it was read, and whatever the tail does not hold is read from the store.
//
// The tail holds every outbox row of its destination with an id >= `base` that has not been taken yet (the
// pipeline appends each ingest's events, in id order, or calls `lose()` when it cannot tell which rows an
// ingest wrote). take(afterId) answers only when that covers everything after `afterId`; otherwise (after a
// start, a rewind after a failed send, a lost ingest, or events the bound pushed out) the drain reads the
// store, whose reading moves its cursor forward until the tail covers it again.
// Memory is bounded by `maxBytes` of stored body: past it, the oldest events leave the tail (and `base`
// moves past them), so a destination that is down, slow, or behind a big backlog costs at most that much.
import type { Detection, SourceKind } from "../record.js";

/** An event stored in the outbox by this process, as the API parsed it. */
export interface HotEvent {
  /** Its outbox (event) id. */
  readonly id: number;
  readonly tenant: string;
  readonly kind: SourceKind;
  readonly detection: Detection;
  /** Its stored body's size, for the memory bound. */
  readonly bytes: number;
}

export interface HotTail {
  /** Events just stored for this destination, in id order, every id above those appended before. */
  append(events: readonly HotEvent[]): void;
  /** Rows were stored that the tail does not hold: it covers nothing until the next append. */
  lose(): void;
  /**
   * Up to `limit` events with id > afterId, oldest first, when the tail holds every outbox row after
   * `afterId` (an empty array: there is none); undefined when it does not, and the store must be read.
   * Events up to the last one returned leave the tail.
   */
  take(afterId: number, limit: number): HotEvent[] | undefined;
  /** Events held (for tests and metrics). */
  readonly size: number;
}

export function createHotTail(options: { maxBytes: number }): HotTail {
  // A queue as an array and a head index: shift() on a large array copies it.
  let events: HotEvent[] = [];
  let head = 0;
  let bytes = 0;
  /** Every outbox row with id >= base is held (or was taken); infinite when nothing is known. */
  let base = Number.POSITIVE_INFINITY;

  function dropHead(): void {
    const dropped = events[head] as HotEvent;
    events[head] = undefined as unknown as HotEvent;
    head++;
    bytes -= dropped.bytes;
    base = Math.max(base, dropped.id + 1);
  }

  function compact(): void {
    if (head === events.length) {
      events = [];
      head = 0;
    } else if (head > 1024 && head * 2 > events.length) {
      events = events.slice(head);
      head = 0;
    }
  }

  return {
    append(added) {
      const first = added[0];
      if (first === undefined) return;
      if (base === Number.POSITIVE_INFINITY) base = first.id;
      for (const e of added) {
        events.push(e);
        bytes += e.bytes;
      }
      while (bytes > options.maxBytes && head < events.length) dropHead();
      compact();
    },
    lose() {
      events = [];
      head = 0;
      bytes = 0;
      base = Number.POSITIVE_INFINITY;
    },
    take(afterId, limit) {
      if (afterId + 1 < base) return undefined;
      while (head < events.length && (events[head] as HotEvent).id <= afterId) dropHead();
      const end = Math.min(events.length, head + Math.max(0, limit));
      const taken = events.slice(head, end);
      while (head < end) dropHead();
      compact();
      return taken;
    },
    get size() {
      return events.length - head;
    },
  };
}
