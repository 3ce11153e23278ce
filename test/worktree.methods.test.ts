import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { simpleGit } from 'simple-git';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listWork } from '../src/activities/workBaseline.js';
import { addCellWorktree, adoptCellWorktree, releaseCellWorktree } from '../src/worktree/methods.js';
import { isMounted, overlayState, overlayUnavailable } from '../src/worktree/overlay.js';
import { pristineRoot } from '../src/worktree/pristine.js';
import { createGitRepo } from './support/gitRepo.js';
import { createHarness, type Harness, waitForStatus } from './support/harness.js';
import { expectZeroResidue } from './support/residue.js';

// Every way of making a cell's worktree (src/worktree/methods.ts) gives a real git worktree: clean
// status, commits work, archive saves the work and leaves nothing behind, and a step run again
// after a kill at any point converges. Real git, real overlay mounts (the tests run as root).
const files = {
  'hive.config.json': JSON.stringify({ templates: { tree: { label: 'Worktree only' } } }),
  '.gitignore': 'node_modules/\n',
  ...Object.fromEntries(
    Array.from({ length: 30 }, (_, i) => [`pkg/src/mod${i}.ts`, `export const v = ${i};\n`]),
  ),
};

const status = (dir: string) =>
  execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: dir, encoding: 'utf8' });
const commitIn = (dir: string, message: string) =>
  execFileSync('git', ['-c', 'user.email=a@b', '-c', 'user.name=a', 'commit', '-qam', message], { cwd: dir });
const exists = (file: string) =>
  stat(file).then(
    () => true,
    () => false,
  );

const overlayOk = (await overlayUnavailable('/tmp')) === null;

