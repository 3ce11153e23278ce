// Keeping a person's work when a worktree goes: before removal, everything not on a kept branch
// (changes to tracked files, untracked files, gitignored files made after the cell was ready, a
// detached HEAD's commits) is committed to refs/hive/archive/<cell-id>, and a restored cell gets it
// back. Git plumbing runs with a private index file, so the worktree's own index is never touched.
// Paths travel NUL-separated on stdin, with literal pathspecs: a file name is never an option or a
// glob, and nothing here goes through a shell.
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { CellPlan } from '../cells/plan.js';
import type { ArchiveRecord, WorkFiles } from '../cells/schema.js';
import { git, gitSays } from './git.js';
import { heartbeat } from './steps.js';
import {
  isWorktree,
  listWork,
  nulList,
  readBaseline,
  recordsHandovers,
  type WorkEntry,
  writeBaseline,
} from './workBaseline.js';

const ARCHIVE_AUTHOR = { name: 'Hive cells', email: 'hive@localhost' };

export const archiveRef = (cellId: string) => `refs/hive/archive/${cellId}`;

function group(entries: WorkEntry[], staged: string[]): WorkFiles {
  const files: WorkFiles = { modified: [], deleted: [], untracked: [], ignored: [] };
  for (const entry of entries) files[entry.kind].push(entry.path);
  return staged.length ? { ...files, staged } : files;
}

/** The index file of a worktree (each worktree has its own). */
const indexFile = async (worktree: string) =>
  path.resolve(worktree, (await git(worktree, ['rev-parse', '--git-path', 'index'])).trim());

/**
 * The staged state: a commit of the worktree's index on top of HEAD (as `git stash` keeps it), or
 * null when nothing is staged. Written from a copy of the index, so the worktree's own is never
 * touched. An index with unresolved conflicts cannot be a tree: its paths are kept as worktree files.
 */
