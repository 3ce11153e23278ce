import { mkdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { simpleGit } from 'simple-git';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness, waitForStatus } from './support/harness.js';
import { workspaceFiles } from './support/templates.js';

// Paths from the config stay inside the workspace (config paths) or the worktree (run-time paths),
// with symlinks followed: a committed link to a file outside must not leak it.
const secret = path.join(tmpdir(), `hive-outside-${process.pid}.txt`);

const templates = {
  linkedPrompt: { label: 'x', prompts: ['prompts/leak.md'] },
  linkedInFolder: { label: 'x', prompts: ['fragments'] },
  upDir: { label: 'x', services: { s: { run: 'sleep 5', ports: {}, cwd: '../..' } } },
  absDir: { label: 'x', services: { s: { run: 'sleep 5', ports: {}, cwd: '/tmp' } } },
  linkedDir: { label: 'x', services: { s: { run: 'sleep 5', ports: {}, cwd: 'outside-dir' } } },
  includes: { label: 'x', includePatterns: ['.env.local', 'linked.env'] },
};

let h: Harness;
beforeAll(async () => {
  await writeFile(secret, 'TOP SECRET\n');
  h = await createHarness('paths', { ...workspaceFiles(templates), 'fragments/ok.md': 'fine\n' });
  const ws = h.workspace.path;
  await symlink(secret, path.join(ws, 'prompts', 'leak.md'));
  await symlink(secret, path.join(ws, 'fragments', 'leak.md'));
  await mkdir(path.join(tmpdir(), `hive-outside-dir-${process.pid}`), { recursive: true });
  await symlink(path.join(tmpdir(), `hive-outside-dir-${process.pid}`), path.join(ws, 'outside-dir'));
  const git = simpleGit(ws);
  await git.add(['prompts/leak.md', 'fragments/leak.md', 'outside-dir']);
  await git.commit('links that point outside');
  // Gitignored files matched by includePatterns: a plain one, and a symlink to a file outside.
  await writeFile(path.join(ws, '.gitignore'), '.env.local\nlinked.env\n');
  await writeFile(path.join(ws, '.env.local'), 'A=1\n');
  await symlink(secret, path.join(ws, 'linked.env'));
});
afterAll(() => h?.close());

const dryRun = (template: string) =>
  h.app.inject({ method: 'POST', url: `/templates/${template}/validate`, payload: { workspace: 'demo' } });

describe('contained paths', () => {
  it('a prompt fragment that is a symlink outside the workspace is refused by the dry run and POST /cells', async () => {
    for (const template of ['linkedPrompt', 'linkedInFolder']) {
      const report = (await dryRun(template)).json();
      expect(report.ok, template).toBe(false);
      expect(report.findings[0].message, template).toMatch(/outside the workspace/);
      const post = await h.app.inject({
        method: 'POST',
        url: '/cells',
        payload: { workspace: 'demo', template, brief: 'leak?' },
      });
      expect(post.statusCode).toBe(422);
      expect(post.body).not.toContain('TOP SECRET');
    }
  });

  it('a service cwd that leaves the worktree (.., absolute, or a symlink) is refused', async () => {
    for (const template of ['upDir', 'absDir', 'linkedDir']) {
      const report = (await dryRun(template)).json();
      expect(report.ok, template).toBe(false);
      expect(report.findings.map((f: { path: string }) => f.path)).toContain(
        `templates.${template}.services.s.cwd`,
      );
    }
  });

  it('includes copy a gitignored symlink as a symlink, not as its target', async () => {
    const post = await h.app.inject({
      method: 'POST',
      url: '/cells',
      payload: { workspace: 'demo', template: 'includes', brief: 'x' },
    });
    const cell = await waitForStatus(h, post.json().id, ['ready', 'failed']);
    expect(cell.status).toBe('ready');
    const dir = cell.worktreePath ?? '';
    expect(await readFile(path.join(dir, '.env.local'), 'utf8')).toBe('A=1\n');
    expect(await readlink(path.join(dir, 'linked.env'))).toBe(secret);
  });
});
