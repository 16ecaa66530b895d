// State alone: the real Store on a real file, ingest (dedupe + outbox + checkpoint, batches of 1,000 like a
// poll part) and drain (next + ack, batches of 500 like the drain loop), at 10k, 100k and 1M rows already
// stored. The claim to check: the cost per event stays flat as the tables grow. Each level's cost is the mean
// of its rounds (five; every round is reported): with three, one slow round moved the 1M/10k drain ratio
// from 1.22x to 1.52x with the same code. Slow rounds come from the shared machine's load and from WAL
// checkpoints (every 64 MB of WAL, ~60 ms): a 10,000-event drain round holding one takes about twice as long,
// so drain rounds are two-valued. The median would judge on whichever value most rounds have (1.54x against
// a mean of 1.43x in one run); the mean counts the checkpoints the rounds held.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { silentLogger } from "../src/log.js";
import { createStore, type Store } from "../src/state/index.js";
import { openPrefiller } from "./support/prefill.js";
import { num, publish, ratio, seconds, table, targetsTable } from "./support/report.js";
import { createRecordSource } from "./support/sample.js";

const TENANT = "bench";
const DESTINATION = "siem";
// BENCH_STATE_LEVELS=10000,100000 for a quick look; the targets compare the first and the last level.
const LEVELS = (process.env.BENCH_STATE_LEVELS ?? "10000,100000,1000000").split(",").map(Number);
const PREFILL_BATCH = 50_000;
const INGEST_BATCH = 1_000;
const DRAIN_BATCH = 500;
/** Events ingested, then drained, per round. */
const ROUND_EVENTS = 10_000;
/** Rounds per level (BENCH_STATE_ROUNDS overrides); each level's cost is the mean of its rounds. */
const ROUNDS = Number(process.env.BENCH_STATE_ROUNDS ?? 5);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error(`BENCH_STATE_ROUNDS must be >= 1: ${ROUNDS}`);
/** Events timed per level, over all rounds. */
const TIMED_EVENTS = ROUNDS * ROUND_EVENTS;
const WARM_UP_EVENTS = Number(process.env.BENCH_STATE_WARMUP ?? 10_000);
/** The e2e backlog's density: 1M detections in one hour. */
const MEAN_GAP_MS = 3.6;
/** Issue 16: ingest at 1M within 1.3x of 10k; drain keeps the first round's 1.5x. */
const INGEST_TARGET_RATIO = 1.3;
const DRAIN_TARGET_RATIO = 1.5;
/** Issue 16: the state file at 1M stored events at most 1.3x the bytes of their bodies. */
const FILE_TARGET_RATIO = 1.3;
/** Issue 16: opening a state that holds 1M events. */
const OPEN_TARGET_MS = 1_000;

interface LevelResult {
  stored: number;
  prefilled: number;
  prefillMs: number;
  openMs: number;
  /** Each round's time (ms), in run order. */
  ingestRounds: number[];
  /** Bytes the process wrote (WAL frames, checkpoints) and read during the timed ingest calls; undefined off Linux. */
  ingestWritten: number | undefined;
  ingestRead: number | undefined;
  drainRounds: number[];
  fileBytes: number;
  /** UTF-8 bytes of the bodies of the events stored when the file was measured. */
  bodyBytes: number;
}

/** Linux counts the bytes a process reads and writes through system calls (page cache hits included). */
const IO_COUNTED = fs.existsSync("/proc/self/io");

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mde-bench-state-"));
const file = path.join(dir, "state.db");
const records = createRecordSource({ meanGapMs: MEAN_GAP_MS });
const open = (): Store =>
  createStore(
    { path: file, retention: 7 * 86_400_000, max_outbox: 10_000_000, destinations: [DESTINATION] },
    { log: silentLogger() },
  );