describe.skipIf(!overlayOk)('overlay worktrees, step by step', () => {
  let repo: string;
  let base: string;
  beforeAll(async () => {
    process.env.HIVE_OVERLAY_MIN_FILES = '0';
    repo = await createGitRepo(files);
    base = (await simpleGit(repo).revparse(['HEAD'])).trim();
    await mkdir(path.join(repo, '.cells'), { recursive: true });
    await writeFile(path.join(repo, '.git', 'info', 'exclude'), '/.cells/\n/.hive/\n');
  });
  afterAll(async () => {
    delete process.env.HIVE_OVERLAY_MIN_FILES;
    await rm(repo, { recursive: true, force: true });
  });

  it('makes a mounted worktree whose status is clean and whose commits land on its branch', async () => {
    const wt = path.join(repo, '.cells', 'c1');
    expect(await addCellWorktree(repo, wt, 'cell/c1', base)).toEqual({ method: 'overlay' });
    expect(await isMounted(wt)).toBe(true);
    expect(status(wt)).toBe('');
    expect(await readFile(path.join(wt, 'pkg/src/mod7.ts'), 'utf8')).toBe('export const v = 7;\n');
    await writeFile(path.join(wt, 'pkg/src/mod7.ts'), 'export const v = 70;\n');
    expect(status(wt)).toBe(' M pkg/src/mod7.ts\n');
    commitIn(wt, 'work');
    expect(status(wt)).toBe('');
    expect(
      execFileSync('git', ['log', '-1', '--format=%s', 'cell/c1'], { cwd: repo, encoding: 'utf8' }),
    ).toBe('work\n');
    // The pristine (lower layer) is never written through the cell.
    expect(await readFile(path.join(await pristineRoot(repo), base, 'tree/pkg/src/mod7.ts'), 'utf8')).toBe(
      'export const v = 7;\n',
    );
    // Run again: nothing changes, the person's commit stays.
    expect(await adoptCellWorktree(repo, wt)).toEqual({ method: 'overlay' });
    expect(status(wt)).toBe('');
    expect(await releaseCellWorktree(repo, wt)).toBe(true);
    execFileSync('git', ['worktree', 'prune'], { cwd: repo });
    expect(await isMounted(wt)).toBe(false);
    expect(await exists(wt)).toBe(false);
    expect(await exists(overlayState(wt).dir)).toBe(false);
    expect(execFileSync('git', ['worktree', 'list'], { cwd: repo, encoding: 'utf8' })).not.toContain(wt);
    // A second release converges.
    expect(await releaseCellWorktree(repo, wt)).toBe(false);
  });

  it('converges after a kill between registering and mounting, and between mounting and the index', async () => {
    const wt = path.join(repo, '.cells', 'c2');
    const state = overlayState(wt);
    // As a kill right after `git worktree add --no-checkout` leaves it: registered, `.git` in place,
    // nothing mounted, no index.
    await mkdir(state.upper, { recursive: true });
    await mkdir(state.work, { recursive: true });
    await writeFile(state.commitFile, `${base}\n`);
    execFileSync('git', ['worktree', 'add', '-q', '--no-checkout', '--lock', '-b', 'cell/c2', wt, base], {
      cwd: repo,
    });
    expect(await adoptCellWorktree(repo, wt)).toEqual({ method: 'overlay' });
    expect(await isMounted(wt)).toBe(true);
    expect(status(wt)).toBe('');
    // Killed after the mount, before the index was copied in.
    const admin = execFileSync('git', ['rev-parse', '--absolute-git-dir'], {
      cwd: wt,
      encoding: 'utf8',
    }).trim();
    await rm(path.join(admin, 'index'));
    await adoptCellWorktree(repo, wt);
    expect(status(wt)).toBe('');
    await releaseCellWorktree(repo, wt);
  });

  it('mounts again after a host restart, with the work of the upper layer, kept from prune', async () => {
    const wt = path.join(repo, '.cells', 'c3');
    await addCellWorktree(repo, wt, 'cell/c3', base);
    await writeFile(path.join(wt, 'notes.txt'), 'mine\n');
    execFileSync('umount', [wt]); // what a reboot does
    // Another cell's step prunes: the locked worktree stays registered.
    execFileSync('git', ['worktree', 'prune'], { cwd: repo });
    expect(execFileSync('git', ['worktree', 'list'], { cwd: repo, encoding: 'utf8' })).toContain(wt);
    await adoptCellWorktree(repo, wt);
    expect(status(wt)).toBe('?? notes.txt\n');
    await releaseCellWorktree(repo, wt);
  });

  it('lists the work of an overlay worktree from its upper layer exactly as a full walk does', async () => {
    const wt = path.join(repo, '.cells', 'c5');
    await addCellWorktree(repo, wt, 'cell/c5', base);
    expect(await listWork(wt)).toEqual([]);
    await writeFile(path.join(wt, 'pkg/src/mod1.ts'), 'changed\n'); // modified
    await rm(path.join(wt, 'pkg/src/mod2.ts')); // deleted: a whiteout
    await writeFile(path.join(wt, 'pkg/src/extra.ts'), 'new\n'); // untracked, in a lower folder
    await mkdir(path.join(wt, 'node_modules/dep'), { recursive: true }); // ignored, collapsed
    await writeFile(path.join(wt, 'node_modules/dep/index.js'), '1\n');
    commitIn(wt, 'first'); // HEAD moves past the pristine's commit: mod1 and mod2 are committed
    await writeFile(path.join(wt, 'pkg/src/mod4.ts'), 'after the commit\n');
    // A folder removed and made again: opaque, hiding what is below without whiteouts.
    await rm(path.join(wt, 'pkg/src'), { recursive: true });
    await mkdir(path.join(wt, 'pkg/src'));
    await writeFile(path.join(wt, 'pkg/src/only.ts'), 'alone\n');
    const full = async () => {
      const run = (...args: string[]) => execFileSync('git', args, { cwd: wt, encoding: 'utf8' });
      return [
        run('diff', '--name-only', '-z', '--no-renames', 'HEAD'),
        run('ls-files', '-z', '--others', '--exclude-standard'),
        run('ls-files', '-z', '--others', '--ignored', '--exclude-standard', '--directory'),
      ]
        .flatMap((out) => out.split('\0').filter((p) => p && !p.startsWith('.hive')))
        .sort();
    };
    const listed = (await listWork(wt)).map((e) => e.path).sort();
    expect(listed).toEqual(await full());
    expect(listed).toContain('pkg/src/mod9.ts'); // hidden by the opaque folder: deleted
    expect(listed).toContain('node_modules/');
    await releaseCellWorktree(repo, wt);
  });

  it('finishes a pristine whose build was killed, and keeps only the one used last', async () => {
    const cells = path.join(repo, '.cells');
    await mkdir(path.join(await pristineRoot(repo), `${'0'.repeat(40)}.partial-2147483646`, 'tree'), {
      recursive: true,
    });
    execFileSync(
      'git',
      ['-c', 'user.email=a@b', '-c', 'user.name=a', 'commit', '-q', '--allow-empty', '-m', 'next'],
      {
        cwd: repo,
      },
    );
    const next = (await simpleGit(repo).revparse(['HEAD'])).trim();
    const wt = path.join(cells, 'c4');
    await addCellWorktree(repo, wt, 'cell/c4', next);
    expect(status(wt)).toBe('');
    expect((await readdir(await pristineRoot(repo))).sort()).toEqual([base, next].sort());
    await releaseCellWorktree(repo, wt);
    // The older commit's pristine, used by no cell, is gone; the last one used stays, as a cache.
    expect(await readdir(await pristineRoot(repo))).toEqual([next]);
  });
});

