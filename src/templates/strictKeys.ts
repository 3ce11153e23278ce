import type { z } from 'zod';

// Unknown keys in a config are refused, not dropped: `readyTimeoutMS` would otherwise pass the dry
// run and do nothing. Each refusal names the key and the nearest key the object knows.

/**
 * Edit distance between two words: insertions, deletions, substitutions, and swaps of two
 * neighbouring letters (`imgae`), the commonest typo (optimal string alignment distance).
 */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => d[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    const row = d[i] as number[];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(
        at(i - 1, j) + 1,
        at(i, j - 1) + 1,
        at(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        row[j] = Math.min(at(i, j), at(i - 2, j - 2) + 1);
    }
  }
  return at(a.length, b.length);
}

/**
 * The known word `word` most likely misspells: the same word in another case first, else the
 * closest by edit distance (case ignored), when close enough to be a typo rather than another word.
 */
export function nearestWord(word: string, known: Iterable<string>): string | undefined {
  const lower = word.toLowerCase();
  let best: { word: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < (best?.distance ?? Number.POSITIVE_INFINITY)) best = { word: candidate, distance };
  }
  if (!best) return undefined;
  // Up to a third of the word may differ (at least one edit): `dependson`, `readyTimout`, `devv`.
  return best.distance <= Math.max(1, Math.floor(word.length / 3)) ? best.word : undefined;
}

/** "unknown key "x"", with the nearest known key when there is one. */
export function unknownKeyMessage(key: string, known: string[]): string {
  const near = nearestWord(key, known);
  return near ? `unknown key "${key}": did you mean "${near}"?` : `unknown key "${key}"`;
}

export function unknownKeyHint(key: string, known: string[]): string {
  const near = nearestWord(key, known);
  const list = `Known keys here: ${known.join(', ')}.`;
  return near
    ? `Rename ${key} to ${near}. ${list}`
    : `Remove ${key} or fix its spelling (unknown keys are refused, not ignored). ${list}`;
}

/** An unrecognized_keys issue as it leaves zod, with the keys its object knows (see strictObject). */
export type UnknownKeysIssue = z.core.$ZodIssueUnrecognizedKeys & { known?: string[] };

/**
 * Error map of a strict config object: says which keys are unknown and, for the hint, leaves the
 * object's known keys on the issue (`known`), since zod drops the schema from issues it returns.
 */
export const unknownKeysError = (issue: z.core.$ZodRawIssue): string | undefined => {
  if (issue.code !== 'unrecognized_keys') return undefined;
  const shape = (issue.inst as { _zod?: { def?: { shape?: object } } } | undefined)?._zod?.def?.shape;
  const known = shape ? Object.keys(shape) : [];
  (issue as UnknownKeysIssue).known = known;
  return issue.keys.map((key) => unknownKeyMessage(key, known)).join('; ');
};
