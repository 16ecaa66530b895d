// Fitting a message into max_message_bytes by water-filling: the longest values are cut first, down
// toward the next longest, until the message fits; no value is cut below a small floor.
import type { TruncationCounter } from "./escape.js";
import type { FieldTarget, MappedFields } from "./field-plan.js";

/** No value is cut below this many bytes to make a message fit: a 16-byte prefix still identifies it. */
export const FIT_FLOOR_BYTES = 16;

/**
 * The highest level L >= `floor` such that cutting every length above L down to L removes at least
 * `excess` bytes; undefined when even cutting everything to `floor` is not enough.
 */
export function waterLevel(
  lengths: readonly number[],
  excess: number,
  floor = FIT_FLOOR_BYTES,
): number | undefined {
  if (excess <= 0) return Number.POSITIVE_INFINITY;
  const sorted = lengths.filter((n) => n > floor).sort((a, b) => b - a);
  let sum = 0;
  for (let k = 1; k <= sorted.length; k++) {
    sum += sorted[k - 1] ?? 0;
    // With the k longest lowered to L (and L at or above the next one), they give up sum - k * L bytes.
    const level = Math.floor((sum - excess) / k);
    const next = Math.max(sorted[k] ?? floor, floor);
    if (level >= next) return level;
  }
  return undefined;
}

/**
 * A level per value: expendable values (a normalized alert's extra keys, Evidence the longest) are cut
 * first, longest first and down to the floor if need be; the others share by water-filling only what
 * is still missing. Without expendable values this is waterLevel for all. `Infinity` means "not cut".
 */
export function fitLevels(
  lengths: readonly number[],
  expendable: readonly boolean[],
  excess: number,
): number[] {
  const first = lengths.map((n, i) => (expendable[i] === true ? n : 0));
  const firstLevel = waterLevel(first, excess);
  if (firstLevel !== undefined)
    return lengths.map((_, i) => (expendable[i] === true ? firstLevel : Infinity));
  const saved = first.reduce((sum, n) => sum + Math.max(0, n - FIT_FLOOR_BYTES), 0);
  const rest = lengths.map((n, i) => (expendable[i] === true ? 0 : n));
  const level = waterLevel(rest, excess - saved) ?? FIT_FLOOR_BYTES;
  return lengths.map((_, i) => (expendable[i] === true ? FIT_FLOOR_BYTES : level));
}

/**
 * A message's fields cut to fit `maxBytes` (CEF and LEEF alike): each value encoded within its own limit,
 * then the ones over their fitLevels level encoded again within it. `assemble` builds the whole message
 * from the targets and their values; `truncated` counts the values cut (each once).
 */
export function fitFields(
  mapped: MappedFields,
  encode: (value: string, maxBytes: number, counter: TruncationCounter) => string,
  assemble: (targets: readonly FieldTarget[], values: readonly string[]) => string,
  maxBytes: number,
): { text: string; truncated: number } {
  const targets = mapped.targets.slice(0, mapped.count);
  const raw = mapped.values.slice(0, mapped.count);
  const cut: boolean[] = [];
  const encodeOne = (i: number, limit: number): string => {
    const counter: TruncationCounter = { truncated: 0 };
    const value = encode(raw[i] as string, limit, counter);
    cut[i] = cut[i] === true || counter.truncated > 0;
    return value;
  };
  const values = targets.map((target, i) => encodeOne(i, target.maxBytes));
  const lengths = values.map((v, i) =>
    targets[i]?.constant === true || targets[i]?.keep === true ? 0 : Buffer.byteLength(v),
  );
  const levels = fitLevels(
    lengths,
    targets.map((t) => t.expendable),
    Buffer.byteLength(assemble(targets, values)) - maxBytes,
  );
  targets.forEach((target, i) => {
    const level = levels[i] ?? Number.POSITIVE_INFINITY;
    if ((lengths[i] ?? 0) > level) values[i] = encodeOne(i, Math.min(target.maxBytes, level));
  });
  return { text: assemble(targets, values), truncated: cut.filter(Boolean).length };
}
