// The overlay method: a cell's worktree is an overlayfs mount at `.cells/<id>` whose lower layer is
// the pristine checkout of its commit (pristine.ts) and whose upper layer (`.cells/.overlay/<id>/
// upper`) holds everything the cell changes, its `.git` file included. `git worktree add
// --no-checkout --lock` registers the worktree (branch, HEAD, admin folder) without writing a file;
// the pristine's index, copied into the admin folder, is the cell's own index. Locked, so a `git
// worktree prune` (run by any other cell's step) never drops a worktree whose mount is not there
// (after a host restart) — its work is still in the upper layer.
//
// Each part is checked before it is done, so a step killed anywhere converges on its next run:
// state folder → worktree registered → `.git` file moved into the upper layer → mounted → index.
import { copyFile, mkdir, readdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { git } from '../activities/git.js';
import { ensurePristine, prunePristines, readCommitFile } from './pristine.js';

const OVERLAY_DIR = '.overlay';

export interface OverlayState {
  dir: string;
  upper: string;
  work: string;
  commitFile: string;
}

export const overlayState = (worktreePath: string): OverlayState => {
  const dir = path.join(path.dirname(worktreePath), OVERLAY_DIR, path.basename(worktreePath));
  return {
    dir,
    upper: path.join(dir, 'upper'),
    work: path.join(dir, 'work'),
    commitFile: path.join(dir, 'commit'),
  };
};

const exists = (file: string) =>
  stat(file).then(
    () => true,
    () => false,
  );

/** Mount points as /proc shows them (spaces and the like octal-escaped there). */
async function mountPoints(): Promise<Set<string>> {
  const info = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  return new Set(
    info
      .split('\n')
      .map((line) => line.split(' ')[4])
      .filter((p): p is string => Boolean(p))
      .map((p) => p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)))),
  );
}

export const isMounted = async (point: string) => (await mountPoints()).has(point);

/** overlayfs options are a comma- and colon-separated string: a path holding those cannot be said. */
const UNSAYABLE = /[,:\\\s]/;

const mountOptions = (lower: string, state: OverlayState) =>
  `lowerdir=${lower},upperdir=${state.upper},workdir=${state.work}`;

async function mount(lower: string, state: OverlayState, point: string): Promise<void> {
  // argv, never a shell: the paths are the repository's.
  await execa('mount', ['-t', 'overlay', 'overlay', '-o', mountOptions(lower, state), point]);
}

async function unmount(point: string): Promise<void> {
  if (!(await isMounted(point))) return;
  const plain = await execa('umount', [point], { reject: false });
  // Still busy (a process the cell's clean-up could not end holds a file): detach it now; the
  // kernel frees it when the last holder lets go.
  if (plain.exitCode !== 0) await execa('umount', ['-l', point]);
}

const probes = new Map<string, Promise<string | null>>();

/**
 * Whether overlay mounts can be made in `cellsDir` (root, or CAP_SYS_ADMIN; overlayfs in the
 * kernel; an upper layer on a file system overlayfs takes): null when they can, else why not.
 * Tried once per folder and process, with a real mount (about 10 ms).
 */
export function overlayUnavailable(cellsDir: string): Promise<string | null> {
  let probe = probes.get(cellsDir);
  if (!probe) {
    probe = (async () => {
      if (process.platform !== 'linux') return 'overlay mounts are Linux only';
      if (process.env.HIVE_WORKTREE_METHOD === 'plain') return 'HIVE_WORKTREE_METHOD=plain';
      if (UNSAYABLE.test(cellsDir)) return `the path ${cellsDir} holds a comma, colon, backslash or space`;
      const dir = path.join(cellsDir, OVERLAY_DIR, `.probe-${process.pid}`);
      const [lower, point] = [path.join(dir, 'lower'), path.join(dir, 'mount')];
      const state = { dir, upper: path.join(dir, 'upper'), work: path.join(dir, 'work'), commitFile: '' };
      try {
        await Promise.all([lower, point, state.upper, state.work].map((d) => mkdir(d, { recursive: true })));
        await mount(lower, state, point);
        await unmount(point);
        return null;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        return `overlay mount refused: ${message.split('\n').pop()?.slice(0, 200)}`;
      } finally {
        await rm(dir, { recursive: true, force: true }).catch(() => undefined);
        await rmdir(path.dirname(dir)).catch(() => undefined);
      }
    })();
    probes.set(cellsDir, probe);
  }
  return probe;
}

