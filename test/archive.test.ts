import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, lstat, mkdir, readFile, readlink, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { simpleGit } from 'simple-git';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArchiveRecord } from '../src/cells/schema.js';
import { commitWork } from './support/gitRepo.js';
import { createHarness, type Harness, waitForStatus } from './support/harness.js';
import { expectZeroResidue } from './support/residue.js';
import { webService, workspaceFiles } from './support/templates.js';

// Archive never refuses and never loses work: everything a person made in a worktree is saved to
// refs/hive/archive/<id> before it is removed, and restore brings it back byte for byte. What the
// template's own setup made is not a person's work.
const templates = {
  web: {
    label: 'Web',
    // Setup leaves an untracked marker and an ignored dependency folder: the template's, not work.
    setup: [
      'touch .setup-ran',
      'mkdir -p node_modules/dep && echo "module.exports = 1" > node_modules/dep/index.js',
    ],
    services: { web: webService },
  },
  broken: { label: 'Broken', setup: ['exit 4'], services: { web: webService } },
  // Fails until a person writes fix.txt in the worktree; then setup makes its own file too.
  fixable: {
    label: 'Fixable in place',
    setup: ['test -f fix.txt || exit 4', 'echo made > made-by-setup.txt'],
    services: { web: webService },
  },
};

const files = {
  ...workspaceFiles(templates),
  '.gitignore': '.env.local\nnode_modules/\n*.log\nbuild/\n',
  'src/app.js': 'console.log("v1");\n',
  'docs/old.md': '# to be deleted\n',
};

let h: Harness;
beforeAll(async () => {
  h = await createHarness('archive', files);
});
afterAll(() => h?.close());

const create = async (template = 'web') => {
  const response = await h.app.inject({
    method: 'POST',
    url: '/cells',
    payload: { workspace: 'demo', template, brief: 'keep my work' },
  });
  expect(response.statusCode, response.body).toBe(202);
  return response.json() as { id: string };
};
const archive = (id: string, query = '') => h.app.inject({ method: 'DELETE', url: `/cells/${id}${query}` });
const git = (dir: string) => simpleGit(dir);

