import { readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import { simpleGit } from 'simple-git';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CellDetail } from '../src/cells/schema.js';
import { createDb, type Db } from '../src/db/client.js';
import type { TemplateDetail } from '../src/templates/views.js';
import {
  embeddedStack,
  eventually,
  type HiveProcess,
  pidsMatching,
  removeEmbeddedStack,
  spawnHive,
} from './support/process.js';
import { workspaceFiles } from './support/templates.js';

// A server that takes a moment to listen: a refill is long enough to kill everything during it.
const slowServer = `setTimeout(() => {
  require('node:http').createServer((q, s) => s.end('hello from ' + process.env.HIVE_CELL_ID))
    .listen(Number(process.env.PORT), '127.0.0.1');
}, 1500);
`;
const files = {
  ...workspaceFiles({
    pooled: {
      label: 'Pooled, slow to start',
      services: { web: { run: 'node slow.js', readiness: { type: 'http', path: '/', periodMs: 100 } } },
      pool: { size: 2 },
    },
  }),
  'slow.js': slowServer,
};

describe('kill -9 of everything during a pool refill and during a claim', () => {
  let dataDir: string;
  let repo: string;
  let env: Record<string, string>;
  let up: HiveProcess | undefined;
  let db: Db | undefined;
  const api = (p: string) => `http://127.0.0.1:${env.HIVE_PORT}${p}`;
  const pool = async () =>
    ((await (await fetch(api('/templates/pooled?workspace=app'))).json()) as TemplateDetail).pool;
  const body = { workspace: 'app', template: 'pooled', brief: 'Survive a crash mid-claim' };
  const post = () =>
    fetch(api('/cells'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'crash-claim' },
      body: JSON.stringify(body),
    });

  /** Everything hive up runs dies at once: API, worker and the embedded Temporal dev server. */
  const killEverything = async () => {
    const server = await pidsMatching(`--port ${env.HIVE_TEMPORAL_PORT} `);
    up?.child.kill('SIGKILL');
    for (const pid of server) process.kill(pid, 'SIGKILL');
    await up?.child;
  };
  const start = async () => {
    // Hive migrates its database at start: this test's own connection is closed meanwhile.
    await db?.$disconnect();
    db = undefined;
    up = spawnHive('up', env);
    await up.ready;
    const opened = createDb(`file:${path.join(dataDir, 'hive.db')}`);
    db = opened;
    return opened;
  };

  /** The pool at its size, and nothing on the host that no live cell owns. */
  const converged = async (db: Db) => {
    await eventually(
      async () => {
        const p = await pool();
        const live = await db.cell.count({
          where: { status: { notIn: ['archived', 'cancelled', 'rolled_back'] } },
        });
        const pooled = await db.cell.count({ where: { poolState: 'pooled' } });
        return p?.ready === 2 &&
          p.warming === 0 &&
          p.recycling === 0 &&
          pooled === 2 &&
          live === pooled + p.claimed
          ? true
          : undefined;
      },
      'the pool back at its size',
      120_000,
    );
    const live = await db.cell.findMany({
      where: { status: { notIn: ['archived', 'cancelled', 'rolled_back'] } },
      include: { services: true, ports: true },
    });
    for (const cell of live) expect(cell.status, cell.id).toBe('ready');
    const ids = live.map((c) => c.id).sort();
    // Worktrees: on disk and in git, exactly those of live cells.
    expect((await readdir(path.join(repo, '.cells'))).sort()).toEqual(ids);
    const listed = (await simpleGit(repo).raw(['worktree', 'list', '--porcelain']))
      .split('\n')
      .filter((l) => l.startsWith('worktree ') && l.includes('/.cells/'))
      .map((l) => path.basename(l.slice('worktree '.length)))
      .sort();
    expect(listed).toEqual(ids);
    const branches = (await simpleGit(repo).branchLocal()).all.filter((b) => b.startsWith('cell/')).sort();
    expect(branches).toEqual(ids.map((id) => `cell/${id}`));
    // Processes: one server per live cell, none anywhere else in the workspace.
    const servers: string[] = [];
    for (const pid of await readdir('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => '');
      if (!cwd.startsWith(path.join(repo, '.cells'))) continue;
      const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
      if (argv[1] === 'slow.js') servers.push(path.basename(cwd));
    }
    expect(servers.sort()).toEqual(ids);
    // Ports: active allocations are those of live cells, each served by its cell.
    const active = await db.portAllocation.findMany({ where: { activeKey: { not: null } } });
    expect(active.map((p) => p.cellId).sort()).toEqual(ids);
    for (const cell of live) {
      const port = cell.ports[0]?.port ?? 0;
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe(`hello from ${cell.id}`);
    }
  };

  beforeAll(async () => {
    ({ dataDir, repo, env } = await embeddedStack('hive-pool-crash-', files));
  });
  afterAll(async () => {
    if (!env) return;
    await removeEmbeddedStack({ dataDir, repo, env }, up, async () => {
      for (const pid of await readdir('/proc').catch(() => [] as string[])) {
        const cwd = /^\d+$/.test(pid) ? await readlink(`/proc/${pid}/cwd`).catch(() => '') : '';
        if (cwd.startsWith(repo)) process.kill(Number(pid), 'SIGKILL');
      }
      await db?.$disconnect();
    });
  });

  it('the pool converges to its size with nothing left over, and the request in flight gets one cell', async () => {
    // hive up starts the pool of every pooled template; kill everything while it fills.
    let db = await start();
    await eventually(
      async () =>
        (await db.step.findFirst({ where: { name: 'services.web.ready', status: 'running' } }))
          ? true
          : undefined,
      'a pool cell waiting for its service',
    );
    await killEverything();
    db = await start();
    await converged(db);

    // A request claims a pool cell; everything dies the moment the claim is in the record.
    const inFlight = post().catch(() => undefined);
    const claimed = await eventually(
      async () => (await db.cell.findUnique({ where: { idempotencyKey: 'crash-claim' } })) ?? undefined,
      'the claim recorded',
    );
    await killEverything();
    await inFlight;
    expect(claimed.poolState).toBe('claimed');

    // After the restart, the client's retry (same key) gets that cell, handed over and ready.
    db = await start();
    const retried = await post();
    expect(retried.status).toBe(202);
    expect(((await retried.json()) as { id: string }).id).toBe(claimed.id);
    const cell = await eventually(async () => {
      const c = (await (await fetch(api(`/cells/${claimed.id}`))).json()) as CellDetail;
      return c.status === 'ready' ? c : undefined;
    }, 'the claimed cell ready');
    expect(cell.prompt?.content).toContain('Survive a crash mid-claim');
    expect(await db.cell.count({ where: { poolState: null } })).toBe(0);
    const { cells } = (await (await fetch(api('/cells'))).json()) as { cells: Array<{ id: string }> };
    expect(cells.map((c) => c.id)).toEqual([claimed.id]);
    await converged(db);
  }, 300_000);
});
