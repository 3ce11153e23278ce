// Where an overlay worktree can differ from HEAD, without walking it: the pristine (lower layer) is
// exactly the tree of its commit, so every file changed, added or deleted since is in the upper
// layer (a copy, a new file, a whiteout), and a commit or branch switch since adds the paths
// between the pristine's commit and HEAD (a tree-to-tree diff, no file read). Git then looks at
// those paths only, instead of lstat-ing every file of a big repository.
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { git } from '../activities/git.js';
import { isMounted, overlayState } from './overlay.js';
import { pristineRoot, readCommitFile } from './pristine.js';

/** Past this many paths, the plain walk is cheaper than the command lines they would make. */
const MAX_PATHS = 2_000;
/** The worktree's own files in its upper layer (its `.git` file, Hive's folder): never work. */
const OWN = new Set(['.git', '.hive']);

/**
 * An opaque folder (removed and made again in the cell) hides what is below without a whiteout per
 * file: seen as a lower entry the merged view lacks and no whiteout in the upper layer explains.
 * Such a folder is one path, looked at whole.
 */
async function hidesLower(upper: string, lower: string, merged: string, rel: string): Promise<boolean> {
  const list = (root: string) => readdir(path.join(root, rel)).catch(() => [] as string[]);
  const [below, seen, above] = await Promise.all([list(lower), list(merged), list(upper)]);
  const visible = new Set(seen);
  const covered = new Set(above);
  return below.some((name) => !visible.has(name) && !covered.has(name));
}

/**
 * The upper layer's paths, as pathspecs: a folder that exists below too is entered (a file copied up
 * inside it), anything else (a file, a whiteout, a new or opaque folder) is one path.
 */
async function upperPaths(upper: string, lower: string, merged: string, rel = ''): Promise<string[] | null> {
  const out: string[] = [];
  for (const entry of await readdir(path.join(upper, rel), { withFileTypes: true })) {
    const name = rel ? `${rel}/${entry.name}` : entry.name;
    if (!rel && OWN.has(entry.name)) continue;
    const below = entry.isDirectory()
      ? await lstat(path.join(lower, name)).catch(() => undefined)
      : undefined;
    if (below?.isDirectory() && !(await hidesLower(upper, lower, merged, name))) {
      const inner = await upperPaths(upper, lower, merged, name);
      if (!inner) return null;
      out.push(...inner);
    } else out.push(name);
    if (out.length > MAX_PATHS) return null;
  }
  return out;
}

/**
 * The paths where the worktree may differ from HEAD, or null when it is not a mounted overlay
 * worktree (or too much changed): then every path is to be looked at.
 */
export async function overlayChangedPaths(worktree: string): Promise<string[] | null> {
  const state = overlayState(worktree);
  const commit = await readCommitFile(state.commitFile);
  if (!commit || !(await isMounted(worktree))) return null;
  const lower = path.join(await pristineRoot(worktree), commit, 'tree');
  const upper = await upperPaths(state.upper, lower, worktree).catch(() => null);
  if (!upper) return null;
  const moved = (await git(worktree, ['diff', '--name-only', '-z', '--no-renames', commit, 'HEAD']))
    .split('\0')
    .filter(Boolean);
  const paths = [...new Set([...upper, ...moved])];
  return paths.length > MAX_PATHS ? null : paths;
}
