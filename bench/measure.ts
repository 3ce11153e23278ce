// What every benchmark measures with: the median, and the raw shell baseline of one cell.
import path from 'node:path';
import { execa } from 'execa';
import getPort from 'get-port';

/** The median (the mean of the middle two for an even count). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

export const ms = (n: number) => `${n.toFixed(0)} ms`;

/**
 * bench/baseline.sh in `repo` (which has a `server.js`): worktree add, start the server, wait for
 * its port, remove everything. Returns its wall time.
 */
export async function shellBaseline(repo: string, name: string): Promise<number> {
  const started = performance.now();
  await execa('bash', [
    path.join(import.meta.dirname, 'baseline.sh'),
    repo,
    `${name}-${Date.now()}`,
    String(await getPort()),
  ]);
  return performance.now() - started;
}
