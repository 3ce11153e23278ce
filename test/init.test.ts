import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import type { CellDetail } from '../src/client/index.js';
import { hive, listen } from './support/cli.js';
import { createHarness } from './support/harness.js';

// `hive init` on three real-looking repositories: the config it writes passes the dry run, and a
// cell made from it (by the real CLI, through the real API and worker) becomes ready.

const nodeApp = {
  'package.json': JSON.stringify(
    {
      name: 'node-app',
      private: true,
      // No dependencies: the install is instant and offline.
      scripts: {
        dev: `node -e "require('http').createServer((q, s) => s.end('dev server')).listen(process.env.PORT, '127.0.0.1')"`,
      },
    },
    null,
    2,
  ),
  'package-lock.json': JSON.stringify(
    { name: 'node-app', lockfileVersion: 3, requires: true, packages: { '': { name: 'node-app' } } },
    null,
    2,
  ),
  '.gitignore': '.env.local\nnode_modules\n',
  '.env.example': 'API_KEY=\n',
};

const composeApp = {
  'docker-compose.yml': `services:
  app:
    build: .
    command: node server.js
    ports: ["3000:3000"]
    environment:
      DATABASE_URL: postgres://postgres@db:5432/postgres
    depends_on: [db]
  db:
    image: postgres:16
    ports: ["5432:5432"]
  mail:
    image: mailhog/mailhog
    ports: ["8025:8025"]
`,
  'server.js': `require('node:http')
  .createServer((req, res) => res.end(process.env.DATABASE_URL))
  .listen(Number(process.env.PORT), '127.0.0.1');
`,
};

/** Runs `hive init` in a harness's workspace, then makes a cell from what it wrote. */
async function initAndProvision(name: string, files: Record<string, string>, extra?: Record<string, string>) {
  const h = await createHarness(name, files);
  try {
    for (const [file, content] of Object.entries(extra ?? {})) {
      await writeFile(path.join(h.workspace.path, file), content);
    }
    const url = await listen(h);
    const init = await hive(url, ['init'], { cwd: h.workspace.path });
    expect(init.exitCode, init.stdout + init.stderr).toBe(0);
    expect(init.stdout).toContain('dry run passed');
    const config = await readFile(path.join(h.workspace.path, 'hive.config.jsonc'), 'utf8');

    // Never overwritten without --force.
    const again = await hive(url, ['init'], { cwd: h.workspace.path });
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toContain('--force');

    const validate = await hive(url, ['templates', 'validate', 'default']);
    expect(validate.exitCode, validate.stdout).toBe(0);
    const created = await hive(url, ['cells', 'create', '-t', 'default', '-b', `try ${name}`, '--json']);
    expect(created.exitCode, created.stdout + created.stderr).toBe(0);
    const cell: CellDetail = JSON.parse(created.stdout);
    expect(cell.status).toBe('ready');
    return { h, url, cell, config, init };
  } catch (error) {
    await h.close();
    throw error;
  }
}

describe('hive init', () => {
  it('a Node app: install from the lockfile, the dev script on $PORT, .env files copied', async () => {
    const { h, cell, config, init } = await initAndProvision('init-node', nodeApp, {
      '.env.local': 'API_KEY=local-key\n',
    });
    try {
      expect(init.stdout).toContain('npm (package-lock.json)');
      // The install is the cached dependency set (before databases and setup), not a setup command.
      expect(config).toContain('"install": "npm ci --no-audit --no-fund"');
      expect(config).not.toContain('"setup": ["npm ci');
      expect(config).toContain('"run": "npm run dev"');
      expect(config).toContain('"includePatterns": [".env*"]');
      const web = cell.services.find((s) => s.name === 'web');
      expect(await (await fetch(web?.url as string)).text()).toBe('dev server');
      // The gitignored .env.local reached the worktree.
      expect(await readFile(path.join(cell.worktreePath as string, '.env.local'), 'utf8')).toContain(
        'local-key',
      );
    } finally {
      await h.close();
    }
  });

  it('a docker-compose repo: its app and PostgreSQL as processes, an image it cannot run commented out', async () => {
    const { h, url, cell, config } = await initAndProvision('init-compose', composeApp);
    try {
      expect(config).toContain('"run": "node server.js"');
      expect(config).toMatch(/\/\/ "mail": \{/);
      // The app is a process; the database is Hive's built-in PostgreSQL: the cell's own database.
      expect(config).toContain('"type": "postgres"');
      expect(cell.services.map((s) => s.name)).toEqual(['app']);
      const app = cell.services.find((s) => s.name === 'app');
      const databaseUrl = await (await fetch(app?.url as string)).text();
      expect(databaseUrl).toMatch(new RegExp(`^postgresql://postgres@localhost:5432/c_${cell.id}_`));
      const psql = await hive(url, ['cells', 'exec', cell.id, '--', 'psql', '-tAc', 'select 40 + 2']);
      expect(psql.stdout.trim(), psql.stderr).toBe('42');
      const archived = await hive(url, ['cells', 'archive', cell.id]);
      expect(archived.exitCode, archived.stdout).toBe(0);
      // Archive dropped the cell's database.
      const gone = await execa('psql', [databaseUrl, '-tAc', 'select 1'], { reject: false });
      expect(gone.stderr).toMatch(/database "c_\w+" does not exist/);
    } finally {
      await h.close();
    }
  });

  it('a repository with nothing to run: a worktree-only template', async () => {
    const { h, cell, config, init } = await initAndProvision('init-empty', {});
    try {
      expect(init.stdout).toContain('worktree-only');
      expect(config).not.toContain('"services":');
      expect(cell.services).toEqual([]);
      expect((await stat(cell.worktreePath as string)).isDirectory()).toBe(true);
    } finally {
      await h.close();
    }
  });
});