let store: Store | undefined;
try {
  const results: LevelResult[] = [];
  let stored = 0;
  let storedBodyBytes = 0;
  let cursor = 0;
  const bytesOf = (bodies: ReadonlyArray<{ body: string }>) =>
    bodies.reduce((sum, r) => sum + Buffer.byteLength(r.body), 0);
  open().close(); // creates and migrates the file

  let written = 0;
  let read = 0;
  const ingest = (s: Store, count: number): number => {
    let ms = 0;
    for (let done = 0; done < count; done += INGEST_BATCH) {
      const part = records.next(Math.min(INGEST_BATCH, count - done));
      const checkpoint = part[part.length - 1]?.lastProcessed;
      const io0 = processIo();
      const start = performance.now();
      const result = s.ingest(TENANT, part, checkpoint);
      ms += performance.now() - start;
      const io1 = processIo();
      written += io1.written - io0.written;
      read += io1.read - io0.read;
      storedBodyBytes += bytesOf(part);
      if (result.inserted !== part.length)
        throw new Error(`expected ${part.length} new, got ${result.inserted}`);
    }
    stored += count;
    return ms;
  };

  const drain = (s: Store, count: number): number => {
    let ms = 0;
    for (let done = 0; done < count; ) {
      const start = performance.now();
      const rows = s.next(DESTINATION, cursor, Math.min(DRAIN_BATCH, count - done));
      s.ack(
        DESTINATION,
        rows.map((r) => r.id),
      );
      ms += performance.now() - start;
      if (rows.length === 0) throw new Error("the outbox ran dry");
      storedBodyBytes -= bytesOf(rows);
      cursor = rows[rows.length - 1]?.id ?? cursor;
      done += rows.length;
    }
    stored -= count;
    return ms;
  };

  for (const level of LEVELS) {
    const prefilled = level - stored;
    const prefillStart = performance.now();
    const prefiller = openPrefiller(file);
    try {
      while (stored < level) {
        const part = records.next(Math.min(PREFILL_BATCH, level - stored));
        prefiller.add(TENANT, DESTINATION, part, Date.now());
        stored += part.length;
        storedBodyBytes += bytesOf(part);
      }
    } finally {
      prefiller.close();
    }
    const prefillMs = performance.now() - prefillStart;

    // Opening an existing state checks its integrity: reported, since a forwarder restart pays it too.
    const openStart = performance.now();
    const s = open();
    store = s;
    const openMs = performance.now() - openStart;
    // Warm-up (statements, page cache), not counted.
    ingest(s, WARM_UP_EVENTS);
    drain(s, WARM_UP_EVENTS);

    const ingestRounds: number[] = [];
    const drainRounds: number[] = [];
    written = 0;
    read = 0;
    for (let round = 0; round < ROUNDS; round++) {
      ingestRounds.push(ingest(s, ROUND_EVENTS));
      drainRounds.push(drain(s, ROUND_EVENTS));
    }
    s.close();
    store = undefined;
    const result: LevelResult = {
      stored: level,
      prefilled,
      prefillMs,
      openMs,
      ingestRounds,
      ingestWritten: IO_COUNTED ? written : undefined,
      ingestRead: IO_COUNTED ? read : undefined,
      drainRounds,
      fileBytes: fs.statSync(file).size,
      bodyBytes: storedBodyBytes,
    };
    results.push(result);
    console.log(
      `  ${num(level)} stored: pre-fill ${seconds(prefillMs)}, open ${seconds(openMs)}; us/event, mean (rounds): ingest ${rounds(ingestRounds)}, drain ${rounds(drainRounds)}`,
    );
  }

  const base = results[0] as LevelResult;
  const top = results[results.length - 1] as LevelResult;
  const ingestCost = (r: LevelResult) => roundCost(r.ingestRounds);
  const drainCost = (r: LevelResult) => roundCost(r.drainRounds);
  const ingestRatio = ingestCost(top) / ingestCost(base);
  const drainRatio = drainCost(top) / drainCost(base);
  const fileRatio = top.fileBytes / top.bodyBytes;
  const totalPrefill = sum(results.map((r) => r.prefillMs));

  publish(
    "state",
    [
      "## state alone",
      "",
      `Real Store (createStore, with its own pragmas: WAL, see src/state/db.ts) on a file in ${os.tmpdir()}, one destination, bodies of ` +
        `~2.2 kB generated detections, keys shaped like FullIds (a backlog of 1M detections per hour). Per ` +
        `level, after a warm-up: ${ROUNDS} rounds of ingesting ${num(ROUND_EVENTS)} new events (store.ingest, ` +
        `${num(INGEST_BATCH)} per call with a checkpoint) and draining ${num(ROUND_EVENTS)} (store.next ` +
        `${DRAIN_BATCH}, then store.ack of their ids), so the tables hold the level to the level + ` +
        `${num(ROUND_EVENTS)} rows. Times are the store calls only. A level's cost per event (and rate) is ` +
        `the mean of its ${ROUNDS} rounds, and "vs 10k" and the targets are judged on it; every round's cost ` +
        `is in brackets, in run order. A round is slow under other load, or when it holds a WAL checkpoint ` +
        `(every 64 MB of WAL, ~60 ms: about twice the time of a 10,000-event drain round without one), so ` +
        `the drain's rounds take one of two values; with three rounds the 1M/10k drain ratio was 1.22x, ` +
        `1.30x and 1.52x in three runs of the same code. Pre-fill: the store's own INSERT ` +
        `statements on the closed file, without fsync but one at the end, ${num(PREFILL_BATCH)} per transaction: ` +
        `${seconds(totalPrefill)} in all. "open" is createStore on the filled file (lock, integrity check, ` +
        `pragmas). "file" is the state file after close (WAL checkpointed into it); "bodies" the UTF-8 bytes ` +
        `of the detections stored in it. "ingest written, read": bytes the process wrote and read (write and ` +
        `read system calls: WAL frames, checkpoints, pages the SQLite cache missed) during the timed ingest ` +
        `calls, per event: a measure of the work that the load of a shared machine does not blur.`,
      "",
      table(
        [
          "rows stored",
          "ingest /s",
          "ingest us/event (rounds)",
          "vs 10k",
          "ingest written, read",
          "drain /s",
          "drain us/event (rounds)",
          "vs 10k",
          "pre-fill",
          "open",
          "file",
          "bodies",
          "file/bodies",
        ],
        results.map((r) => [
          num(r.stored),
          num(1e6 / ingestCost(r)),
          rounds(r.ingestRounds),
          ratio(ingestCost(r) / ingestCost(base)),
          r.ingestWritten === undefined || r.ingestRead === undefined
            ? "n/a"
            : `${num(r.ingestWritten / TIMED_EVENTS / 1024)}, ${num(r.ingestRead / TIMED_EVENTS / 1024)} kB/event`,
          num(1e6 / drainCost(r)),
          rounds(r.drainRounds),
          ratio(drainCost(r) / drainCost(base)),
          `${num(r.prefilled)} in ${seconds(r.prefillMs)}`,
          seconds(r.openMs),
          `${num(r.fileBytes / 1_048_576)} MB`,
          `${num(r.bodyBytes / 1_048_576)} MB`,
          ratio(r.fileBytes / r.bodyBytes),
        ]),
      ),
      "",
      targetsTable([
        {
          target: `ingest cost per event at ${num(top.stored)} within ${INGEST_TARGET_RATIO}x of ${num(base.stored)}`,
          measured: `${num(ingestCost(top))} vs ${num(ingestCost(base))} us (means of ${ROUNDS} rounds): ${ratio(ingestRatio)}`,
          met: ingestRatio <= INGEST_TARGET_RATIO,
        },
        {
          target: `drain cost per event at ${num(top.stored)} within ${DRAIN_TARGET_RATIO}x of ${num(base.stored)}`,
          measured: `${num(drainCost(top))} vs ${num(drainCost(base))} us (means of ${ROUNDS} rounds): ${ratio(drainRatio)}`,
          met: drainRatio <= DRAIN_TARGET_RATIO,
        },
        {
          target: `state file at ${num(top.stored)} stored events at most ${FILE_TARGET_RATIO}x their bodies' bytes`,
          measured: `${num(top.fileBytes / 1_048_576)} MB for ${num(top.bodyBytes / 1_048_576)} MB: ${ratio(fileRatio)}`,
          met: fileRatio <= FILE_TARGET_RATIO,
        },
        {
          target: `opening a state holding ${num(top.stored)} events under ${seconds(OPEN_TARGET_MS)}`,
          measured: seconds(top.openMs),
          met: top.openMs < OPEN_TARGET_MS,
        },
      ]),
    ].join("\n"),
  );
} finally {
  store?.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

function processIo(): { written: number; read: number } {
  if (!IO_COUNTED) return { written: 0, read: 0 };
  const text = fs.readFileSync("/proc/self/io", "utf8");
  const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)$`, "m").exec(text)?.[1] ?? 0);
  return { written: field("wchar"), read: field("rchar") };
}

/** us per event of a round taking `ms`. */
function usPerEvent(ms: number): number {
  return (ms * 1000) / ROUND_EVENTS;
}

/** A level's cost per event: the mean of its rounds'. */
function roundCost(rounds: readonly number[]): number {
  return usPerEvent(sum(rounds) / rounds.length);
}

/** "23.1 (22.8, 23.1, 25.0)": the judged cost per event, then every round's, in run order. */
function rounds(ms: readonly number[]): string {
  return `${num(roundCost(ms))} (${ms.map((m) => num(usPerEvent(m))).join(", ")})`;
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
