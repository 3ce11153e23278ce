import { realpath } from 'node:fs/promises';
import path from 'node:path';

// Paths from a config (prompt fragments, includes, service cwd) and paths a cell's commands see
// must stay inside their root (the workspace, or the worktree) with symlinks followed: a committed
// symlink to /etc/passwd is a path outside, whatever its name says.

/** Whether `candidate` is `root` or below it (both absolute, normalized). */
export const isInside = (root: string, candidate: string) =>
  candidate === root || candidate.startsWith(`${root}${path.sep}`);

/** How to fix a prompt path that leads outside the workspace (dry run and prompt step alike). */
export const PROMPT_INSIDE_HINT =
  'Keep prompt files inside the workspace; a symlink must point inside it too.';

export type Contained =
  | { ok: true; path: string }
  | { ok: false; reason: 'missing' | 'outside'; path: string };

/**
 * Resolves `relative` against `root` and follows every symlink; ok only when the real path exists
 * and lies inside the real root.
 */
export async function containedPath(root: string, relative: string): Promise<Contained> {
  const lexical = path.resolve(root, relative);
  const realRoot = await realpath(root).catch(() => root);
  if (!isInside(path.resolve(root), lexical)) return { ok: false, reason: 'outside', path: lexical };
  const real = await realpath(lexical).catch(() => undefined);
  if (real === undefined) return { ok: false, reason: 'missing', path: lexical };
  return isInside(realRoot, real) ? { ok: true, path: real } : { ok: false, reason: 'outside', path: real };
}
