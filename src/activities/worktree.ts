import { lstatSync, mkdirSync, realpathSync } from 'node:fs';
import { appendFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ErrorType, Step } from '../cells/catalog.js';
import { recordEvent } from '../cells/events.js';
import type { CellPlan } from '../cells/plan.js';
import { endCellCgroup } from '../cgroups/cell.js';
import type { Db } from '../db/client.js';
import { table } from '../db/rawSql.js';
import {
  addCellWorktree,
  addNewCellWorktree,
  adoptCellWorktree,
  mountCellWorktree,
  releaseCellWorktree,
  type WorktreeMethod,
} from '../worktree/methods.js';
import { restoreWork, saveWork } from './archive.js';
import { permanent, transient } from './failures.js';
import { git, gitCommonDir, gitSays } from './git.js';
import { copyIncludedFiles } from './includes.js';
import { endAllUnder } from './spawnNotes.js';
import { keepBeating, type StepRecorder, warn } from './steps.js';
import { HANDOVER_MARKER, recordBaseline } from './workBaseline.js';

export interface WorktreeDeps {
  db: Db;
  steps: StepRecorder;
}

/** Metadata folder inside each worktree: env file, logs, prompt, cell.json. */
export const CELL_META_DIR = '.hive';

/** A path inside a cell's metadata folder. */
export const metaPath = (plan: CellPlan, ...parts: string[]) =>
  path.join(plan.worktreePath, CELL_META_DIR, ...parts);

interface WorktreeEntry {
  path: string;
  branch?: string;
}

async function listWorktrees(repo: string): Promise<WorktreeEntry[]> {
  const out = await git(repo, ['worktree', 'list', '--porcelain']);
  return out
    .split('\n\n')
    .filter(Boolean)
    .map((block) => {
      const lines = block.split('\n');
      const wt = lines.find((l) => l.startsWith('worktree '))?.slice('worktree '.length) ?? '';
      const branch = lines.find((l) => l.startsWith('branch '))?.slice('branch refs/heads/'.length);
      return { path: wt, branch };
    });
}

const branchExists = (repo: string, branch: string) =>
  gitSays(repo, ['show-ref', '--verify', '--quiet', `refs/heads/${branch}`]);

/** Git operations fail transiently on a held lock (another git process); those retry. */
function classifyGitError(error: unknown, what: string): never {
  const message = error instanceof Error ? error.message : String(error);
  // Another git process (another worker, a person) changing worktrees at the same moment: a lock, or
  // a worktree's admin folder caught half-written.
  if (/\.lock|could not lock|Unable to create .*lock|failed to read .*\/worktrees\//i.test(message)) {
    throw transient(ErrorType.GitLocked, `${what}: ${message}`, {
      hint: 'Another git process was changing the repository at the same time; retrying.',
    });
  }
  throw permanent(ErrorType.GitFailed, `${what}: ${message}`, {
    hint: 'Check the workspace repository with git status.',
  });
}

/** Keeps `.cells/` and `.hive/` out of `git status` of the workspace and of every worktree. */
async function ensureExcluded(workspacePath: string) {
  const exclude = path.join(await gitCommonDir(workspacePath), 'info', 'exclude');
  await mkdir(path.dirname(exclude), { recursive: true });
  const current = await readFile(exclude, 'utf8').catch(() => '');
  const wanted = ['/.cells/', `/${CELL_META_DIR}/`].filter((line) => !current.split('\n').includes(line));
  if (wanted.length > 0) {
    await appendFile(exclude, `${current.endsWith('\n') || !current ? '' : '\n'}${wanted.join('\n')}\n`);
  }
}

/**
 * Runs worktree administration (add, remove, prune) of one repository one at a time in this worker.
 * `git worktree add` reads the admin folder of every other worktree, and `prune` drops entries whose
 * folder is not there yet: run side by side, either breaks an add in progress ("failed to read
 * .git/worktrees/<id>/commondir"), which cells provisioned at once used to hit.
 */
function repositoryQueue() {
  const tails = new Map<string, Promise<unknown>>();
  return <T>(repo: string, fn: () => Promise<T>): Promise<T> => {
    const run = (tails.get(repo) ?? Promise.resolve()).then(fn, fn);
    tails.set(
      repo,
      run.catch(() => undefined),
    );
    return run;
  };
}

