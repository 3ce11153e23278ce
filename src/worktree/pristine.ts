// A pristine checkout of one commit, shared by every overlay cell of that commit in a repository
// (`<git dir>/hive/pristine/<commit>/tree`, with the index that describes it beside it). Inside the
// repository's git dir, which git never walks: under `.cells/` (excluded, but no nested repository)
// every `git ls-files --ignored` of the workspace would list its files one by one.
// It is the read-only lower layer of each cell's overlay; a cell's index starts as a copy of its
// index, so `git status` in a new cell trusts the stat data and reads no file.
//
// Made once per commit (a checkout into a temporary folder, then one rename: a process killed
// half-way leaves only a `*.partial-*` folder, removed by the next build), then kept as a cache:
// when a cell goes, pristines no mounted cell uses are removed, but the one used last (the next
// cell on the same base commit is then a mount, not a checkout).
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { git, gitCommonDir } from '../activities/git.js';

const PARTIAL = '.partial-';

/** `<git common dir>/hive/pristine` of the repository. */
export async function pristineRoot(repo: string): Promise<string> {
  return path.join(await gitCommonDir(repo), 'hive', 'pristine');
}

export interface Pristine {
  commit: string;
  tree: string;
  index: string;
}

const pristineOf = async (repo: string, commit: string): Promise<Pristine> => {
  const dir = path.join(await pristineRoot(repo), commit);
  return { commit, tree: path.join(dir, 'tree'), index: path.join(dir, 'index') };
};

const exists = (file: string) =>
  stat(file).then(
    () => true,
    () => false,
  );

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return pid !== 0;
  } catch {
    return false;
  }
}

// Asked on the way to every new cell's checkout: a synchronous stat (µs), not a thread-pool round trip.
export const hasPristine = async (repo: string, commit: string) =>
  existsSync((await pristineOf(repo, commit)).index);

/**
 * The pristine checkout of `commit`, made when missing. Callers run it one at a time per
 * repository (the worktree queue), so two cells of one commit never build it twice.
 */
export async function ensurePristine(repo: string, commit: string): Promise<Pristine> {
  const pristine = await pristineOf(repo, commit);
  if (await exists(pristine.index)) {
    // Used now: the last one used is the one clean-up keeps.
    const now = new Date();
    await utimes(path.dirname(pristine.index), now, now).catch(() => undefined);
    return pristine;
  }
  const root = await pristineRoot(repo);
  await mkdir(root, { recursive: true });
  // What a killed build left; a build another live process (a second worker) runs is its own.
  for (const entry of await readdir(root)) {
    const pid = entry.includes(PARTIAL) ? Number(entry.split(PARTIAL)[1]) : undefined;
    if (pid !== undefined && !alive(pid)) await rm(path.join(root, entry), { recursive: true, force: true });
  }
  const partial = path.join(root, `${commit}${PARTIAL}${process.pid}`);
  const tree = path.join(partial, 'tree');
  await mkdir(tree, { recursive: true });
  const env = { GIT_INDEX_FILE: path.join(partial, 'index') };
  // One checkout of the commit into the folder, with a private index (the repository's own index
  // and worktrees are never touched). Hooks do not run for read-tree.
  await git(repo, ['--work-tree', tree, 'read-tree', '-u', '--reset', commit], { env });
  // Files written in the same second as the index are "racily clean" to git, which would read
  // every one of them again in each cell: once the clock has moved on, refresh the index, so its
  // own time is later than every file's and the stat data alone says "unchanged".
  const indexTime = (await stat(env.GIT_INDEX_FILE)).mtimeMs;
  const wait = Math.ceil(indexTime / 1000) * 1000 + 10 - Date.now();
  if (wait > 0) await sleep(wait);
  await git(repo, ['--work-tree', tree, 'update-index', '-q', '--refresh'], { env });
  try {
    await rename(partial, path.dirname(pristine.index));
  } catch (error) {
    // Another process finished the same pristine first: its copy is as good.
    await rm(partial, { recursive: true, force: true });
    if (!(await exists(pristine.index))) throw error;
  }
  return pristine;
}

/**
 * Removes the pristines of the repository that no cell uses (`inUse`: their commits), but the one
 * used last. Returns the commits removed.
 */
export async function prunePristines(repo: string, inUse: Set<string>): Promise<string[]> {
  const root = await pristineRoot(repo);
  const entries = (await readdir(root).catch(() => [] as string[])).filter((e) => !e.includes(PARTIAL));
  const dated = await Promise.all(
    entries.map(async (commit) => ({
      commit,
      at: (await stat(path.join(root, commit)).catch(() => undefined))?.mtimeMs ?? 0,
    })),
  );
  const newest = dated.sort((a, b) => b.at - a.at)[0]?.commit;
  const removed: string[] = [];
  for (const { commit } of dated) {
    if (commit === newest || inUse.has(commit)) continue;
    await rm(path.join(root, commit), { recursive: true, force: true });
    removed.push(commit);
  }
  if ((await readdir(root).catch(() => ['x'])).length === 0) await rm(root, { recursive: true, force: true });
  return removed;
}

/** Every pristine there is, whether a cell uses it or not (for the clean-up of a repository). */
export async function listPristines(repo: string): Promise<string[]> {
  return (await readdir(await pristineRoot(repo)).catch(() => [] as string[])).filter(
    (e) => !e.includes(PARTIAL),
  );
}

// Read before every handover baseline (none there for a checkout): synchronously, a few bytes.
export const readCommitFile = async (file: string) => {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
};