async function commitIndex(worktree: string, head: string, cellId: string): Promise<string | null> {
  const staged = nulList(
    await git(worktree, ['diff', '--cached', '--name-only', '-z', '--no-renames', head]),
  );
  if (staged.length === 0) return null;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hive-index-'));
  try {
    const copy = path.join(dir, 'index');
    await copyFile(await indexFile(worktree), copy);
    const env = { ...authorEnv, GIT_INDEX_FILE: copy };
    const tree = (await git(worktree, ['write-tree'], { env }).catch(() => '')).trim();
    if (!tree) return null;
    const message = `hive: staged index of cell ${cellId} when its worktree was removed`;
    return (await git(worktree, ['commit-tree', tree, '-p', head, '-m', message], { env })).trim();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const authorEnv = {
  GIT_AUTHOR_NAME: ARCHIVE_AUTHOR.name,
  GIT_AUTHOR_EMAIL: ARCHIVE_AUTHOR.email,
  GIT_COMMITTER_NAME: ARCHIVE_AUTHOR.name,
  GIT_COMMITTER_EMAIL: ARCHIVE_AUTHOR.email,
};

/**
 * A commit of HEAD plus the given entries, built in a private index; its second parent is the
 * staged index's commit, when there is one.
 */
async function commitWork(
  worktree: string,
  head: string,
  entries: WorkEntry[],
  message: string,
  index: string | null,
) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hive-archive-'));
  const env = { ...authorEnv, GIT_INDEX_FILE: path.join(dir, 'index') };
  try {
    await git(worktree, ['read-tree', head], { env });
    const add = async (paths: string[], force: boolean) => {
      if (paths.length === 0) return;
      heartbeat({ saving: paths.length });
      const args = ['add', '-A', ...(force ? ['-f'] : []), '--pathspec-from-file=-', '--pathspec-file-nul'];
      await git(worktree, args, { env, input: paths.join('\0') });
    };
    await add(
      entries.filter((e) => e.kind !== 'ignored').map((e) => e.path),
      false,
    );
    await add(
      entries.filter((e) => e.kind === 'ignored').map((e) => e.path),
      true,
    );
    const tree = (await git(worktree, ['write-tree'], { env })).trim();
    const parents = ['-p', head, ...(index ? ['-p', index] : [])];
    return (await git(worktree, ['commit-tree', tree, ...parents, '-m', message], { env })).trim();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Commits beyond `base` on a branch, or 0 when it does not exist; `not` leaves out another's. */
async function commitsOn(worktree: string, base: string, branch: string, not?: string): Promise<number> {
  const ref = `refs/heads/${branch}`;
  if (!(await gitSays(worktree, ['rev-parse', '--verify', '-q', ref]))) return 0;
  const exclude = not && (await gitSays(worktree, ['rev-parse', '--verify', '-q', `refs/heads/${not}`]));
  const args = ['rev-list', '--count', `${base}..${ref}`, ...(exclude ? [`^refs/heads/${not}`] : [])];
  return Number((await git(worktree, args)).trim());
}

/**
 * Saves the work in a cell's worktree to refs/hive/archive/<cell-id> before it is removed: nothing
 * is lost unless `discard` says so, and then the record lists what was dropped. Commits on a
 * detached HEAD are kept even then: discard drops files, never commits. Null when there is no
 * worktree (already removed: a second run converges).
 */
export async function saveWork(
  plan: CellPlan,
  { discard = false }: { discard?: boolean } = {},
): Promise<ArchiveRecord | null> {
  const worktree = plan.worktreePath;
  if (!(await isWorktree(worktree))) return null;
  const baseline = await readBaseline(worktree);
  // Never handed to a person (rolled back or cancelled while provisioning): nothing in it is work.
  // A worktree made before handovers were recorded has no marker: everything in it counts.
  const handedOver = baseline !== undefined || !(await recordsHandovers(worktree));
  const work = handedOver
    ? (await listWork(worktree)).filter((e) => baseline?.entries[e.path] !== e.fingerprint)
    : [];
  const headCommit = (await git(worktree, ['rev-parse', 'HEAD'])).trim();
  // The branch HEAD is on: the cell's own, or one its agent made (`git switch -c feature`).
  const headBranch =
    (await git(worktree, ['symbolic-ref', '-q', '--short', 'HEAD']).catch(() => '')).trim() || null;
  const detached = headBranch === null;
  // Staged content (the index) is work too, even where the worktree no longer has it.
  const stagedPaths = handedOver
    ? nulList(await git(worktree, ['diff', '--cached', '--name-only', '-z', '--no-renames', 'HEAD']))
    : [];
  // A detached HEAD whose commits no branch, tag or remote holds would be gone at the next gc.
  const dangling =
    detached &&
    (
      await git(worktree, [
        'for-each-ref',
        '--count=1',
        '--contains',
        headCommit,
        'refs/heads',
        'refs/tags',
        'refs/remotes',
      ])
    ).trim() === '';
  const commits =
    (await commitsOn(worktree, plan.baseCommit, plan.branch)) +
    (headBranch && headBranch !== plan.branch
      ? await commitsOn(worktree, plan.baseCommit, headBranch, plan.branch)
      : 0);
  const ref = archiveRef(plan.cellId);
  const keptFiles = discard ? [] : work;
  const index =
    discard || stagedPaths.length === 0 ? null : await commitIndex(worktree, headCommit, plan.cellId);
  let commit: string | null = null;
  if (keptFiles.length > 0 || index) {
    commit = await commitWork(
      worktree,
      headCommit,
      keptFiles,
      `hive: work of cell ${plan.cellId} when its worktree was removed`,
      index,
    );
  } else if (dangling) {
    commit = headCommit;
  }
  if (commit) await git(worktree, ['update-ref', '-m', `hive: archive of cell ${plan.cellId}`, ref, commit]);
  else await gitSays(worktree, ['update-ref', '-d', ref]);
  return {
    ref: commit ? ref : null,
    commit,
    branch: plan.branch,
    baseCommit: plan.baseCommit,
    headCommit,
    detached,
    headBranch,
    index,
    commits,
    saved: keptFiles.length > 0 || index ? group(keptFiles, index ? stagedPaths : []) : null,
    discarded: discard && (work.length > 0 || stagedPaths.length > 0) ? group(work, stagedPaths) : null,
    at: new Date().toISOString(),
  };
}

/**
 * In a freshly added worktree of a restored cell: HEAD as it was (detached when it was), then every
 * saved file, byte for byte, without staging anything — the worktree looks as it did.
 */
export async function restoreWork(plan: CellPlan): Promise<void> {
  const { restore, worktreePath } = plan;
  if (!restore) return;
  if (
    restore.detached &&
    (await gitSays(worktreePath, ['cat-file', '-e', `${restore.headCommit}^{commit}`]))
  ) {
    await git(worktreePath, ['checkout', '-q', '--detach', restore.headCommit]);
  }
  // Back on the branch the agent was on (it was kept: removal deletes only the cell's own, empty).
  // A branch checked out elsewhere meanwhile cannot be: the cell stays on its own, files restored.
  const other = restore.headBranch;
  if (
    other &&
    other !== plan.branch &&
    (await gitSays(worktreePath, ['rev-parse', '--verify', '-q', `refs/heads/${other}`]))
  ) {
    await gitSays(worktreePath, ['checkout', '-q', other]);
  }
  if (restore.commit) {
    await git(worktreePath, ['restore', `--source=${restore.commit}`, '--worktree', '--', '.']);
    // The index as it was: what had been staged is staged again.
    if (restore.index) await git(worktreePath, ['read-tree', restore.index]);
    // What came back is a person's work, whatever setup does next.
    const restored = nulList(
      await git(worktreePath, [
        'diff',
        '--name-only',
        '-z',
        '--no-renames',
        `${restore.commit}^`,
        restore.commit,
      ]),
    );
    await mkdir(path.join(worktreePath, '.hive'), { recursive: true });
    await writeBaseline(worktreePath, { entries: {}, personal: restored });
  }
}