/** Every file under a worktree (without .git and Hive's .hive folder), with a hash of its bytes and mode. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string) => {
    const { readdir } = await import('node:fs/promises');
    for (const entry of await readdir(path.join(dir, rel), { withFileTypes: true })) {
      const name = path.join(rel, entry.name);
      if (name === '.git' || name === '.hive') continue;
      const full = path.join(dir, name);
      if (entry.isSymbolicLink()) out[name] = `link:${await readlink(full)}`;
      else if (entry.isDirectory()) await walk(name);
      else {
        const mode = (await lstat(full)).mode & 0o777;
        out[name] = `${mode.toString(8)}:${createHash('sha256')
          .update(await readFile(full))
          .digest('hex')}`;
      }
    }
  };
  await walk('');
  return out;
}

describe('archive keeps everything', () => {
  it('every kind of work is saved (setup output is not), archive answers 202, restore gives back identical bytes', async () => {
    const { id } = await create();
    const ready = await waitForStatus(h, id, ['ready']);
    const wt = ready.worktreePath ?? '';

    // A commit on a detached HEAD (gone at the next gc if nothing kept it), then uncommitted work
    // of every kind on top of it.
    await git(wt).raw(['checkout', '-q', '--detach']);
    await writeFile(path.join(wt, 'src/app.js'), 'console.log("v2 committed detached");\n');
    await git(wt).add('src/app.js');
    await commitWork(wt, 'work on a detached HEAD');
    const detachedHead = (await git(wt).revparse(['HEAD'])).trim();
    await writeFile(path.join(wt, 'src/app.js'), 'console.log("v3 uncommitted");\n');
    await unlink(path.join(wt, 'docs/old.md'));
    await mkdir(path.join(wt, 'notes'), { recursive: true });
    await writeFile(path.join(wt, 'notes/plan.md'), '# untracked notes\n');
    await writeFile(path.join(wt, 'run.sh'), '#!/bin/sh\necho run\n');
    await chmod(path.join(wt, 'run.sh'), 0o755);
    await symlink('notes/plan.md', path.join(wt, 'plan-link'));
    await writeFile(path.join(wt, 'agent.log'), 'an ignored file the agent wrote\n');
    await mkdir(path.join(wt, 'build'), { recursive: true });
    await writeFile(path.join(wt, 'build/out.bin'), Buffer.from([0, 1, 2, 255]));
    const before = await snapshot(wt);

    const response = await archive(id);
    expect(response.statusCode, response.body).toBe(202);
    const archived = await waitForStatus(h, id, ['archived']);
    const record = archived.archive as ArchiveRecord;
    expect(record).toMatchObject({
      ref: `refs/hive/archive/${id}`,
      detached: true,
      headCommit: detachedHead,
      discarded: null,
    });
    expect(record.saved).toEqual({
      modified: ['src/app.js'],
      deleted: ['docs/old.md'],
      untracked: ['notes/plan.md', 'plan-link', 'run.sh'],
      ignored: ['agent.log', 'build/'],
    });
    // The worktree is gone; the saved commit holds the detached commit as its parent.
    await expect(lstat(wt)).rejects.toThrow();
    const ws = git(h.workspace.path);
    expect((await ws.raw(['rev-parse', `refs/hive/archive/${id}^`])).trim()).toBe(detachedHead);
    expect(await ws.raw(['show', `refs/hive/archive/${id}:src/app.js`])).toBe(
      'console.log("v3 uncommitted");\n',
    );
    const tree = await ws.raw(['ls-tree', '-r', '--name-only', `refs/hive/archive/${id}`]);
    expect(tree).not.toMatch(/\.setup-ran|node_modules|\.hive\//);
    const events = await h.db.cellEvent.findMany({ where: { cellId: id, type: 'archive' } });
    expect(events).toHaveLength(1);

    const restore = await h.app.inject({ method: 'POST', url: `/cells/${id}/restore` });
    expect(restore.statusCode, restore.body).toBe(202);
    const restored = await waitForStatus(h, id, ['ready']);
    expect(restored.worktreePath).toBe(wt);
    const after = await snapshot(wt);
    // Byte for byte (and mode for mode) what was there, plus what setup makes again.
    expect(after).toEqual(before);
    expect((await git(wt).revparse(['HEAD'])).trim()).toBe(detachedHead);
    expect((await git(wt).raw(['status', '--porcelain'])).split('\n').filter(Boolean).sort()).toEqual(
      [' D docs/old.md', ' M src/app.js', '?? .setup-ran', '?? notes/', '?? plan-link', '?? run.sh'].sort(),
    );
    expect(restored.services[0]?.status).toBe('ready');

    // Archived again with nothing new done: the restored work is still the person's and is kept.
    expect((await archive(id)).statusCode).toBe(202);
    const again = (await waitForStatus(h, id, ['archived'])).archive as ArchiveRecord;
    expect(again.saved).toEqual(record.saved);
  });

  it('discard drops the uncommitted work and says what it dropped; a branch with commits stays', async () => {
    const { id } = await create();
    const wt = (await waitForStatus(h, id, ['ready'])).worktreePath ?? '';
    await commitWork(wt, 'committed work');
    await writeFile(path.join(wt, 'scratch.txt'), 'throwaway\n');
    expect((await archive(id, '?discard=true')).statusCode).toBe(202);
    const record = (await waitForStatus(h, id, ['archived'])).archive as ArchiveRecord;
    expect(record).toMatchObject({ ref: null, commit: null, saved: null, commits: 1, detached: false });
    expect(record.discarded?.untracked).toEqual(['scratch.txt']);
    const ws = git(h.workspace.path);
    expect((await ws.raw(['for-each-ref', `refs/hive/archive/${id}`])).trim()).toBe('');
    expect((await ws.branchLocal()).all).toContain(`cell/${id}`);
    await ws.raw(['branch', '-D', `cell/${id}`]); // what a person would do after merging it
    await expectZeroResidue(h.db, h.workspace.path, id);
  });

  it('a cell nobody worked in archives to zero residue: setup output is not work', async () => {
    const { id } = await create();
    await waitForStatus(h, id, ['ready']);
    expect((await archive(id)).statusCode).toBe(202);
    const record = (await waitForStatus(h, id, ['archived'])).archive as ArchiveRecord;
    expect(record).toMatchObject({ ref: null, saved: null, discarded: null, commits: 0 });
    await expectZeroResidue(h.db, h.workspace.path, id);
  });

  it('a second archive while one is under way answers 409, never 500', async () => {
    const { id } = await create();
    await waitForStatus(h, id, ['ready']);
    const [first, second] = await Promise.all([archive(id), archive(id)]);
    expect([first.statusCode, second.statusCode].sort()).toEqual([202, 409]);
    const refused = first.statusCode === 409 ? first : second;
    expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
    await waitForStatus(h, id, ['archived']);
    expect((await archive(id)).statusCode).toBe(409);
  });

  it('rolling back a preserved failed cell keeps what a person wrote in it meanwhile', async () => {
    const { id } = await create('broken');
    const failed = await waitForStatus(h, id, ['failed']);
    const wt = failed.worktreePath ?? '';
    await writeFile(path.join(wt, 'diagnosis.md'), 'setup exits 4 because…\n');
    expect((await h.app.inject({ method: 'POST', url: `/cells/${id}/cancel` })).statusCode).toBe(202);
    const cancelled = await waitForStatus(h, id, ['cancelled']);
    expect((cancelled.archive as ArchiveRecord).saved?.untracked).toContain('diagnosis.md');
    const ws = git(h.workspace.path);
    expect(await ws.raw(['show', `refs/hive/archive/${id}:diagnosis.md`])).toBe('setup exits 4 because…\n');
    await rm(path.join(h.workspace.path, '.cells', id), { recursive: true, force: true });
  });

  it('what a person changed in a failed cell before retrying stays theirs; what setup made on retry does not', async () => {
    const { id } = await create('fixable');
    const wt = (await waitForStatus(h, id, ['failed'])).worktreePath ?? '';
    await writeFile(path.join(wt, 'fix.txt'), 'the fix\n');
    expect((await h.app.inject({ method: 'POST', url: `/cells/${id}/retry` })).statusCode).toBe(202);
    await waitForStatus(h, id, ['ready']);
    expect((await archive(id)).statusCode).toBe(202);
    const record = (await waitForStatus(h, id, ['archived'])).archive as ArchiveRecord;
    expect(record.saved?.untracked).toEqual(['fix.txt']);
    await rm(path.join(h.workspace.path, '.cells', id), { recursive: true, force: true });
  });

  it('staged content is saved as the index was, even where the worktree no longer has it, and restored staged', async () => {
    const { id } = await create();
    const wt = (await waitForStatus(h, id, ['ready'])).worktreePath ?? '';
    // Staged, then removed from the worktree: only the index holds it.
    await writeFile(path.join(wt, 'only-staged.txt'), 'in the index alone\n');
    await git(wt).add('only-staged.txt');
    await unlink(path.join(wt, 'only-staged.txt'));
    // Staged, then edited again: the index and the worktree differ.
    await writeFile(path.join(wt, 'src/app.js'), 'console.log("staged");\n');
    await git(wt).add('src/app.js');
    await writeFile(path.join(wt, 'src/app.js'), 'console.log("edited after staging");\n');
    const status = async () =>
      (await git(wt).raw(['status', '--porcelain'])).split('\n').filter(Boolean).sort();
    const before = (await status()).filter((l) => !l.includes('.setup-ran'));
    expect(before).toEqual(['AD only-staged.txt', 'MM src/app.js']);

    expect((await archive(id)).statusCode).toBe(202);
    const record = (await waitForStatus(h, id, ['archived'])).archive as ArchiveRecord;
    expect(record.saved?.staged?.sort()).toEqual(['only-staged.txt', 'src/app.js']);
    expect(record.index).toBeTruthy();
    const ws = git(h.workspace.path);
    expect(await ws.raw(['show', `${record.index}:only-staged.txt`])).toBe('in the index alone\n');

    expect((await h.app.inject({ method: 'POST', url: `/cells/${id}/restore` })).statusCode).toBe(202);
    await waitForStatus(h, id, ['ready']);
    expect((await status()).filter((l) => !l.includes('.setup-ran'))).toEqual(before);
    expect(await git(wt).raw(['show', ':src/app.js'])).toBe('console.log("staged");\n');
    expect(await readFile(path.join(wt, 'src/app.js'), 'utf8')).toBe(
      'console.log("edited after staging");\n',
    );
    await archive(id, '?discard=true');
    await waitForStatus(h, id, ['archived']);
  });

  it("an agent's own branch is counted, kept, and checked out again on restore", async () => {
    const { id } = await create();
    const wt = (await waitForStatus(h, id, ['ready'])).worktreePath ?? '';
    const feature = `feature-${id}`;
    await git(wt).raw(['switch', '-q', '-c', feature]);
    await writeFile(path.join(wt, 'feature.txt'), 'committed on my branch\n');
    await git(wt).add('feature.txt');
    await commitWork(wt, 'feature work');
    await writeFile(path.join(wt, 'wip.txt'), 'not yet committed\n');

    expect((await archive(id)).statusCode).toBe(202);
    const record = (await waitForStatus(h, id, ['archived'])).archive as ArchiveRecord;
    expect(record).toMatchObject({ headBranch: feature, detached: false, commits: 1 });
    expect(record.saved?.untracked).toEqual(['wip.txt']);
    expect((await git(h.workspace.path).branchLocal()).all).toContain(feature);

    expect((await h.app.inject({ method: 'POST', url: `/cells/${id}/restore` })).statusCode).toBe(202);
    await waitForStatus(h, id, ['ready']);
    expect((await git(wt).raw(['symbolic-ref', '--short', 'HEAD'])).trim()).toBe(feature);
    const status = (await git(wt).raw(['status', '--porcelain'])).split('\n').filter(Boolean);
    expect(status).toContain('?? wip.txt');
    expect(status.join('\n')).not.toContain('feature.txt');
    await archive(id, '?discard=true');
    await waitForStatus(h, id, ['archived']);
  });

  it('a process that cleared its environment and left its session does not outlive the archive', async () => {
    const { id } = await create();
    const wt = (await waitForStatus(h, id, ['ready'])).worktreePath ?? '';
    const daemon = spawn('setsid', ['sleep', '1000'], { cwd: wt, env: {}, detached: true, stdio: 'ignore' });
    daemon.unref();
    // setsid forks when it is a group leader: find what works in the worktree by /proc, as Hive must.
    const { readdir, readlink } = await import('node:fs/promises');
    const workingIn = async (dir: string) => {
      const found: string[] = [];
      for (const p of await readdir('/proc')) {
        if (!/^\d+$/.test(p)) continue;
        const cwd = await readlink(`/proc/${p}/cwd`).catch(() => '');
        if (cwd === dir || cwd.startsWith(`${dir}/`)) found.push(p);
      }
      return found;
    };
    await new Promise((r) => setTimeout(r, 300));
    expect((await workingIn(wt)).length).toBeGreaterThan(0);
    expect((await archive(id, '?discard=true')).statusCode).toBe(202);
    await waitForStatus(h, id, ['archived']);
    const left = await workingIn(wt);
    expect(left).toEqual([]);
    await expectZeroResidue(h.db, h.workspace.path, id);
  });
});
