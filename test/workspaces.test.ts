import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createToken } from '../src/auth/tokens.js';
import { loadConfig } from '../src/config/env.js';
import { packageRoot } from '../src/config/paths.js';
import { createDb, type Db } from '../src/db/client.js';
import { type RunningStack, startStack } from '../src/runtime/stack.js';
import { hive } from './support/cli.js';
import { createGitRepo } from './support/gitRepo.js';
import { eventually } from './support/process.js';

// Workspaces added and removed while Hive runs: the real stack of `hive up` (API + worker + host
// agent, one live registry), in this process, on the run's Temporal dev server, with real git
// repositories and a real service. Everything over real HTTP.

const server = [
  "const http = require('node:http');",
  "http.createServer((_q, s) => s.end('ok')).listen(Number(process.env.PORT), '127.0.0.1');",
].join('\n');
const appConfig = JSON.stringify({
  templates: {
    web: {
      label: 'Web',
      services: {
        web: { run: 'node server.cjs', env: { PORT: '$PORT' }, readiness: { type: 'http', path: '/' } },
      },
    },
  },
});

let dataDir: string;
let mainRepo: string;
let addedRepo: string;
let plainDir: string;
let db: Db;
let stack: RunningStack | undefined;
const taskQueue = `test-workspaces-${process.pid}-${Date.now()}`;

async function start() {
  const config = loadConfig(
    {
      HIVE_DATA_DIR: dataDir,
      HIVE_PORT: '0',
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_TASK_QUEUE: taskQueue,
      HIVE_WORKFLOW_BUNDLE: inject('workflowBundlePath'),
      HIVE_WORKSPACES: `main=${mainRepo}`,
      HIVE_HOST_ID: 'workspaces-host',
      HIVE_HOST_HEARTBEAT_MS: '500',
      HIVE_STOP_GRACE_MS: '2000',
      HIVE_LOG_LEVEL: 'silent',
    },
    plainDir,
  );
  stack = await startStack(config, { api: true, worker: true, embeddedTemporal: false }, () => {});
  return stack;
}

let token: string | undefined;
async function call(method: string, url: string, body?: unknown, as = token) {
  const response = await fetch(`${stack?.apiUrl}${url}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(as ? { authorization: `Bearer ${as}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    body: text ? JSON.parse(text) : undefined,
  };
}

async function waitForCell(id: string, statuses: string[]) {
  return eventually(
    async () => {
      const { body } = await call('GET', `/cells/${id}`);
      return statuses.includes(body.status) ? body : undefined;
    },
    `cell ${id} ${statuses.join('|')}`,
    120_000,
  );
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'hive-workspaces-'));
  plainDir = await mkdtemp(path.join(tmpdir(), 'hive-plain-'));
  mainRepo = await createGitRepo({ 'hive.config.json': appConfig, 'server.cjs': server });
  addedRepo = await createGitRepo({ 'hive.config.json': appConfig, 'server.cjs': server });
  await start();
  db = createDb(`file:${path.join(dataDir, 'hive.db')}`);
});

afterAll(async () => {
  for (const cell of (await call('GET', '/cells').catch(() => undefined))?.body?.cells ?? []) {
    await call('DELETE', `/cells/${cell.id}?discard=true`).catch(() => undefined);
  }
  await stack?.stop();
  await db?.$disconnect();
  for (const dir of [dataDir, mainRepo, addedRepo, plainDir]) await rm(dir, { recursive: true, force: true });
});