describe.skipIf(!overlayOk)('an overlay cell through the API', () => {
  let h: Harness;
  beforeAll(async () => {
    process.env.HIVE_OVERLAY_MIN_FILES = '0';
    h = await createHarness('worktree-methods', files);
  });
  afterAll(async () => {
    delete process.env.HIVE_OVERLAY_MIN_FILES;
    await h?.close();
  });

  const create = async () => {
    const response = await h.app.inject({
      method: 'POST',
      url: '/cells',
      payload: { workspace: 'demo', template: 'tree', brief: 'overlay' },
    });
    expect(response.statusCode, response.body).toBe(202);
    return (response.json() as { id: string }).id;
  };

  it('records the method, archives the work, restores it, and leaves no mount, worktree or branch', async () => {
    const id = await create();
    const cell = await waitForStatus(h, id, ['ready']);
    const step = cell.steps.find((s) => s.name === 'worktree');
    expect(JSON.stringify(step)).toContain('"method":"overlay"');
    const wt = path.join(h.workspace.path, '.cells', id);
    expect(await isMounted(wt)).toBe(true);
    expect(status(wt)).toBe('');
    await writeFile(path.join(wt, 'pkg/src/mod3.ts'), 'changed\n');
    await writeFile(path.join(wt, 'new.txt'), 'new\n');
    expect((await h.app.inject({ method: 'DELETE', url: `/cells/${id}` })).statusCode).toBe(202);
    await waitForStatus(h, id, ['archived']);
    expect(await isMounted(wt)).toBe(false);
    expect(await exists(overlayState(wt).dir)).toBe(false);
    const saved = execFileSync('git', ['show', `refs/hive/archive/${id}:pkg/src/mod3.ts`], {
      cwd: h.workspace.path,
      encoding: 'utf8',
    });
    expect(saved).toBe('changed\n');

    expect((await h.app.inject({ method: 'POST', url: `/cells/${id}/restore` })).statusCode).toBe(202);
    await waitForStatus(h, id, ['ready']);
    expect(await isMounted(wt)).toBe(true);
    expect(await readFile(path.join(wt, 'new.txt'), 'utf8')).toBe('new\n');
    expect(status(wt).split('\n').filter(Boolean).sort()).toEqual([' M pkg/src/mod3.ts', '?? new.txt']);

    expect((await h.app.inject({ method: 'DELETE', url: `/cells/${id}?discard=true` })).statusCode).toBe(202);
    await waitForStatus(h, id, ['archived']);
    await expectZeroResidue(h.db, h.workspace.path, id);
    expect(await isMounted(wt)).toBe(false);
    expect(await exists(overlayState(wt).dir)).toBe(false);
  });
});
