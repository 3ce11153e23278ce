import { setTimeout as sleep } from 'node:timers/promises';
import type { ServiceLogs } from './types.js';

export interface FollowLogsOptions {
  /** Lines shown first (the tail), like `tail -n` (default 50). */
  lines?: number;
  /** How often the log is read again (default 500 ms). */
  intervalMs?: number;
  signal?: AbortSignal;
}

/** How many lines of `next` are new after `previous`: where `previous`'s end overlaps `next`. */
export function newLinesAfter(previous: string[], next: string[]): string[] {
  if (previous.length === 0) return next;
  // The longest suffix of `previous` that is a prefix of `next` marks what was already seen.
  for (let overlap = Math.min(previous.length, next.length); overlap > 0; overlap--) {
    let same = true;
    for (let i = 0; i < overlap && same; i++) same = previous[previous.length - overlap + i] === next[i];
    if (same) return next.slice(overlap);
  }
  return next;
}

/**
 * A service's log as it grows, for a cell in any state: the event stream ends once a cell rests, so
 * a ready cell's log is followed by reading its tail again and yielding the lines past what was
 * seen. A window of 1000 lines keeps the overlap findable between reads.
 */
export async function* followServiceLogs(
  read: (lines: number) => Promise<ServiceLogs>,
  options: FollowLogsOptions = {},
): AsyncGenerator<string> {
  const window = 1_000;
  let seen = (await read(window)).lines;
  yield* seen.slice(-(options.lines ?? 50));
  while (!options.signal?.aborted) {
    await sleep(options.intervalMs ?? 500, undefined, { signal: options.signal }).catch(() => undefined);
    if (options.signal?.aborted) return;
    const next = (await read(window)).lines;
    yield* newLinesAfter(seen, next);
    seen = next;
  }
}
