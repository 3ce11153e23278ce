import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { simpleGit } from 'simple-git';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cellDetail } from '../src/cells/views.js';
import { createHarness, type Faults, type Harness, waitForStatus } from './support/harness.js';
import { expectZeroResidue, listening } from './support/residue.js';

// A real PostgreSQL (Debian's initdb/postgres; data directory inside the worktree) and a Node HTTP
// service that depends on it being healthy and answers with data it read from it.
const pgScript = `#!/bin/sh
# usage: pg.sh init | run PORT — PostgreSQL refuses to run as root, so as root it runs as postgres.
set -e
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
DATA="$HIVE_CELL_DIR/.hive/pg"
if [ "$(id -u)" = 0 ]; then AS="runuser -u postgres --"; else AS=""; fi
case "$1" in
  init)
    mkdir -p "$DATA"
    [ "$(id -u)" = 0 ] && chown postgres "$DATA"
    $AS "$PGBIN/initdb" -D "$DATA" -U postgres --auth=trust >/dev/null ;;
  run)
    exec $AS "$PGBIN/postgres" -D "$DATA" -p "$2" -k "$DATA" -c listen_addresses=127.0.0.1 ;;
  stop)
    $AS "$PGBIN/pg_ctl" -D "$DATA" stop -m fast ;;
esac
`;

const apiServer = `const http = require('node:http');
const { execFileSync } = require('node:child_process');
const query = (sql) =>
  execFileSync('psql', ['-h', '127.0.0.1', '-p', process.env.DB_PORT, '-U', 'postgres', '-tAc', sql]).toString().trim();
http
  .createServer((req, res) => {
    if (req.url === '/health') return res.end('ok');
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ notes: query('SELECT string_agg(body, \\',\\' ORDER BY id) FROM notes').split(',') }));
  })
  .listen(Number(process.env.PORT), '127.0.0.1');
`;

const config = {
  templates: {
    fullstack: {
      label: 'API + PostgreSQL',
      requirements: { executables: { psql: '>=12', node: '>=20' } },
      prompts: ['prompts'],
      setup: ['echo preparing the cell'],
      includePatterns: ['.env*'],
      ignorePatterns: ['.env.production'],
      services: {
        db: {
          setup: ['sh pg.sh init'],
          run: 'sh pg.sh run $PORT',
          readiness: { type: 'exec', command: 'pg_isready -h 127.0.0.1 -p "$PORT"', periodMs: 200 },
          readyTimeoutMs: 60_000,
          stop: 'sh pg.sh stop',
        },
        api: {
          run: 'node api.js',
          env: { DB_PORT: '$PORT:db', DATABASE_URL: 'postgres://postgres@127.0.0.1:$PORT:db/postgres' },
          setup: [
            'psql -h 127.0.0.1 -p "$DB_PORT" -U postgres -c "CREATE TABLE notes (id serial PRIMARY KEY, body text)"',
            `psql -h 127.0.0.1 -p "$DB_PORT" -U postgres -c "INSERT INTO notes (body) VALUES ('hello'), ('from postgres')"`,
          ],
          dependsOn: { db: 'healthy' },
          readiness: { type: 'http', path: '/health', periodMs: 100 },
        },
      },
    },
  },
};

const files = {
  'hive.config.json': JSON.stringify(config, null, 2),
  'pg.sh': pgScript,
  'api.js': apiServer,
  'prompts/01-role.md': '# Role\nYou maintain the notes API (at {{services.1.url}}).\n',
  '.gitignore': '.env*\n',
};

async function harness(name: string, faults?: Faults) {
  const created = await createHarness(name, files, { faults });
  // mkdtemp folders are 0700; the postgres user must be able to reach its data directory.
  await chmod(created.workspace.path, 0o755);
  // Gitignored files: .env.local is to be copied into each worktree, .env.production is not.
  await writeFile(`${created.workspace.path}/.env.local`, 'API_KEY=local\n');
  await writeFile(`${created.workspace.path}/.env.production`, 'API_KEY=prod\n');
  return created;
}

let h: Harness;
beforeAll(async () => {
  h = await harness('e2e');
});
afterAll(() => h?.close());

