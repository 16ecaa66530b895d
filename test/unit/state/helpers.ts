// Shared by the state tests: a temp directory per test file and detection records built the real way.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { silentLogger } from "../../../src/log.js";
import { type DetectionRecord, toDetectionRecord } from "../../../src/record.js";
import { createStore, type Store, type StoreConfig } from "../../../src/state/index.js";

export const DAY = 86_400_000;

export function tempDir(): { dir: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mde-state-"));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** A detection with a FullId and a LastProcessedTimeUtc at `second` seconds past a fixed minute. */
export function detection(id: string, second = 0, extra: Record<string, unknown> = {}): DetectionRecord {
  const ss = String(second).padStart(2, "0");
  return toDetectionRecord({
    FullId: id,
    LastProcessedTimeUtc: `2024-05-01T10:00:${ss}.1234567Z`,
    Title: `detection ${id}`,
    ...extra,
  });
}

export function ts(second: number): string {
  return `2024-05-01T10:00:${String(second).padStart(2, "0")}.1234567Z`;
}

/** A mutable clock for retention tests. */
export function fakeClock(start = Date.UTC(2024, 4, 1)): {
  now: () => number;
  advance: (ms: number) => void;
} {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}

export function openStore(
  file: string,
  options: Partial<StoreConfig> & { clock?: () => number } = {},
): Store {
  const { clock, ...rest } = options;
  return createStore(
    { path: file, retention: 7 * DAY, max_outbox: 1_000_000, destinations: ["siem-a", "siem-b"], ...rest },
    clock === undefined ? { log: silentLogger() } : { log: silentLogger(), clock },
  );
}
