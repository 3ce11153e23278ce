import { appendFile, lstat, mkdir, readFile, readlink, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { simpleGit } from 'simple-git';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencyCacheDir, pruneDependencyCache } from '../src/cache/dependencies.js';
import type { CellDetail } from '../src/cells/schema.js';
import { environmentOutcome, requestCell } from './support/cells.js';
import { createHarness, type Harness, waitForStatus } from './support/harness.js';
import { expectZeroResidue } from './support/residue.js';

// The dependency cache on real parts: a small real project (test/fixtures/deps) installed with
// `npm ci` from the npm registry by the first cell, copied into every later one.
const fixture = path.join(import.meta.dirname, 'fixtures', 'deps');
const npmCi = 'npm ci --no-audit --no-fund';
const templates = {
  deps: {
    label: 'Node project',
    dependencies: [{ key: ['package-lock.json'], paths: ['node_modules'], install: npmCi }],
    // The copy behaves like a fresh install: the package loads, its binary runs (exec bit, symlink).
    setup: ['node -e "require(\'semver\')" && ./node_modules/.bin/semver 1.2.3 > .hive/semver.out'],
  },
  brokenInstall: {
    label: 'Install fails',
    dependencies: [{ key: ['package.json'], paths: ['node_modules'], install: 'node -e "process.exit(3)"' }],
  },
};

let h: Harness;
beforeAll(async () => {
  h = await createHarness('deps', {
    'hive.config.json': JSON.stringify({ templates }, null, 2),
    '.gitignore': 'node_modules/\n',
    'package.json': await readFile(path.join(fixture, 'package.json'), 'utf8'),
    'package-lock.json': await readFile(path.join(fixture, 'package-lock.json'), 'utf8'),
  });
});
afterAll(() => h?.close());

const cellFrom = (template: string, onFailure?: 'preserve' | 'rollback') =>
  requestCell(h, template, { brief: 'dependencies', onFailure });

const outcomes = (cell: CellDetail) => environmentOutcome(cell).dependencies ?? [];

const caches = async () =>
  (await h.app.inject({ method: 'GET', url: '/workspaces/demo/caches' })).json() as {
    path: string;
    dependencies: Array<{ key: string; sizeBytes: number; createdBy: string }>;
  };

