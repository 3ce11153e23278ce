import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { type CacheEntryMeta, dependencyCacheDir } from '../cache/dependencies.js';
import type { CellPlan, DependencyOutcome } from '../cells/plan.js';
import type { DependencySpec } from '../templates/schema.js';
import { keepBeating } from './steps.js';

// The dependency cache (spec: "isolated node_modules, dependencies"): the first cell with a given
// key installs, and its result is kept per workspace; every later cell gets its own full copy.
//
// Why a copy, and this one: the cache must be impossible for a cell to corrupt. Hard links share
// inodes (a cell writing into a file in place would change the cache and every other cell), so
// they are out. `cp -a --reflink=auto` clones blocks where the file system can (btrfs, XFS: near
// free) and copies bytes elsewhere (ext4 here), preserving modes, symlinks and times; GNU cp is
// several times faster than a recursive copy in Node. The cache lives in the workspace's `.cells/`
// so it shares the worktrees' file system, which reflinks need.

/**
 * The key of a dependency set in a worktree: its install command, its paths, the contents of its
 * key files, and the platform (native modules differ by OS, architecture and Node major version).
 */
export async function dependencyKey(worktreePath: string, set: DependencySpec): Promise<string> {
  const hash = createHash('sha256');
  hash.update(
    JSON.stringify([
      set.install,
      set.paths,
      process.platform,
      process.arch,
      process.versions.node.split('.')[0],
    ]),
  );
  for (const file of set.key) {
    hash.update(`\0${file}\0`);
    hash.update(await readFile(path.join(worktreePath, file)).catch(() => Buffer.from('(missing)')));
  }
  return hash.digest('hex').slice(0, 24);
}

/** A full copy of `from` to `to` (replacing `to`), modes, symlinks and times kept; reflinks where possible. */
async function copyTree(from: string, to: string): Promise<void> {
  // A big tree (this repository's node_modules: 500 MB) takes longer than the heartbeat timeout on a
  // busy host: without heartbeats Temporal would start another attempt whose `rm` races this `cp`.
  await keepBeating(async () => {
    await rm(to, { recursive: true, force: true });
    await mkdir(path.dirname(to), { recursive: true });
    await execa('cp', ['-a', '--reflink=auto', '--', from, to]);
  });
}

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

async function treeSize(dir: string): Promise<number> {
  const result = await execa('du', ['-sb', '--', dir], { reject: false });
  return Number(result.stdout.split(/\s/)[0]) || 0;
}

export interface ProvideOptions {
  plan: CellPlan;
  /** Runs the install command in the worktree (with the cell's environment, logged, cancellable). */
  install: (command: string) => Promise<void>;
  /** Progress in words, for the step's current operation. */
  report: (operation: string) => Promise<void>;
}

/**
 * Puts each dependency set's paths into the worktree: copied from the cache when its key is there,
 * else installed in the worktree and then offered to the cache. Idempotent: a set whose marker in
 * `.hive/` already holds its key is left as it is.
 */
export async function provideDependencies({
  plan,
  install,
  report,
}: ProvideOptions): Promise<DependencyOutcome[]> {
  const outcomes: DependencyOutcome[] = [];
  const cache = dependencyCacheDir(plan.workspacePath);
  for (const [i, set] of (plan.dependencies ?? []).entries()) {
    const started = Date.now();
    const key = await dependencyKey(plan.worktreePath, set);
    const marker = path.join(plan.worktreePath, '.hive', `dependencies-${i}.key`);
    const entry = path.join(cache, key);
    const what = set.paths.join(', ');
    if ((await readFile(marker, 'utf8').catch(() => '')) === key) {
      outcomes.push({ paths: set.paths, key, source: 'cache', ms: Date.now() - started });
      continue;
    }
    let source: DependencyOutcome['source'] = 'cache';
    if (await exists(path.join(entry, 'meta.json'))) {
      await report(
        `dependencies ${i + 1}/${plan.dependencies?.length}: copying ${what} from the cache (${key})`,
      );
      for (const p of set.paths) {
        const cached = path.join(entry, 'files', p);
        if (await exists(cached)) await copyTree(cached, path.join(plan.worktreePath, p));
      }
      // The entry's modification time is its last use, for pruning.
      const now = new Date();
      await utimes(entry, now, now).catch(() => undefined);
    } else {
      source = 'installed';
      await report(
        `dependencies ${i + 1}/${plan.dependencies?.length}: ${set.install} (no cache for ${key} yet)`,
      );
      await install(set.install);
      await report(
        `dependencies ${i + 1}/${plan.dependencies?.length}: keeping ${what} in the cache (${key})`,
      );
      await fillCache(cache, key, set, plan);
    }
    await writeFile(marker, key);
    outcomes.push({ paths: set.paths, key, source, ms: Date.now() - started });
  }
  return outcomes;
}

/**
 * Copies what an install produced into a staging folder, then renames it into place: an entry
 * exists whole or not at all (a worker killed mid-copy leaves only a staging folder, which pruning
 * removes). When two cells race, the first rename wins and the other drops its copy.
 */
async function fillCache(cache: string, key: string, set: DependencySpec, plan: CellPlan): Promise<void> {
  const staging = path.join(cache, `.staging-${plan.cellId}-${randomBytes(4).toString('hex')}`);
  try {
    for (const p of set.paths) {
      const produced = path.join(plan.worktreePath, p);
      if (await exists(produced)) await copyTree(produced, path.join(staging, 'files', p));
    }
    const meta: CacheEntryMeta = {
      key,
      paths: set.paths,
      install: set.install,
      keyFiles: set.key,
      sizeBytes: await treeSize(path.join(staging, 'files')),
      createdAt: new Date().toISOString(),
      createdBy: plan.cellId,
    };
    await mkdir(path.join(staging, 'files'), { recursive: true });
    await writeFile(path.join(staging, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
    await rename(staging, path.join(cache, key)).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