describe('workspaces added while Hive runs', () => {
  let cellId: string;

  it('adds a git repository: listed, its templates offered, a cell in it becomes ready', async () => {
    const added = await call('POST', '/workspaces', { id: 'added', path: addedRepo });
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    expect(added.body).toMatchObject({ id: 'added', path: addedRepo, configLoads: true, templates: 1 });

    const listed = await call('GET', '/workspaces');
    expect(listed.body.workspaces.map((w: { id: string }) => w.id)).toEqual(['main', 'added']);
    const templates = await call('GET', '/templates?workspace=added');
    expect(templates.status).toBe(200);
    expect(templates.body.templates.map((t: { id: string }) => t.id)).toEqual(['web']);

    // The host offers it at once: placement finds it, the worker's activities find its path.
    const host = await db.host.findUniqueOrThrow({ where: { id: 'workspaces-host' } });
    expect(JSON.parse(host.workspaces)).toContain('added');
    const created = await call('POST', '/cells', { workspace: 'added', template: 'web', brief: 'hello' });
    expect(created.status, JSON.stringify(created.body)).toBe(202);
    cellId = created.body.id;
    const cell = await waitForCell(cellId, ['ready', 'failed']);
    expect(cell.status, JSON.stringify(cell.steps?.at(-1))).toBe('ready');
    expect(cell.worktreePath).toContain(path.join(addedRepo, '.cells'));
  });

  it('refuses to remove a workspace with a live cell, naming the cell (409)', async () => {
    const refused = await call('DELETE', '/workspaces/added');
    expect(refused.status).toBe(409);
    expect(refused.type).toContain('application/problem+json');
    expect(refused.body.detail).toContain(cellId);
    expect((await call('GET', '/workspaces')).body.workspaces.map((w: { id: string }) => w.id)).toContain(
      'added',
    );
  });

  it('survives a restart of Hive', async () => {
    await stack?.stop();
    await start();
    const listed = await call('GET', '/workspaces');
    expect(listed.body.workspaces).toContainEqual(expect.objectContaining({ id: 'added', path: addedRepo }));
    expect((await call('GET', `/cells/${cellId}`)).body.workspaceId).toBe('added');
  });

  it('removes it once its cells ended (204), and forgets it', async () => {
    const archived = await call('DELETE', `/cells/${cellId}?discard=true`);
    expect(archived.status, JSON.stringify(archived.body)).toBeLessThan(300);
    await waitForCell(cellId, ['archived']);
    const removed = await call('DELETE', '/workspaces/added');
    expect(removed.status, JSON.stringify(removed.body)).toBe(204);
    expect((await call('GET', '/workspaces')).body.workspaces.map((w: { id: string }) => w.id)).toEqual([
      'main',
    ]);
    expect((await call('GET', '/templates?workspace=added')).status).toBe(404);
    expect(await db.workspace.findUnique({ where: { id: 'added' } })).toBeNull();
  });

  it('refuses bad input with problem+json naming the field and the fix', async () => {
    const notGit = await mkdtemp(path.join(tmpdir(), 'hive-notgit-'));
    const inside = path.join(mainRepo, 'sub');
    await mkdir(inside, { recursive: true });
    const cases: Array<[unknown, number, RegExp]> = [
      [{ id: 'x', path: 'relative/path' }, 400, /absolute path/],
      [{ id: 'bad id!', path: addedRepo }, 400, /letters, digits/],
      [{ id: 'x', path: '/definitely/not/here' }, 400, /not a directory/],
      [{ id: 'x', path: notGit }, 400, /not a git repository: run git init/],
      [{ id: 'x', path: inside }, 400, new RegExp(`inside the git repository ${mainRepo}`)],
      [{ id: 'main', path: addedRepo }, 409, /already registered/],
      [{ id: 'again', path: mainRepo }, 409, /already registered as workspace "main"/],
    ];
    for (const [body, status, detail] of cases) {
      const answer = await call('POST', '/workspaces', body);
      expect(answer.status, JSON.stringify(answer.body)).toBe(status);
      expect(answer.type).toContain('application/problem+json');
      expect(answer.body.detail).toMatch(detail);
      expect(answer.body.errors?.[0]?.pointer).toMatch(/path|id/);
    }
    // Two requests at once for one new id: one is added, the other refused, never a 500.
    const twins = await Promise.all(
      [1, 2].map(() => call('POST', '/workspaces', { id: 'twin', path: addedRepo })),
    );
    expect(twins.map((t) => t.status).sort()).toEqual([201, 409]);
    expect((await call('DELETE', '/workspaces/twin')).status).toBe(204);
    await rm(notGit, { recursive: true, force: true });
    expect((await call('DELETE', '/workspaces/nope')).status).toBe(404);
    const configured = await call('DELETE', '/workspaces/main');
    expect(configured.status).toBe(409);
    expect(configured.body.detail).toMatch(/HIVE_WORKSPACES/);
  });

  it("dry-runs this repository's own template (its hive.config.ts) in a workspace of the project root", async () => {
    const self = await call('POST', '/workspaces', { id: 'hive-cells', path: packageRoot });
    expect(self.status, JSON.stringify(self.body)).toBe(201);
    expect(self.body).toMatchObject({ configLoads: true, templates: 1, problems: [] });
    const report = await call('POST', '/templates/hive/validate', { workspace: 'hive-cells' });
    expect(report.status).toBe(200);
    expect(report.body.findings.filter((f: { severity: string }) => f.severity === 'error')).toEqual([]);
    expect(report.body.ok).toBe(true);
    expect((await call('DELETE', '/workspaces/hive-cells')).status).toBe(204);
  });

  it('hive workspaces add|ls|remove, over the API (a relative path is resolved where it runs)', async () => {
    const url = stack?.apiUrl ?? '';
    const added = await hive(url, ['workspaces', 'add', 'shop', path.basename(addedRepo)], {
      cwd: path.dirname(addedRepo),
    });
    expect(added.exitCode, added.stderr).toBe(0);
    expect(added.stdout).toContain(`Workspace shop added: ${addedRepo}`);
    expect(added.stdout).toContain('1 template(s)');
    const listed = await hive(url, ['workspaces']);
    expect(listed.stdout).toMatch(new RegExp(`shop\\s+1\\s+${addedRepo}`));
    const refused = await hive(url, ['workspaces', 'add', 'shop2', addedRepo]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('already registered as workspace "shop"');
    const removed = await hive(url, ['workspaces', 'remove', 'shop']);
    expect(removed.exitCode, removed.stderr).toBe(0);
    expect((await hive(url, ['workspaces', 'ls', '--json'])).stdout).not.toContain('"shop"');
  });

  it('is admin only: viewer and operator tokens get 403, and the routes are documented', async () => {
    const docs = await call('GET', '/docs/json');
    expect(docs.body.paths['/workspaces'].post['x-hive-access']).toBe('admin');
    expect(docs.body.paths['/workspaces/{id}'].delete['x-hive-access']).toBe('admin');

    token = (await createToken(db, { name: 'admin', role: 'admin' })).secret;
    for (const role of ['viewer', 'operator'] as const) {
      const secret = (await createToken(db, { name: role, role })).secret;
      expect((await call('POST', '/workspaces', { id: 'x', path: addedRepo }, secret)).status).toBe(403);
      expect((await call('DELETE', '/workspaces/main', undefined, secret)).status).toBe(403);
      expect((await call('GET', '/workspaces', undefined, secret)).status).toBe(200);
    }
    const scoped = (await createToken(db, { name: 'scoped', role: 'admin', workspaces: ['main'] })).secret;
    expect((await call('POST', '/workspaces', { id: 'x', path: addedRepo }, scoped)).status).toBe(403);
    expect((await call('POST', '/workspaces', { id: 'x', path: addedRepo })).status).toBe(201);
  });
});
