import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTemporalCli } from '../src/temporal/cli.js';
import { createGitRepo } from './support/gitRepo.js';
import { eventually, type HiveProcess, isAlive, pidsMatching, spawnHive } from './support/process.js';
import { listening } from './support/residue.js';

let dataDir: string;
let repo: string;
let up: HiveProcess;
const ports = { api: 0, temporal: 0, ui: 0 };

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'hive-up-'));
  repo = await createGitRepo({
    'hive.config.ts': [
      "import { defineConfig } from 'hive-cells';",
      "export default defineConfig({ templates: { web: { label: 'Web' } } });",
    ].join('\n'),
  });
  ports.api = await getPort();
  ports.temporal = await getPort();
  ports.ui = await getPort();
  up = spawnHive('up', {
    HIVE_DATA_DIR: dataDir,
    HIVE_PORT: String(ports.api),
    HIVE_TEMPORAL_PORT: String(ports.temporal),
    HIVE_TEMPORAL_UI_PORT: String(ports.ui),
    HIVE_WORKSPACES: `app=${repo}`,
  });
  await up.ready;
});

afterAll(async () => {
  if (up.child.exitCode === null) up.child.kill('SIGKILL');
  await rm(dataDir, { recursive: true, force: true });
  await rm(repo, { recursive: true, force: true });
});

describe('hive up (npm start): the embedded stack in one process', () => {
  const api = (p: string) => `http://127.0.0.1:${ports.api}${p}`;

  it('prints the API, docs and Temporal UI URLs', () => {
    expect(up.output()).toContain(`API          http://127.0.0.1:${ports.api}`);
    expect(up.output()).toContain(`API docs     http://127.0.0.1:${ports.api}/docs`);
    expect(up.output()).toContain(`Temporal UI  http://127.0.0.1:${ports.ui}`);
  });

  it('is healthy, serves a cell end to end, and the Temporal UI and CLI see it', async () => {
    const health = await fetch(api('/healthz'));
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ checks: { temporal: { ok: true }, database: { ok: true } } });

    const created = await fetch(api('/cells'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ workspace: 'app', template: 'web', brief: 'hello' }),
    });
    expect(created.status).toBe(202);
    const { id, workflowId } = (await created.json()) as { id: string; workflowId: string };
    const cell = await eventually(async () => {
      const body = (await (await fetch(api(`/cells/${id}`))).json()) as { status: string };
      return body.status === 'ready' ? body : undefined;
    }, 'cell ready');
    expect(cell).toMatchObject({ id, status: 'ready', workspaceId: 'app' });

    const cli = await findTemporalCli(process.env.TEMPORAL_CLI_PATH);
    if (!cli) throw new Error('no temporal CLI found');
    const listed = await eventually(async () => {
      const { stdout } = await execa(cli.path, [
        'workflow',
        'list',
        '--address',
        `127.0.0.1:${ports.temporal}`,
        '--query',
        `CellId="${id}"`,
        '--output',
        'json',
      ]);
      return stdout.includes(workflowId) ? stdout : undefined;
    }, 'temporal workflow list');
    expect(listed).toContain('provisionCell');

    const ui = await fetch(`http://127.0.0.1:${ports.ui}/`);
    expect(ui.status).toBe(200);
    expect((await fetch(api('/docs/'))).status).toBe(200);
  });

  it('stops everything on SIGTERM, leaving no orphan dev server', async () => {
    const serverPids = await pidsMatching(`--port ${ports.temporal} `);
    expect(serverPids.length).toBeGreaterThan(0);
    up.child.kill('SIGTERM');
    const result = await up.child;
    expect(result.exitCode).toBe(0);
    expect(up.output()).toContain('stopped');
    for (const pid of serverPids) expect(isAlive(pid)).toBe(false);
    expect(await listening(ports.api)).toBe(false);
    expect(await listening(ports.temporal)).toBe(false);
    expect(await listening(ports.ui)).toBe(false);
  });
});
