import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ErrorType, Step } from '../src/cells/catalog.js';
import type { CellDetail } from '../src/cells/schema.js';
import { cellDetail } from '../src/cells/views.js';
import { listHosts } from '../src/hosts/registry.js';
import { TEMPORAL_SERVER_VERSION, temporalDeployDir } from '../src/temporal/productionServer.js';
import { searchAttributeKeys } from '../src/temporal/searchAttributes.js';
import { createHarness, type Harness, onPostgres } from './support/harness.js';
import { eventually, type HiveProcess, isAlive, spawnWorker } from './support/process.js';
import { expectZeroResidue } from './support/residue.js';
import { httpServer, webService } from './support/templates.js';
import { type ProductionTemporal, startProductionTemporal } from './support/temporalServer.js';
import { waitForStatus } from './support/wait.js';

const run = promisify(execFile);

// Several hosts, one control plane: three real `hive worker --host` processes, each with its own
// clone of the workspace and data root, the real API in this process, all on the production Temporal
// server (go.temporal.io/server, not the dev server) with its persistence and visibility on the run's
// PostgreSQL beside Hive's records. This file stands for docker-compose.yml: the server's config,
// schema steps and search attributes are the ones in deploy/temporal/ that the compose file uses
// (test/support/temporalServer.ts). Placement, ports per host, a lost host and its return, draining
// and queueing, archive to zero residue, all observed through the records and the API.
// Long enough that a worker starved by the rest of the suite on two cores is not taken for lost (its
// rollback cells would then be rolled back, as for a host really lost); short enough for the test.
const GRACE_MS = 15_000;
const templates = {
  // One HTTP service; reserves a tenth of a core, so hosts fill by the cores they offer. Thirty of
  // them start at once on this machine's two cores beside the rest of the suite: readiness may take
  // longer than a person would wait, and is not what these tests are about.
  svc: {
    label: 'One service',
    resources: { cpu: 0.1 },
    services: { web: { ...webService, readyTimeoutMs: 120_000 } },
  },
  // No services, but it declares three cores: only an empty big host has room.
  big: { label: 'Big', resources: { cpu: 3 } },
  // Its service listens only once a file named `release` is in its worktree: provisioning waits.
  held: { label: 'Held', services: { web: { ...webService, run: 'node held.js', readyTimeoutMs: 120_000 } } },
};
const heldServer = `const { existsSync } = require('node:fs');
const wait = setInterval(() => {
  if (!existsSync('release')) return;
  clearInterval(wait);
  ${httpServer}
}, 100);
`;
const hosts = { h1: { cpus: 4 }, h2: { cpus: 2 }, h3: { cpus: 2 } } as const;
type HostId = keyof typeof hosts;

