import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../src/config/paths.js';
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
      "export default defineConfig({ templates: { web: { label: 'Web', services: { web: { run: 'node server.js' } } } } });",
    ].join('\n'),
    'server.js':
      "require('node:http').createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT), '127.0.0.1');\n",
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

    // Planned where it was accepted (`hive up` is the API and the host's worker): the plan is in the
    // workflow's input, no `validate` activity ran, and the step is recorded all the same.
    const { stdout: shown } = await execa(cli.path, [
      'workflow',
      'show',
      '--address',
      `127.0.0.1:${ports.temporal}`,
      '--workflow-id',
      workflowId,
      '--output',
      'json',
    ]);
    const history = JSON.parse(shown) as {
      events: Array<{ activityTaskScheduledEventAttributes?: { activityType: { name: string } } }>;
    };
    const activities = history.events.flatMap(
      (e) => e.activityTaskScheduledEventAttributes?.activityType.name ?? [],
    );
    expect(activities).toContain('createWorktree');
    expect(activities).not.toContain('validateCell');
    const { steps } = (await (await fetch(api(`/cells/${id}`))).json()) as {
      steps: Array<{ name: string; status: string }>;
    };
    expect(steps).toContainEqual(expect.objectContaining({ name: 'validate', status: 'succeeded' }));

    const ui = await fetch(`http://127.0.0.1:${ports.ui}/`);
    expect(ui.status).toBe(200);
    expect((await fetch(api('/docs/'))).status).toBe(200);
  });

  it('stops everything on SIGTERM, leaving no orphan dev server, and says which cells keep running', async () => {
    const serverPids = await pidsMatching(`--port ${ports.temporal} `);
    const listed = (await (await fetch(api('/cells'))).json()) as { cells: Array<{ id: string }> };
    const cell = (await (await fetch(api(`/cells/${listed.cells[0]?.id}`))).json()) as {
      id: string;
      services: Array<{ pid: number | null }>;
    };
    expect(serverPids.length).toBeGreaterThan(0);
    up.child.kill('SIGTERM');
    const result = await up.child;
    expect(result.exitCode).toBe(0);
    expect(up.output()).toContain('stopped');
    // The cell's service is not Hive's to end on the way out: it runs on, and Hive says so.
    expect(up.output()).toContain('1 cell keeps running 1 service');
    expect(up.output()).toContain(cell?.id ?? 'no cell');
    const service = cell?.services[0]?.pid;
    expect(service && isAlive(service)).toBe(true);
    if (service) process.kill(-service, 'SIGKILL');
    for (const pid of serverPids) expect(isAlive(pid)).toBe(false);
    expect(await listening(ports.api)).toBe(false);
    expect(await listening(ports.temporal)).toBe(false);
    expect(await listening(ports.ui)).toBe(false);
  });
});

describe('hive up through `npm link`, run in another repository, without HIVE_DATA_DIR', () => {
  let home: string;
  let other: string;
  let linked: HiveProcess;
  const own = { api: 0, temporal: 0, ui: 0 };
  const otherApi = (p: string) => `http://127.0.0.1:${own.api}${p}`;

  beforeAll(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'hive-home-'));
    other = await createGitRepo({
      'src/index.js': '// the project\n',
      'hive.config.ts': [
        "import { defineConfig } from 'hive-cells';",
        "export default defineConfig({ templates: { web: { label: 'Web' } } });",
      ].join('\n'),
    });
    // What `npm link` puts on PATH: a symlink to bin/hive.js, in a folder outside this package.
    const bin = path.join(home, 'bin', 'hive');
    await mkdir(path.dirname(bin), { recursive: true });
    await symlink(path.join(packageRoot, 'bin', 'hive.js'), bin);
    own.api = await getPort();
    own.temporal = await getPort();
    own.ui = await getPort();
    linked = spawnHive(
      'up',
      {
        HIVE_DATA_DIR: undefined,
        HIVE_WORKSPACES: undefined,
        XDG_DATA_HOME: path.join(home, 'data'),
        HIVE_PORT: String(own.api),
        HIVE_TEMPORAL_PORT: String(own.temporal),
        HIVE_TEMPORAL_UI_PORT: String(own.ui),
      },
      [],
      // From a folder inside the repository, as people do.
      { cwd: path.join(other, 'src'), bin },
    );
    await linked.ready;
  });

  afterAll(async () => {
    if (linked?.child.exitCode === null) {
      linked.child.kill('SIGTERM');
      await linked.child;
    }
    for (const pid of await pidsMatching(`--port ${own.temporal} `)) process.kill(pid, 'SIGKILL');
    await rm(home, { recursive: true, force: true });
    await rm(other, { recursive: true, force: true });
  });

  it('registers that repository, keeps its data in the per-user dir and leaves the repository clean', async () => {
    const dataDir = path.join(home, 'data', 'hive-cells');
    expect(linked.output()).toContain(`Data         ${dataDir}`);
    expect(linked.output()).toContain(`Workspaces   ${path.basename(other)}=${other}`);
    const { workspaces } = (await (await fetch(otherApi('/workspaces'))).json()) as {
      workspaces: Array<{ id: string; path: string; templates: number }>;
    };
    expect(workspaces).toEqual([
      expect.objectContaining({ id: path.basename(other), path: other, templates: 1 }),
    ]);

    const created = await fetch(otherApi('/cells'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ workspace: path.basename(other), template: 'web', brief: 'hello' }),
    });
    expect(created.status).toBe(202);
    const { id } = (await created.json()) as { id: string };
    await eventually(async () => {
      const body = (await (await fetch(otherApi(`/cells/${id}`))).json()) as { status: string };
      return body.status === 'ready' ? body : undefined;
    }, 'cell ready');

    expect(existsSync(path.join(dataDir, 'hive.db'))).toBe(true);
    expect(existsSync(path.join(dataDir, 'temporal.db'))).toBe(true);
    // Neither Hive's data nor the cell's worktree shows up in the repository's status.
    const { stdout } = await execa('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: other });
    expect(stdout).toBe('');
  });
});