/** The admin folder of a worktree, from its `.git` file (`gitdir: …`). */
async function adminDir(gitFile: string): Promise<string> {
  const text = await readFile(gitFile, 'utf8');
  return text.replace(/^gitdir:\s*/, '').trim();
}

/** Copies the pristine's index in as the worktree's own, whole or not at all. */
async function installIndex(pristineIndex: string, admin: string): Promise<void> {
  const target = path.join(admin, 'index');
  if (await exists(target)) return; // the cell's own by now: never replaced
  const partial = `${target}.hive-partial`;
  await copyFile(pristineIndex, partial);
  await rename(partial, target);
}

/**
 * Makes (or finishes making) the cell's overlay worktree at `worktreePath` on `commit`; `addArgs`
 * are `git worktree add`'s arguments after the path's options (the branch, new or existing).
 */
export async function addOverlayWorktree(
  repo: string,
  worktreePath: string,
  commit: string,
  addArgs: { branch: string; create: boolean },
): Promise<void> {
  const state = overlayState(worktreePath);
  await unmount(worktreePath);
  await rm(state.dir, { recursive: true, force: true });
  await Promise.all([mkdir(state.upper, { recursive: true }), mkdir(state.work, { recursive: true })]);
  await writeFile(state.commitFile, `${commit}\n`);
  await rm(worktreePath, { recursive: true, force: true });
  const args = addArgs.create
    ? ['worktree', 'add', '--no-checkout', '--lock', '-b', addArgs.branch, worktreePath, commit]
    : ['worktree', 'add', '--no-checkout', '--lock', worktreePath, addArgs.branch];
  await git(repo, args);
  await convergeOverlay(repo, worktreePath);
}

/**
 * Finishes an overlay worktree whose state folder exists: the `.git` file moved into the upper
 * layer, the mount, the index. Does nothing to what is already done (a live cell is left as it is).
 * False when the worktree is not an overlay one.
 */
export async function convergeOverlay(repo: string, worktreePath: string): Promise<boolean> {
  const state = overlayState(worktreePath);
  const commit = await readCommitFile(state.commitFile);
  if (!commit) return false;
  const upperGit = path.join(state.upper, '.git');
  const placed = path.join(worktreePath, '.git');
  if (!(await isMounted(worktreePath)) && !(await exists(placed)) && !(await exists(upperGit))) return false;
  // git no longer knows it (pruned while unmounted and unlocked, half-way through its removal):
  // nothing to mount for; the removal finishes.
  if (!(await exists(await adminDir((await exists(placed)) ? placed : upperGit)))) return false;
  const pristine = await ensurePristine(repo, commit);
  if (!(await isMounted(worktreePath))) {
    if (!(await exists(upperGit)) && (await exists(placed))) await rename(placed, upperGit);
    await mkdir(worktreePath, { recursive: true });
    await rm(state.work, { recursive: true, force: true });
    await mkdir(state.work, { recursive: true });
    await mount(pristine.tree, state, worktreePath);
  }
  await installIndex(pristine.index, await adminDir(path.join(worktreePath, '.git')));
  return true;
}

/** The cells of `cellsDir` with an overlay state folder, and the commits they use. */
async function commitsInUse(cellsDir: string): Promise<Set<string>> {
  const root = path.join(cellsDir, OVERLAY_DIR);
  const cells = (await readdir(root).catch(() => [] as string[])).filter((e) => !e.startsWith('.'));
  const commits = await Promise.all(cells.map((c) => readCommitFile(path.join(root, c, 'commit'))));
  return new Set(commits.filter((c): c is string => Boolean(c)));
}

/**
 * Undoes an overlay worktree after its work was saved: unlocked (so prune may drop its admin
 * folder), unmounted, its mount point and upper layer removed; then pristines no cell uses (but the
 * last one used) are removed. False when the worktree is not an overlay one.
 */
export async function releaseOverlay(repo: string, worktreePath: string): Promise<boolean> {
  const state = overlayState(worktreePath);
  if (!(await exists(state.dir))) return false;
  await git(repo, ['worktree', 'unlock', worktreePath]).catch(() => undefined);
  await unmount(worktreePath);
  await rm(worktreePath, { recursive: true, force: true });
  await rm(state.dir, { recursive: true, force: true });
  // The folder of overlay states goes with its last cell (fails, harmlessly, while others remain).
  await rmdir(path.dirname(state.dir)).catch(() => undefined);
  await prunePristines(repo, await commitsInUse(path.dirname(worktreePath)));
  return true;
}