describe('dependency cache', () => {
  let first: CellDetail;
  let second: CellDetail;

  it('the first cell installs from the registry and fills the cache; the next one copies it', async () => {
    first = await waitForStatus(h, await cellFrom('deps'), ['ready'], 150_000);
    expect(outcomes(first)).toEqual([
      expect.objectContaining({ source: 'installed', paths: ['node_modules'] }),
    ]);
    const listed = await caches();
    expect(listed.path).toBe(dependencyCacheDir(h.workspace.path));
    expect(listed.dependencies).toEqual([
      expect.objectContaining({ key: outcomes(first)[0]?.key, createdBy: first.id }),
    ]);
    expect(listed.dependencies[0]?.sizeBytes).toBeGreaterThan(10_000);

    second = await waitForStatus(h, await cellFrom('deps'), ['ready'], 150_000);
    expect(outcomes(second)).toEqual([
      expect.objectContaining({ source: 'cache', key: outcomes(first)[0]?.key }),
    ]);
    // The copy works like a fresh install: setup ran the package's binary through its .bin symlink.
    const wt = second.worktreePath ?? '';
    expect((await readFile(path.join(wt, '.hive/semver.out'), 'utf8')).trim()).toBe('1.2.3');
    const bin = path.join(wt, 'node_modules/.bin/semver');
    expect((await lstat(bin)).isSymbolicLink()).toBe(true);
    expect(await readlink(bin)).toBe('../semver/bin/semver.js');
    expect((await stat(bin)).mode & 0o111).not.toBe(0);
    const { stdout } = await execa(bin, ['--increment', 'minor', '1.2.3'], { cwd: wt });
    expect(stdout.trim()).toBe('1.3.0');
  });

  it("a cell writing into its copy changes neither the cache nor another cell's copy", async () => {
    const file = 'node_modules/semver/package.json';
    const key = outcomes(first)[0]?.key ?? '';
    const cached = path.join(dependencyCacheDir(h.workspace.path), key, 'files', file);
    const before = await readFile(cached, 'utf8');
    const mine = path.join(second.worktreePath ?? '', file);
    // Separate files, not hard links to one inode.
    expect((await stat(mine)).ino).not.toBe((await stat(cached)).ino);
    expect((await stat(mine)).nlink).toBe(1);
    await appendFile(mine, '\n/* written by the agent of the second cell */\n');
    await writeFile(path.join(second.worktreePath ?? '', 'node_modules/is-number/index.js'), 'broken(');
    expect(await readFile(cached, 'utf8')).toBe(before);
    expect(await readFile(path.join(first.worktreePath ?? '', file), 'utf8')).toBe(before);
    // A third cell still gets a clean copy.
    const third = await waitForStatus(h, await cellFrom('deps'), ['ready'], 150_000);
    expect(outcomes(third)[0]?.source).toBe('cache');
    expect(await readFile(path.join(third.worktreePath ?? '', file), 'utf8')).toBe(before);
    await execa('node', ['-e', "require('is-number')"], { cwd: third.worktreePath ?? '' });
  });

  it('a changed key file makes a new entry (installed again); a stale staging copy is ignored', async () => {
    // What a worker killed in the middle of filling the cache leaves: a staging folder, half done.
    const staging = path.join(dependencyCacheDir(h.workspace.path), '.staging-cdead0000000-0000');
    await mkdir(path.join(staging, 'files/node_modules/semver'), { recursive: true });
    const lock = path.join(h.workspace.path, 'package-lock.json');
    await writeFile(lock, `${await readFile(lock, 'utf8')}\n`);
    await simpleGit(h.workspace.path).add('package-lock.json').commit('touch the lockfile');
    const cell = await waitForStatus(h, await cellFrom('deps'), ['ready'], 150_000);
    expect(outcomes(cell)[0]?.source).toBe('installed');
    expect(outcomes(cell)[0]?.key).not.toBe(outcomes(first)[0]?.key);
    expect((await caches()).dependencies.map((d) => d.key).sort()).toEqual(
      [outcomes(first)[0]?.key, outcomes(cell)[0]?.key].sort(),
    );
  });

  it('pruning by size keeps the most recently used entry and removes staging leftovers', async () => {
    const entries = (await caches()).dependencies;
    expect(entries.length).toBe(2);
    const newest = entries[0];
    const removed = await pruneDependencyCache(h.workspace.path, {
      maxAgeMs: Number.MAX_SAFE_INTEGER,
      maxBytes: newest?.sizeBytes ?? 0,
    });
    expect(removed).toEqual([entries[1]?.key]);
    expect((await caches()).dependencies.map((d) => d.key)).toEqual([newest?.key]);
    const drop = await h.app.inject({
      method: 'DELETE',
      url: `/workspaces/demo/caches/dependencies/${newest?.key}`,
    });
    expect(drop.statusCode).toBe(204);
    expect((await caches()).dependencies).toEqual([]);
    const again = await h.app.inject({
      method: 'DELETE',
      url: `/workspaces/demo/caches/dependencies/${newest?.key}`,
    });
    expect(again.statusCode).toBe(404);
  });

  it('a failed install names its step, adds nothing to the cache and rolls back to zero residue', async () => {
    const id = await cellFrom('brokenInstall', 'rollback');
    const cell = await waitForStatus(h, id, ['rolled_back']);
    expect(cell.failure).toMatchObject({ step: 'environment', type: 'DependencyInstallFailed' });
    expect(cell.failure?.message).toMatch(/exited with code 3/);
    expect(cell.failure?.hint).toMatch(/Nothing was added to the cache/);
    expect((await caches()).dependencies).toEqual([]);
    await expectZeroResidue(h.db, h.workspace.path, id);
  });
});
