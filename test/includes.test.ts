import { mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestCell } from './support/cells.js';
import { createHarness, type Harness, waitForStatus } from './support/harness.js';
import { httpServer } from './support/templates.js';

// Gitignored files reach a cell from the template's includePatterns and from the workspace's
// .worktreeinclude (Claude Code's file): when the worktree is made, and again on retry, where a
// person who fixed the workspace expects the fix to count — without losing what the cell changed.

/** The HTTP server, refusing to start without its gitignored .env (as a real app would). */
const needsEnv = `const fs = require('node:fs');
if (!fs.existsSync('.env')) { console.error('.env is missing'); process.exit(1); }
${httpServer}`;

const read = (dir: string, file: string) => readFile(path.join(dir, file), 'utf8');
const exists = (file: string) =>
  stat(file).then(
    () => true,
    () => false,
  );

describe('retry copies the included files again', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness('includes-retry', {
      'hive.config.json': JSON.stringify({
        templates: {
          app: {
            label: 'App needing .env',
            includePatterns: ['.env*'],
            services: {
              web: {
                run: 'node server.js',
                readiness: { type: 'http', path: '/health', periodMs: 100 },
                readyTimeoutMs: 5_000,
                restart: 'no',
              },
            },
          },
        },
      }),
      'server.js': needsEnv,
      '.gitignore': '.env\n.env.*\nconf/local.json\n',
      '.worktreeinclude': 'conf/local.json\n',
      'conf/app.json': '{}\n',
      // Gitignored: in the workspace, never committed.
      '.env.local': 'LOCAL=1\n',
      '.env.shared': 'SHARED=1\n',
    });
  });
  afterAll(() => h?.close());

  it('a missing .env added to the workspace → retry → ready with it; what the cell changed is kept', async () => {
    const id = await requestCell(h, 'app');
    const failed = await waitForStatus(h, id, ['failed'], 60_000);
    expect(failed.failure?.step).toMatch(/^services/);
    const cell = failed.worktreePath ?? '';
    expect(await read(cell, '.env.local')).toBe('LOCAL=1\n');
    expect(await exists(path.join(cell, '.env'))).toBe(false);

    // The person fixes the workspace; meanwhile the cell's own .env.local was edited in the cell.
    await writeFile(path.join(cell, '.env.local'), 'LOCAL=edited in the cell\n');
    await writeFile(path.join(h.workspace.path, '.env'), 'READY=1\n');
    await writeFile(path.join(h.workspace.path, '.env.local'), 'LOCAL=2\n');
    await writeFile(path.join(h.workspace.path, '.env.shared'), 'SHARED=2\n');
    // A folder of the cell replaced by a symlink leading outside: nothing is written through it.
    const outside = await mkdtemp(path.join(tmpdir(), 'hive-outside-'));
    await rm(path.join(cell, 'conf'), { recursive: true });
    await symlink(outside, path.join(cell, 'conf'));
    await writeFile(path.join(h.workspace.path, 'conf/local.json'), '{"local":true}\n');

    expect((await h.app.inject({ method: 'POST', url: `/cells/${id}/retry` })).statusCode).toBe(202);
    const ready = await waitForStatus(h, id, ['ready'], 60_000);
    expect(await read(cell, '.env')).toBe('READY=1\n');
    // Untouched in the cell since Hive copied it: the workspace's new version.
    expect(await read(cell, '.env.shared')).toBe('SHARED=2\n');
    // Changed in the cell: the cell's, not overwritten.
    expect(await read(cell, '.env.local')).toBe('LOCAL=edited in the cell\n');
    expect(ready.services.find((s) => s.name === 'web')?.status).toBe('ready');
    expect(await readdir(outside)).toEqual([]);
    await rm(outside, { recursive: true });

    const plans = await h.db.cellEvent.findMany({ where: { cellId: id, type: 'plan' } });
    expect(plans.map((e) => JSON.parse(e.data).includes)).toEqual([
      { copied: ['.env', '.env.shared'], kept: ['.env.local', 'conf/local.json'] },
    ]);
  });
});

describe('.worktreeinclude', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness('includes-worktreeinclude', {
      // No includePatterns: .worktreeinclude applies to every template.
      'hive.config.json': JSON.stringify({ templates: { plain: { label: 'Plain' } } }),
      '.gitignore': '.env.local\n.env.other\nconfig/secret.json\n',
      '.worktreeinclude': '# copied into every cell\n.env.local\nconfig/secret.json\nnotes.txt\nREADME.md\n',
      '.env.local': 'LOCAL=1\n',
      '.env.other': 'OTHER=1\n',
      'config/secret.json': '{"token":"s3cret"}\n',
    });
    // Listed but not gitignored: an untracked file and an uncommitted change to a tracked one.
    await writeFile(path.join(h.workspace.path, 'notes.txt'), 'untracked notes\n');
    await writeFile(path.join(h.workspace.path, 'README.md'), '# changed, not committed\n');
  });
  afterAll(() => h?.close());

  it('copies the listed gitignored files, and nothing else', async () => {
    const id = await requestCell(h, 'plain');
    const ready = await waitForStatus(h, id, ['ready'], 60_000);
    const cell = ready.worktreePath ?? '';
    expect(await read(cell, '.env.local')).toBe('LOCAL=1\n');
    expect(await read(cell, 'config/secret.json')).toBe('{"token":"s3cret"}\n');
    // Gitignored but not listed.
    expect(await exists(path.join(cell, '.env.other'))).toBe(false);
    // Listed but not gitignored: the tracked file as committed, the untracked one not at all.
    expect(await read(cell, 'README.md')).toBe('# demo\n');
    expect(await exists(path.join(cell, 'notes.txt'))).toBe(false);
    const worktreeStep = ready.steps.find((s) => s.name === 'worktree' && s.kind === 'forward');
    expect(worktreeStep?.detail).toMatchObject({ copied: 2 });
  });
});