describe('provisioning a real cell: worktree, PostgreSQL, an API that reads from it, env and prompt', () => {
  it('becomes ready with everything wired to real ports', async () => {
    const response = await h.app.inject({
      method: 'POST',
      url: '/cells',
      payload: {
        workspace: 'demo',
        template: 'fullstack',
        brief: 'List notes newest first',
        constraints: ['Keep the API backwards compatible'],
        successCriteria: ['GET / returns notes newest first'],
      },
    });
    expect(response.statusCode, response.body).toBe(202);
    const { id, workflowId } = response.json();
    await waitForStatus(h, id, ['ready']);

    const cell = await cellDetail(h.db, id);
    if (!cell) throw new Error('no cell');
    expect(cell.status).toBe('ready');
    expect(cell.worktreePath).toBe(`${h.workspace.path}/.cells/${id}`);
    expect(cell.branch).toBe(`cell/${id}`);

    // The worktree is on its branch, and the workspace's git status does not show .cells/.
    const wt = simpleGit(cell.worktreePath ?? '');
    expect((await wt.revparse(['--abbrev-ref', 'HEAD'])).trim()).toBe(`cell/${id}`);
    expect((await simpleGit(h.workspace.path).status()).not_added).not.toContain('.cells/');
    expect((await simpleGit(h.workspace.path).status()).isClean()).toBe(true);

    const db = cell.services.find((s) => s.name === 'db');
    const api = cell.services.find((s) => s.name === 'api');
    expect(db).toMatchObject({ status: 'ready', url: `http://127.0.0.1:${db?.port}` });
    expect(api).toMatchObject({ status: 'ready', url: `http://127.0.0.1:${api?.port}` });
    expect(db?.port).not.toBe(api?.port);
    expect(await listening(db?.port ?? 0)).toBe(true);
    expect(await listening(api?.port ?? 0)).toBe(true);

    // Gitignored includes were copied (ignorePatterns honoured); setup output is in the step record.
    expect(await readFile(`${cell.worktreePath}/.env.local`, 'utf8')).toBe('API_KEY=local\n');
    expect(await stat(`${cell.worktreePath}/.env.production`).catch(() => undefined)).toBeUndefined();
    const environment = cell.steps.find((s) => s.name === 'environment');
    expect(environment?.detail).toMatchObject({
      setupLogTail: expect.stringContaining('preparing the cell'),
    });

    // The API answers with data it read from this cell's PostgreSQL.
    const notes = await (await fetch(`http://127.0.0.1:${api?.port}/`)).json();
    expect(notes).toEqual({ notes: ['hello', 'from postgres'] });

    // The env file and prompt carry the real ports, URLs and the brief.
    const envFile = await readFile(`${cell.worktreePath}/.hive/env`, 'utf8');
    expect(envFile).toContain(`DB_PORT=${db?.port}`);
    expect(envFile).toContain(`API_URL=http://127.0.0.1:${api?.port}`);
    expect(envFile).toContain(`HIVE_CELL_ID=${id}`);
    const prompt = await readFile(`${cell.worktreePath}/.hive/prompt.md`, 'utf8');
    expect(prompt).toBe(cell.prompt?.content);
    expect(prompt).toContain('List notes newest first');
    expect(prompt).toContain('- Keep the API backwards compatible');
    expect(prompt).toContain('- GET / returns notes newest first');
    expect(prompt).toContain(`You maintain the notes API (at http://127.0.0.1:${api?.port}).`);
    expect(prompt).toContain(`| db | ${db?.port} | http://127.0.0.1:${db?.port} |`);
    expect(prompt).toContain(`branch \`cell/${id}\``);

    // Every step succeeded once, in order, and the API shows them.
    const forward = cell.steps.filter((s) => s.kind === 'forward');
    expect(forward.map((s) => s.name)).toEqual(
      expect.arrayContaining([
        'validate',
        'worktree',
        'ports',
        'environment',
        'services.db.start',
        'services.db.ready',
        'services.api.start',
        'services.api.ready',
        'prompt',
      ]),
    );
    expect(forward.every((s) => s.status === 'succeeded' && s.attempt === 1)).toBe(true);
    const viaApi = (await h.app.inject({ method: 'GET', url: `/cells/${id}` })).json();
    expect(viaApi.ports).toHaveLength(2);
    expect(viaApi.prompt.content).toContain('List notes newest first');

    // The Temporal history tells the same story with readable activity summaries.
    const history = await h.client.workflow.getHandle(workflowId).fetchHistory();
    const summaries = (history.events ?? [])
      .map((e) => e.userMetadata?.summary?.data)
      .filter((d): d is Uint8Array => d instanceof Uint8Array)
      .map((d) => JSON.parse(Buffer.from(d).toString()) as string);
    expect(summaries).toContain(`start service api on :${api?.port}`);
    expect(summaries).toContain(`git worktree add cell/${id}`);
  });
});

describe('rolling back a real PostgreSQL cell', () => {
  it('stops PostgreSQL with its stop command and leaves nothing behind', async () => {
    const r = await harness('e2e-rollback', { assemblePrompt: 'after' });
    try {
      const response = await r.app.inject({
        method: 'POST',
        url: '/cells',
        payload: {
          workspace: 'demo',
          template: 'fullstack',
          brief: 'fail at the last step',
          onFailure: 'rollback',
        },
      });
      const { id, workflowId } = response.json();
      await expect(r.client.workflow.getHandle(workflowId).result()).rejects.toThrow();
      const cell = await cellDetail(r.db, id);
      expect(cell?.status).toBe('rolled_back');
      expect(cell?.failure).toMatchObject({ step: 'prompt', type: 'InjectedFault' });
      const stops = cell?.steps.filter((s) => s.kind === 'compensation').map((s) => s.name);
      // Reverse order: services (api before db, as api depends on db), teardown, ports, worktree.
      expect(stops).toEqual(['services.api', 'services.db', 'teardown', 'ports', 'worktree']);
      await expectZeroResidue(r.db, r.workspace.path, id);
    } finally {
      await r.close();
    }
  });
});
