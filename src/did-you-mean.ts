// "Did you mean ...?" for a mistyped command, option or config key: the closest known word by edit
// distance (Damerau-Levenshtein, so a swap of two letters costs one), if it is close enough to be a typo.

/** Edits (insert, delete, substitute, swap two neighbours) turning `a` into `b`. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array(rows * cols).fill(0);
  const at = (i: number, j: number) => d[i * cols + j] ?? 0;
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, at(i - 2, j - 2) + 1);
      }
      d[i * cols + j] = best;
    }
  }
  return at(a.length, b.length);
}

/**
 * The known word closest to `input`, when it is close enough to be a typo: at most one edit for words of
 * up to 4 letters, two up to 8, three beyond; or the only word that starts with it (`reset` for
 * `reset-checkpoint`). A tie goes to the first candidate.
 */
export function closest(input: string, candidates: Iterable<string>): string | undefined {
  const word = input.toLowerCase();
  const list = [...candidates];
  const prefixed = list.filter((c) => word.length >= 3 && c.toLowerCase().startsWith(word) && c !== input);
  if (prefixed.length === 1) return prefixed[0];
  const limit = word.length <= 4 ? 1 : word.length <= 8 ? 2 : 3;
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of list) {
    if (candidate === input) continue;
    const distance = editDistance(word, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

/** `; did you mean "region"?` or nothing: appended to an "unknown ..." message. */
export function didYouMean(input: string, candidates: Iterable<string>, quote = '"'): string {
  const match = closest(input, candidates);
  return match === undefined ? "" : `; did you mean ${quote}${match}${quote}?`;
}