describe.runIf(onPostgres)('several hosts on one PostgreSQL and one Temporal', () => {
  let h: Harness;
  let temporal: ProductionTemporal;
  let root: string;
  const workers = new Map<HostId, HiveProcess>();

  const startHost = (id: HostId) => {
    const w = spawnWorker(
      h,
      {
        TEMPORAL_ADDRESS: temporal.address,
        HIVE_WORKSPACES: `demo=${path.join(root, id, 'demo')}`,
        HIVE_DATA_DIR: path.join(root, id, 'data'),
        HIVE_HOST_CPUS: String(hosts[id].cpus),
        HIVE_HOST_HEARTBEAT_MS: '500',
        HIVE_HOST_GRACE_MS: String(GRACE_MS),
        HIVE_WORKFLOW_BUNDLE: inject('workflowBundlePath'),
        HIVE_STOP_GRACE_MS: '2000',
      },
      ['--host', id],
    );
    workers.set(id, w);
    return w.ready;
  };

  const request = async (template: string, extra: Record<string, unknown> = {}) => {
    const response = await h.app.inject({
      method: 'POST',
      url: '/cells',
      payload: { workspace: 'demo', template, brief: 'work on a host', ...extra },
    });
    expect(response.statusCode, response.body).toBe(202);
    return response.json().id as string;
  };
  const detail = async (id: string) => (await cellDetail(h.db, id)) as CellDetail;
  const archive = async (id: string) => {
    const { host } = await detail(id);
    const response = await h.app.inject({ method: 'DELETE', url: `/cells/${id}` });
    expect(response.statusCode, response.body).toBe(202);
    await waitForStatus(h, id, ['archived']);
    // Nothing left on the host it ran on: worktree, branch, processes, ports.
    if (host) await expectZeroResidue(h.db, path.join(root, host, 'demo'), id);
  };

  // Long enough for the first build of the server on a machine without `hive setup --temporal-server`.
  beforeAll(async () => {
    temporal = await startProductionTemporal(inject('postgresTemplateUrl'));
    h = await createHarness(
      'hosts',
      {
        'hive.config.json': JSON.stringify({ templates }, null, 2),
        'server.js': httpServer,
        'held.js': heldServer,
      },
      { worker: false, temporalAddress: temporal.address },
    );
    root = await mkdtemp(path.join(tmpdir(), 'hive-hosts-'));
    for (const id of Object.keys(hosts)) {
      await run('git', ['clone', '--quiet', h.workspace.path, path.join(root, id, 'demo')]);
    }
    await Promise.all((Object.keys(hosts) as HostId[]).map(startHost));
  }, 900_000);

  afterAll(async () => {
    for (const w of workers.values()) w.child.kill('SIGKILL');
    await h?.close();
    await temporal?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  }, 60_000);

  it('runs on the production Temporal server, persistence and visibility on PostgreSQL', async () => {
    const info = await h.client.connection.workflowService.getClusterInfo({});
    expect(info.serverVersion).toBe(TEMPORAL_SERVER_VERSION);
    expect(info.persistenceStore).toBe('postgres12');
    expect(info.visibilityStore).toBe('postgres12');
    // Its two databases are on the run's PostgreSQL, beside Hive's own.
    const databases = await h.db.$queryRawUnsafe<Array<{ datname: string }>>(
      'SELECT datname::text FROM pg_database WHERE datname = $1 OR datname = $2',
      temporal.env.DBNAME,
      temporal.env.VISIBILITY_DBNAME,
    );
    expect(databases).toHaveLength(2);
    // setup.sh (docker-compose.yml's too) registered exactly the search attributes Hive upserts.
    const script = await readFile(path.join(temporalDeployDir, 'setup.sh'), 'utf8');
    const listed = script.match(/^SEARCH_ATTRIBUTES="([^"]*)"/m)?.[1]?.split(' ');
    expect(listed).toEqual(searchAttributeKeys.map((key) => key.name));
    const { customAttributes } = await h.client.connection.operatorService.listSearchAttributes({
      namespace: temporal.namespace,
    });
    for (const key of searchAttributeKeys) expect(customAttributes).toHaveProperty(key.name);
  });

  it('registers each host with what it offers; a request naming an unknown host changes nothing', async () => {
    const registered = await listHosts(h.db, GRACE_MS);
    expect(registered.map((x) => [x.id, x.state, x.capacity.cpus, x.workspaces])).toEqual([
      ['h1', 'live', 4, ['demo']],
      ['h2', 'live', 2, ['demo']],
      ['h3', 'live', 2, ['demo']],
    ]);
    expect(registered.every((x) => x.capacity.memoryMb > 0 && x.freeDiskMb > 0)).toBe(true);
    const before = await h.db.cell.count();
    const refused = await h.app.inject({
      method: 'POST',
      url: '/cells',
      payload: { workspace: 'demo', template: 'svc', brief: 'x', host: 'h9' },
    });
    expect(refused.statusCode).toBe(422);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(refused.json().findings[0]).toMatchObject({ path: 'host', message: 'no host "h9" is registered' });
    expect(refused.json().findings[0].hint).toContain('h1, h2, h3');
    expect(await h.db.cell.count()).toBe(before);
  });

  it('a cell no host has room for waits queued (cancellable) and starts when room appears', async () => {
    const first = await request('big');
    expect((await waitForStatus(h, first, ['ready'])).host).toBe('h1');
    const waiting = await request('big');
    const cancelled = await request('big');
    for (const id of [waiting, cancelled]) {
      const queued = await waitForStatus(h, id, ['queued']);
      const place = queued.steps.find((s) => s.name === Step.place);
      expect(place?.status).toBe('running');
      expect(place?.operation).toContain('no host has room for 3 cpus');
      expect(queued.host).toBeNull();
    }
    const cancel = await h.app.inject({ method: 'POST', url: `/cells/${cancelled}/cancel` });
    expect(cancel.statusCode, cancel.body).toBe(202);
    const gone = await waitForStatus(h, cancelled, ['cancelled']);
    expect(gone.host).toBeNull();
    expect(gone.worktreePath).toBeNull();
    expect((await detail(waiting)).status).toBe('queued');
    await archive(first);
    const started = await waitForStatus(h, waiting, ['ready']);
    expect(started.host).toBe('h1');
    await archive(waiting);
  });

  const spread: string[] = [];
  it('spreads 30 cells by headroom, with ports unique per host', async () => {
    const ids = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        request('svc', { onFailure: i % 3 === 0 ? 'rollback' : 'preserve' }),
      ),
    );
    spread.push(...ids);
    // Waits for each to rest, so that one that failed says why at once.
    const cells = await Promise.all(
      ids.map((id) => waitForStatus(h, id, ['ready', 'failed', 'rolled_back'], 220_000)),
    );
    for (const cell of cells) expect(cell.status, JSON.stringify(cell.failure)).toBe('ready');
    const count = (host: string) => cells.filter((c) => c.host === host).length;
    // h1 offers twice the cores of h2 and h3: it gets about twice their cells.
    expect(count('h1') + count('h2') + count('h3')).toBe(30);
    expect(count('h1')).toBeGreaterThan(count('h2'));
    expect(count('h1')).toBeGreaterThan(count('h3'));
    expect(Math.min(count('h2'), count('h3'))).toBeGreaterThanOrEqual(5);
    for (const cell of cells) {
      // The worktree is in the clone of the host the cell is on.
      expect(cell.worktreePath).toBe(path.join(root, cell.host as string, 'demo', '.cells', cell.id));
      const response = await fetch(cell.services[0]?.url as string);
      expect(await response.text()).toBe(`hello from ${cell.id}`);
    }
    const active = await h.db.portAllocation.findMany({
      where: { activeKey: { not: null } },
      include: { cell: true },
    });
    expect(active).toHaveLength(30);
    for (const allocation of active) expect(allocation.host).toBe(allocation.cell.host);
    const keys = active.map((a) => `${a.host}:${a.port}`);
    expect(new Set(keys).size).toBe(keys.length);
    const view = await listHosts(h.db, GRACE_MS);
    for (const x of view) {
      expect(x.cells).toBe(count(x.id));
      expect(x.reserved.cpus).toBeLessThanOrEqual(x.capacity.cpus);
    }
    // Each found by its CellId search attribute in the server's visibility on PostgreSQL.
    for (const cell of cells.slice(0, 3)) {
      const found = await eventually(async () => {
        for await (const wf of h.client.workflow.list({ query: `CellId="${cell.id}"` })) return wf.workflowId;
        return undefined;
      }, `cell ${cell.id} by its CellId`);
      expect(found).toBe(cell.workflowId);
    }
  }, 280_000);

  it('a drained host gets nothing new; undrained, it takes cells again', async () => {
    const drained = await h.app.inject({ method: 'POST', url: '/hosts/h2/drain' });
    expect(drained.statusCode, drained.body).toBe(200);
    expect(drained.json().state).toBe('drained');
    const named = await h.app.inject({
      method: 'POST',
      url: '/cells',
      payload: { workspace: 'demo', template: 'svc', brief: 'x', host: 'h2' },
    });
    expect(named.statusCode).toBe(422);
    expect(named.json().findings[0].message).toContain('drained');
    const ids = await Promise.all([1, 2, 3].map(() => request('svc')));
    const cells = await Promise.all(ids.map((id) => waitForStatus(h, id, ['ready'])));
    expect(cells.map((c) => c.host)).not.toContain('h2');
    const undrained = await h.app.inject({ method: 'POST', url: '/hosts/h2/undrain' });
    expect(undrained.json().state).toBe('live');
    const onH2 = await request('svc', { host: 'h2' });
    expect((await waitForStatus(h, onH2, ['ready'])).host).toBe('h2');
    for (const id of [...ids, onH2]) await archive(id);
  });

  it('a lost host: its cells are lost or rolled back per onFailure, others untouched; back, it reconciles', async () => {
    const cells = await Promise.all(spread.map(detail));
    const onH3 = cells.filter((c) => c.host === 'h3');
    const others = cells.filter((c) => c.host !== 'h3');
    expect(onH3.length).toBeGreaterThan(0);
    // And one cell still provisioning there: its service waits for a file.
    const held = await request('held', { host: 'h3' });
    await eventually(
      async () => ((await detail(held)).progress.currentStep === 'services.web.ready' ? true : undefined),
      'the held cell waiting for its service',
    );
    // The machine goes away: its worker and every service process it ran, at once.
    workers.get('h3')?.child.kill('SIGKILL');
    const groups = await h.db.serviceInstance.findMany({
      where: { cellId: { in: onH3.map((c) => c.id) }, pgid: { not: null } },
    });
    for (const { pgid } of groups) if (pgid) process.kill(-pgid, 'SIGKILL');
    const heldGroup = (await h.db.serviceInstance.findFirst({ where: { cellId: held } }))?.pgid;
    if (heldGroup) process.kill(-heldGroup, 'SIGKILL');
    const rollback = (c: CellDetail) => spread.indexOf(c.id) % 3 === 0;
    for (const cell of onH3) {
      const seen = await waitForStatus(h, cell.id, [rollback(cell) ? 'rolling_back' : 'lost'], 60_000);
      expect(seen.failure).toMatchObject({ type: ErrorType.HostLost });
      expect(seen.failure?.message).toContain('host h3 stopped answering');
    }
    const stopped = await waitForStatus(h, held, ['lost'], 60_000);
    expect(stopped.failure).toMatchObject({ type: ErrorType.HostLost, step: 'services' });
    expect(stopped.worktreePath).toBe(path.join(root, 'h3', 'demo', '.cells', held));
    await writeFile(path.join(stopped.worktreePath as string, 'release'), '');
    expect((await listHosts(h.db, GRACE_MS)).find((x) => x.id === 'h3')?.state).toBe('lost');
    for (const cell of others) {
      expect((await detail(cell.id)).status).toBe('ready');
      const response = await fetch(cell.services[0]?.url as string);
      expect(response.status).toBe(200);
    }
    // The host comes back: preserved cells start their services again, rolled-back ones finish.
    await startHost('h3');
    for (const cell of onH3) {
      const after = await waitForStatus(h, cell.id, [rollback(cell) ? 'rolled_back' : 'ready'], 120_000);
      if (rollback(cell)) {
        expect(after.failure?.type).toBe(ErrorType.HostLost);
        expect(after.ports.every((p) => !p.active)).toBe(true);
      } else {
        expect(after.failure).toBeNull();
        const pid = after.services[0]?.pid as number;
        expect(isAlive(pid)).toBe(true);
        const response = await fetch(after.services[0]?.url as string);
        expect(await response.text()).toBe(`hello from ${cell.id}`);
      }
    }
    await eventually(
      async () =>
        (await listHosts(h.db, GRACE_MS)).find((x) => x.id === 'h3')?.state === 'live' ? true : undefined,
      'h3 live again',
      30_000,
    );
  });
});