/**
 * `.cells/` must be a real folder of the repository: were it a link (made by anyone who can write
 * the repository, an agent included), worktrees — and their removal — would land wherever it leads.
 * Synchronous on purpose: a few metadata syscalls (µs each) on the way to `git worktree add`, where
 * each thread-pool round trip would wait for the event loop behind the step running beside it.
 */
function requireCellsInside(repo: string, cells: string, { create = false } = {}): void {
  if (create && !lstatSync(cells, { throwIfNoEntry: false })) mkdirSync(cells, { recursive: true });
  const info = lstatSync(cells, { throwIfNoEntry: false });
  if (!info) return; // nothing there: nothing to make or remove through it
  const realOr = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return p;
    }
  };
  const real = realOr(cells);
  const repoReal = realpathSync(repo);
  if (!info.isSymbolicLink() && info.isDirectory() && real === path.join(repoReal, path.basename(cells)))
    return;
  throw permanent(
    ErrorType.PathOutside,
    `${cells} is ${info.isSymbolicLink() ? `a symbolic link to ${real}` : `not a folder of the repository (${real})`}: cells are made and removed only inside the repository`,
    {
      hint: `Remove it (rm ${cells}) and make it a plain folder again; Hive makes it itself on the next cell.`,
    },
  );
}

export function createWorktreeActivities({ db, steps }: WorktreeDeps) {
  const oneAtATime = repositoryQueue();
  return {
    /**
     * Step 2: `git worktree add` on a new branch from the base commit. Idempotent: a worktree already
     * on the cell's branch is adopted; a leftover folder that git does not know is replaced.
     */
    async createWorktree(plan: CellPlan): Promise<{
      worktreePath: string;
      branch: string;
      copied: string[];
      method: WorktreeMethod;
      fallback?: string;
    }> {
      return steps.withStep(
        { cellId: plan.cellId, name: Step.worktree },
        async () => {
          const repo = plan.workspacePath;
          let made: Awaited<ReturnType<typeof addCellWorktree>>;
          // Beside the checkout, not before it: both are file work, and the step waits for both. A
          // failure fails the step, whose next attempt adopts the worktree and excludes again.
          const excluded = ensureExcluded(repo);
          excluded.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
          try {
            // Nothing at the path: no worktree to adopt there (one registered without its folder is
            // what `worktree prune` clears below). Asking git costs a process; a new cell skips it.
            const atPath = lstatSync(plan.worktreePath, { throwIfNoEntry: false });
            const existing = atPath
              ? (await listWorktrees(repo)).find((w) => w.path === plan.worktreePath)
              : undefined;
            if (existing && existing.branch !== plan.branch) {
              throw permanent(
                ErrorType.WorktreeConflict,
                `${plan.worktreePath} is a worktree of branch ${existing.branch ?? '(detached)'}`,
                { hint: `Remove it with git worktree remove ${plan.worktreePath}.` },
              );
            }
            if (existing) {
              // Run again after a kill: an overlay worktree is finished (mount, index), a checkout adopted.
              made = await oneAtATime(repo, () => adoptCellWorktree(repo, plan.worktreePath));
            } else {
              made = await oneAtATime(plan.workspacePath, async () => {
                // A new cell (no folder, no restore): its branch is new too, so one `git worktree add
                // -b` is the whole of it. Anything in the way (a branch left by a killed run, a stale
                // registration) makes git refuse, and the careful way below handles it.
                if (!atPath && !plan.restore) {
                  requireCellsInside(repo, path.dirname(plan.worktreePath), { create: true });
                  const quick = await addNewCellWorktree(
                    repo,
                    plan.worktreePath,
                    plan.branch,
                    plan.baseCommit,
                  );
                  if (quick) return quick;
                }
                await git(repo, ['worktree', 'prune']);
                requireCellsInside(repo, path.dirname(plan.worktreePath), { create: true });
                await rm(plan.worktreePath, { recursive: true, force: true });
                // The fastest method the host allows (src/worktree/methods.ts), named in the record.
                return addCellWorktree(repo, plan.worktreePath, plan.branch, plan.baseCommit);
              });
              // A restored cell: its worktree as the archive kept it.
              await restoreWork(plan);
            }
            await excluded;
          } catch (error) {
            if (error instanceof Error && 'type' in error) throw error;
            classifyGitError(error, 'git worktree add');
          }
          const { copied } = await copyIncludedFiles(plan);
          await mkdir(metaPath(plan, 'logs'), { recursive: true });
          await writeFile(
            metaPath(plan, 'cell.json'),
            `${JSON.stringify(
              {
                cellId: plan.cellId,
                workspace: plan.workspaceId,
                template: plan.templateId,
                branch: plan.branch,
                baseRef: plan.baseRef,
                baseCommit: plan.baseCommit,
                host: plan.host,
                ...HANDOVER_MARKER,
              },
              null,
              2,
            )}\n`,
          );
          // Raw SQL (src/db/rawSql.ts): on the path to the next step.
          await db.$executeRaw`UPDATE ${table(db, 'Cell')} SET "worktreePath" = ${plan.worktreePath},
            "branch" = ${plan.branch}, "host" = ${plan.host}, "updatedAt" = ${new Date()} WHERE "id" = ${plan.cellId}`;
          return { worktreePath: plan.worktreePath, branch: plan.branch, copied, ...made };
        },
        (r) => ({
          worktreePath: r.worktreePath,
          branch: r.branch,
          copied: r.copied.length,
          method: r.method,
          ...(r.fallback ? { fallback: r.fallback } : {}),
        }),
      );
    },

    /**
     * When the cell is handed to a person (ready, or failed and preserved): what is in the worktree
     * is the template's doing, and archive keeps only what comes after; on retry: what the person
     * changed meanwhile stays theirs.
     */
    async recordWorktreeBaseline(
      plan: CellPlan,
      moment: 'handover' | 'retry' = 'handover',
    ): Promise<{ entries: number; personal: number }> {
      return recordBaseline(plan, moment);
    },

    /**
     * Compensation of step 2 (and the end of archive): first save the work in the worktree to
     * refs/hive/archive/<cell-id> (unless `discard`), then remove the worktree (forced), prune, and
     * delete the branch unless it holds commits beyond its base. Safe to run repeatedly.
     */
    async removeWorktree(
      plan: CellPlan,
      options: { discard?: boolean } = {},
    ): Promise<{ removed: boolean; branchKept: boolean; commits: number; savedTo: string | null }> {
      return steps.withStep({ cellId: plan.cellId, name: Step.worktree, kind: 'compensation' }, () =>
        // Saving and removing a big worktree (node_modules and all) outlasts a heartbeat timeout.
        keepBeating(async () => {
          // Nothing the cell spawned outlives its worktree, recorded or not (see spawnNotes.ts); ended
          // first, so nothing writes to the worktree while its work is saved.
          // Its cgroup holds every process it ever started (a setsid daemon with a cleared environment
          // too): all ended, and the cgroup removed (src/cgroups). Then what /proc still ties to it.
          const ended = (await endCellCgroup(plan.cellId)) + (await endAllUnder(metaPath(plan)));
          if (ended > 0) warn('ended processes of the cell left running', { cellId: plan.cellId, ended });
          const repo = plan.workspacePath;
          // An overlay worktree unmounted by a host restart: mounted again, so its work is saved.
          await oneAtATime(repo, () => mountCellWorktree(repo, plan.worktreePath));
          const archive = await saveWork(plan, options);
          if (archive) {
            await db.cell.update({ where: { id: plan.cellId }, data: { archive: JSON.stringify(archive) } });
            if (archive.ref || archive.discarded) await recordEvent(db, plan.cellId, 'archive', archive);
          }
          await oneAtATime(plan.workspacePath, async () => {
            // An overlay worktree: unlocked, unmounted, its layers removed (no file deleted one by one).
            await releaseCellWorktree(repo, plan.worktreePath);
            const registered = (await listWorktrees(repo)).some((w) => w.path === plan.worktreePath);
            if (registered) {
              await git(repo, ['worktree', 'remove', '--force', '--force', plan.worktreePath]).catch(
                () => undefined,
              );
            }
            requireCellsInside(repo, path.dirname(plan.worktreePath));
            await rm(plan.worktreePath, { recursive: true, force: true });
            await git(repo, ['worktree', 'prune']);
          });
          let commits = 0;
          if (await branchExists(repo, plan.branch)) {
            commits = Number(
              (await git(repo, ['rev-list', '--count', `${plan.baseCommit}..${plan.branch}`])).trim(),
            );
            if (commits === 0) await git(repo, ['branch', '-D', plan.branch]);
          }
          const gone = !(await stat(plan.worktreePath).catch(() => undefined));
          return { removed: gone, branchKept: commits > 0, commits, savedTo: archive?.ref ?? null };
        }),
      );
    },
  };
}
