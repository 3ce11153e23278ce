// How a cell's worktree is made, fastest first, and the method named in the worktree step's record:
// - `overlay`: an overlayfs mount over the pristine checkout of the commit (overlay.ts), when the
//   host allows overlay mounts (root or CAP_SYS_ADMIN, overlayfs, a path overlayfs options can say)
//   and the tree is big enough for it to pay;
// - `checkout`: plain `git worktree add`, checking the files out (the fallback).
// Both leave a registered git worktree on the cell's branch, with its own index and HEAD: git
// status, commits, archive and restore work the same on either.
import path from 'node:path';
import { git, gitSays } from '../activities/git.js';
import { addOverlayWorktree, convergeOverlay, overlayUnavailable, releaseOverlay } from './overlay.js';
import { hasPristine } from './pristine.js';

export const WorktreeMethod = { overlay: 'overlay', checkout: 'checkout' } as const;
export type WorktreeMethod = (typeof WorktreeMethod)[keyof typeof WorktreeMethod];

export interface MadeWorktree {
  method: WorktreeMethod;
  /** Why the faster method was not used, when it was not. */
  fallback?: string;
}

/**
 * Below this many files a checkout takes a few tens of ms, less than making the first pristine of
 * a commit (a checkout, then up to a second's wait for git's racy-timestamp rule): the plain
 * checkout is used. `HIVE_OVERLAY_MIN_FILES` sets it (0: overlay whenever the host allows it).
 */
const overlayMinFiles = () => Number(process.env.HIVE_OVERLAY_MIN_FILES ?? 2_000);

/** Files per commit (`repo\0commit`): a commit's tree never changes, so it is counted once per process. */
const fileCounts = new Map<string, number>();
const FILE_COUNTS_KEPT = 1_000;

async function filesIn(repo: string, commit: string): Promise<number> {
  const key = `${repo}\0${commit}`;
  const known = fileCounts.get(key);
  if (known !== undefined) return known;
  const listing = await git(repo, ['ls-tree', '-r', '-z', '--name-only', commit]);
  let files = 0;
  for (let i = listing.indexOf('\0'); i !== -1; i = listing.indexOf('\0', i + 1)) files++;
  if (fileCounts.size >= FILE_COUNTS_KEPT) fileCounts.clear();
  fileCounts.set(key, files);
  return files;
}

/** Why the overlay does not pay for this commit, or null: its pristine exists, or it is big. */
async function tooSmallForOverlay(repo: string, commit: string): Promise<string | null> {
  const min = overlayMinFiles();
  if (min <= 0 || (await hasPristine(repo, commit))) return null;
  const files = await filesIn(repo, commit);
  return files < min ? `${files} files, fewer than ${min} (HIVE_OVERLAY_MIN_FILES)` : null;
}

/**
 * A new cell's checkout in one git process (`git worktree add -b`), when the checkout is the
 * method: undefined when it is not, or when git refused (the branch or a registration is already
 * there: a killed run's leftovers), for the caller's careful way (prune, look, add) to handle. The
 * overlay always takes the careful way: its parts converge one by one (overlay.ts).
 */
export async function addNewCellWorktree(
  repo: string,
  worktreePath: string,
  branch: string,
  baseCommit: string,
): Promise<MadeWorktree | undefined> {
  const unavailable =
    (await overlayUnavailable(path.dirname(worktreePath))) ?? (await tooSmallForOverlay(repo, baseCommit));
  if (!unavailable) return undefined;
  const added = await git(repo, ['worktree', 'add', '-b', branch, worktreePath, baseCommit]).then(
    () => true,
    () => false,
  );
  return added ? { method: WorktreeMethod.checkout, fallback: unavailable } : undefined;
}

/** Adds the cell's worktree (nothing registered at its path yet), on its branch, new or existing. */
export async function addCellWorktree(
  repo: string,
  worktreePath: string,
  branch: string,
  baseCommit: string,
): Promise<MadeWorktree> {
  const existing = await gitSays(repo, ['show-ref', '--verify', '--quiet', `refs/heads/${branch}`]);
  // A restored cell's branch may have moved past its base: the pristine is of where it is now.
  const commit = existing
    ? (await git(repo, ['rev-parse', `refs/heads/${branch}^{commit}`])).trim()
    : baseCommit;
  const cellsDir = path.dirname(worktreePath);
  const unavailable = (await overlayUnavailable(cellsDir)) ?? (await tooSmallForOverlay(repo, commit));
  if (!unavailable) {
    await addOverlayWorktree(repo, worktreePath, commit, { branch, create: !existing });
    return { method: WorktreeMethod.overlay };
  }
  await git(
    repo,
    existing
      ? ['worktree', 'add', worktreePath, branch]
      : ['worktree', 'add', '-b', branch, worktreePath, baseCommit],
  );
  return { method: WorktreeMethod.checkout, fallback: unavailable };
}

/**
 * A worktree already registered at the path (a step run again): an overlay one is finished (mount,
 * index) if a kill or a host restart left it undone; a checkout is adopted as it is.
 */
export async function adoptCellWorktree(repo: string, worktreePath: string): Promise<MadeWorktree> {
  if (await convergeOverlay(repo, worktreePath)) return { method: WorktreeMethod.overlay };
  // The same answer as the run that made it (a step run again converges to the same result).
  const head = (await git(worktreePath, ['rev-parse', 'HEAD'])).trim();
  const unavailable =
    (await overlayUnavailable(path.dirname(worktreePath))) ?? (await tooSmallForOverlay(repo, head));
  return { method: WorktreeMethod.checkout, ...(unavailable ? { fallback: unavailable } : {}) };
}

/** Mounted again when it is not (before its work is read and saved): true for an overlay worktree. */
export const mountCellWorktree = (repo: string, worktreePath: string) => convergeOverlay(repo, worktreePath);

/** After its work was saved: an overlay worktree unmounted and its layers removed. */
export const releaseCellWorktree = (repo: string, worktreePath: string) => releaseOverlay(repo, worktreePath);
