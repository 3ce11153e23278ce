import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CellDetail } from '../src/client/index.js';
import { hive, listen } from './support/cli.js';
import { createHarness } from './support/harness.js';

// `hive init` on repositories shaped like real ones whose configs used to fail, then a cell made
// from what it wrote (the real CLI, the real API and worker, real installs and processes), asserted
// ready and serving on the cell's own port. Everything installs offline and fast: the "framework"
// is a tiny local package with the CLI options of the real one.

const json = (value: unknown) => JSON.stringify(value, null, 2);

/** A stand-in for Vite's CLI: --port, --strictPort, --host as Vite takes them, anything else refused. */
const fakeVite = `#!/usr/bin/env node
const args = process.argv.slice(2);
const opts = {};
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--strictPort' || a === '--open') opts[a.slice(2)] = true;
  else if (a === '--port' || a === '--host') opts[a.slice(2)] = args[++i];
  else { console.error('vite: unknown argument ' + a); process.exit(1); }
}
if (opts.open) { console.error('vite: would open a browser'); process.exit(1); }
require('node:http')
  .createServer((req, res) => res.end('vite on ' + opts.port))
  .listen(Number(opts.port || 5173), opts.host || 'localhost');
`;

/** A Node server on PORT that answers with the given text. */
const server = (text: string) =>
  `require('node:http').createServer((q, s) => s.end(${JSON.stringify(text)} + ' on ' + process.env.PORT)).listen(Number(process.env.PORT), '127.0.0.1');\n`;

async function initAndProvision(name: string, files: Record<string, string>) {
  const h = await createHarness(name, files);
  try {
    const url = await listen(h);
    const init = await hive(url, ['init'], { cwd: h.workspace.path });
    expect(init.exitCode, init.stdout + init.stderr).toBe(0);
    expect(init.stdout).toContain('dry run passed');
    const config = await readFile(path.join(h.workspace.path, 'hive.config.jsonc'), 'utf8');
    const created = await hive(url, ['cells', 'create', '-t', 'default', '-b', `try ${name}`, '--json']);
    expect(created.exitCode, created.stdout + created.stderr + config).toBe(0);
    const cell: CellDetail = JSON.parse(created.stdout);
    expect(cell.status).toBe('ready');
    return { h, cell, config };
  } catch (error) {
    await h.close();
    throw error;
  }
}

const body = async (cell: CellDetail, service: string) => {
  const s = cell.services.find((x) => x.name === service);
  expect(s, `no service ${service}`).toBeDefined();
  return { port: s?.port, text: await (await fetch(s?.url as string)).text() };
};

// Concurrent: each has its own harness, and most of their time is spent waiting on processes.
describe.concurrent('hive init, then a cell', () => {
  it('an npm workspace whose Vite app hard-codes --port 3333 --open: the app on the cell port, in its folder', async () => {
    const { h, cell, config } = await initAndProvision('init-workspace', {
      'package.json': json({
        name: 'ws',
        private: true,
        workspaces: ['apps/*', 'tools/*'],
        scripts: { dev: 'npm run dev --workspaces' },
      }),
      'tools/vite/package.json': json({ name: 'vite', version: '6.0.0', bin: { vite: 'cli.js' } }),
      'tools/vite/cli.js': fakeVite,
      'apps/web/package.json': json({
        name: 'web',
        private: true,
        scripts: { dev: 'vite --port 3333 --open' },
        devDependencies: { vite: '*' },
      }),
      'apps/web/index.html': '<!doctype html>\n',
      '.gitignore': 'node_modules\n',
    });
    try {
      expect(config).toContain('"cwd": "apps/web"');
      const web = await body(cell, 'web');
      expect(web.text).toBe(`vite on ${web.port}`);
    } finally {
      await h.close();
    }
  });

  it('only start:dev and start:prod scripts: the dev one is the service; .env from .env.example without PORT', async () => {
    const { h, cell, config } = await initAndProvision('init-startdev', {
      'package.json': json({
        name: 'nest-like',
        scripts: { build: 'node build.js', 'start:dev': 'node server.js', 'start:prod': 'node dist/main.js' },
      }),
      'server.js': server('dev'),
      '.env.example': 'PORT=3000\nAPI_KEY=example-key\n',
      '.gitignore': '.env\n',
    });
    try {
      expect(config).toContain('"run": "npm run start:dev"');
      const web = await body(cell, 'web');
      expect(web.text).toBe(`dev on ${web.port}`);
      const env = await readFile(path.join(cell.worktreePath as string, '.env'), 'utf8');
      expect(env).toContain('API_KEY=example-key');
      expect(env).not.toContain('PORT');
    } finally {
      await h.close();
    }
  });

  it('a Procfile web running npm run start:prod: the build runs first', async () => {
    const { h, cell, config } = await initAndProvision('init-procfile', {
      'package.json': json({
        name: 'heroku-app',
        scripts: { build: 'node build.js', 'start:prod': 'node dist/main.js' },
      }),
      'build.js': `require('node:fs').mkdirSync('dist', { recursive: true });
require('node:fs').writeFileSync('dist/main.js', ${JSON.stringify(server('built'))});
`,
      Procfile: 'web: npm run start:prod\n',
      '.gitignore': 'dist\n',
    });
    try {
      expect(config).toMatch(/"setup": \["npm run build"\]/);
      const web = await body(cell, 'web');
      expect(web.text).toBe(`built on ${web.port}`);
    } finally {
      await h.close();
    }
  });
});
