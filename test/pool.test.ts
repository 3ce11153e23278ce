import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { simpleGit } from 'simple-git';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupAlive } from '../src/activities/processes.js';
import { Step } from '../src/cells/catalog.js';
import type { CellDetail } from '../src/cells/schema.js';
import { cellDetail } from '../src/cells/views.js';
import { claimSignal, claimUpdate } from '../src/pools/messages.js';
import type { TemplateDetail } from '../src/templates/views.js';
import { createHarness, type Harness, waitForStatus } from './support/harness.js';
import { eventually } from './support/process.js';
import { expectZeroResidue, listening } from './support/residue.js';
import { webService, workspaceFiles } from './support/templates.js';

// Warm pools on the real stack: a dev server, a worker, git, real node servers on real ports.

const pooledTemplate = (size: number, extra: Record<string, unknown> = {}) => ({
  label: 'Pooled web',
  services: { web: webService },
  prompts: ['prompts/role.md'],
  options: { flavour: { type: 'enum', values: ['plain', 'fancy'], default: 'plain' } },
  pool: { size },
  ...extra,
});

const poolOf = async (h: Harness, template: string) => {
  const response = await h.app.inject({ method: 'GET', url: `/templates/${template}?workspace=demo` });
  return (response.json() as TemplateDetail).pool;
};

/** Waits until the pool has `ready` cells ready at the current commit (and none warming). */
const poolReady = (h: Harness, template: string, ready: number) =>
  eventually(async () => {
    const pool = await poolOf(h, template);
    return pool?.ready === ready && pool.warming === 0 ? pool : undefined;
  }, `${ready} ready cells in the pool of ${template}`);

const request = (h: Harness, body: Record<string, unknown>, key?: string) =>
  h.app.inject({
    method: 'POST',
    url: '/cells',
    headers: key ? { 'idempotency-key': key } : {},
    payload: { workspace: 'demo', ...body },
  });

describe('a warm pool serves matching requests', () => {
  let h: Harness;
  beforeAll(async () => {
    // As `hive up`: the API hands a claimed cell over itself (the stale-pool test below: the workflow).
    h = await createHarness('pool', workspaceFiles({ pooled: pooledTemplate(5) }), { handOverHere: true });
  });
  afterAll(() => h?.close());

  it('20 racing requests against a pool of 5: 20 distinct cells, exactly 5 from the pool', async () => {
    await poolReady(h, 'pooled', 5);
    const pooledIds = (
      await h.db.cell.findMany({ where: { poolState: 'pooled', status: 'ready' }, select: { id: true } })
    ).map((c) => c.id);
    // Pool cells are nobody's yet: the list of cells does not show them.
    const listed = (await h.app.inject({ method: 'GET', url: '/cells' })).json().cells as unknown[];
    expect(listed).toHaveLength(0);

    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        request(
          h,
          {
            template: 'pooled',
            brief: `Task number ${i}: add a /ping endpoint`,
            name: `racer-${i}`,
            constraints: [`constraint of racer ${i}`],
          },
          `race-${i}`,
        ),
      ),
    );
    expect(responses.map((r) => r.statusCode)).toEqual(Array(20).fill(202));
    const accepted = responses.map((r) => r.json() as { id: string; status: string });
    expect(new Set(accepted.map((a) => a.id)).size).toBe(20);
    const rows = await h.db.cell.findMany({ where: { id: { in: accepted.map((a) => a.id) } } });
    const claimed = rows.filter((r) => r.poolState === 'claimed');
    expect(claimed).toHaveLength(5);
    expect(claimed.map((c) => c.id).sort()).toEqual([...pooledIds].sort());
    expect(rows.filter((r) => r.poolState === null)).toHaveLength(15);
    // A cell served from the pool is ready when the request is answered.
    for (const a of accepted) {
      if (claimed.some((c) => c.id === a.id)) expect(a.status).toBe('ready');
    }
    // Each request got its own cell: the idempotency key of each is on exactly its cell.
    for (const [i, a] of accepted.entries()) {
      expect(rows.find((r) => r.id === a.id)?.idempotencyKey).toBe(`race-${i}`);
    }
    // The list shows the 20 requests' cells (and no pool cell).
    const all = (await h.app.inject({ method: 'GET', url: '/cells' })).json().cells as Array<{ id: string }>;
    expect(all.map((c) => c.id).sort()).toEqual(accepted.map((a) => a.id).sort());

    // Each claimed cell's workflow takes the claim over from the API (told by a signal, queued in
    // its history before the answer): nothing left for the pool to tell it, and the Temporal UI shows
    // the request's cell a moment after the request had it.
    await eventually(async () => {
      if ((await h.db.cell.count({ where: { poolState: 'claimed', poolReady: { not: null } } })) > 0) return;
      for (const row of claimed) {
        const { memo } = await h.client.workflow.getHandle(row.workflowId).describe();
        if (memo?.pool !== 'claimed') return;
      }
      return true;
    }, 'every claim taken over by its workflow');
    const history = await h.client.workflow.getHandle(`cell-${claimed[0]?.id}`).fetchHistory();
    const signals = history.events?.map((e) => e.workflowExecutionSignaledEventAttributes?.signalName);
    expect(signals).toContain(claimSignal.name);

    // The claimed cells carry their request's identity and brief, nothing of the pool's.
    for (const row of claimed) {
      const i = accepted.findIndex((a) => a.id === row.id);
      await expectOwnIdentity(h, row.id, i);
    }
    // The same key again: the same cell, not a second one.
    const again = await request(
      h,
      {
        template: 'pooled',
        brief: 'Task number 0: add a /ping endpoint',
        name: 'racer-0',
        constraints: ['constraint of racer 0'],
      },
      'race-0',
    );
    expect(again.json().id).toBe(accepted[0]?.id);

    // A claim delivered again (a retried update, the pool's signal) answers at once and hands
    // nothing over twice: one prompt step, the same events.
    const first = claimed[0]?.id ?? '';
    const events = await h.db.cellEvent.count({ where: { cellId: first } });
    const handle = h.client.workflow.getHandle(`cell-${first}`);
    expect(await handle.executeUpdate(claimUpdate, { updateId: 'claimed-again' })).toEqual({ claimed: true });
    await handle.signal(claimSignal);
    expect(await handle.executeUpdate(claimUpdate, { updateId: 'and-again' })).toEqual({ claimed: true });
    expect(await h.db.step.count({ where: { cellId: first, name: Step.prompt } })).toBe(1);
    expect(await h.db.cellEvent.count({ where: { cellId: first } })).toBe(events);

    // The pool refills in the background, with new cells.
    await poolReady(h, 'pooled', 5);
    const pool = await poolOf(h, 'pooled');
    expect(pool).toMatchObject({ size: 5, ready: 5, claimed: 5 });
    const refilled = await h.db.cell.findMany({ where: { poolState: 'pooled' }, select: { id: true } });
    expect(refilled.filter((c) => pooledIds.includes(c.id))).toEqual([]);

    // The cold ones become ready too: requests the pool could not serve are provisioned as always.
    for (const row of rows.filter((r) => r.poolState === null)) await waitForStatus(h, row.id, ['ready']);
  }, 240_000);

  it('a claimed cell archived the moment its request is answered ends archived, whatever its workflow heard first', async () => {
    await poolReady(h, 'pooled', 5);
    const response = await request(h, { template: 'pooled', brief: 'Gone at once' });
    const { id, status } = response.json() as { id: string; status: string };
    expect(status).toBe('ready');
    // Sent at once: it may reach the workflow before the claim's signal does.
    const archived = await h.app.inject({ method: 'DELETE', url: `/cells/${id}` });
    expect(archived.statusCode).toBe(202);
    await waitForStatus(h, id, ['archived']);
    const handle = h.client.workflow.getHandle(`cell-${id}`);
    await handle.result();
    // The late claim turned nothing ready again, and nothing of the cell is left but its record.
    expect((await h.db.cell.findUniqueOrThrow({ where: { id } })).status).toBe('archived');
    await expectZeroResidue(h.db, h.workspace.path, id);
  });

  it('a request that does not match the pool (options, baseRef) is provisioned cold', async () => {
    await poolReady(h, 'pooled', 5);
    const fancy = await request(h, { template: 'pooled', brief: 'fancy', options: { flavour: 'fancy' } });
    const head = (await simpleGit(h.workspace.path).revparse(['HEAD'])).trim();
    const plainAtHead = await request(h, {
      template: 'pooled',
      brief: 'the same commit, named',
      baseRef: head,
      options: { flavour: 'plain' },
    });
    const fancyRow = await h.db.cell.findUniqueOrThrow({ where: { id: fancy.json().id } });
    const namedRow = await h.db.cell.findUniqueOrThrow({ where: { id: plainAtHead.json().id } });
    expect(fancyRow.poolState).toBeNull();
    // Default options given explicitly and the pool's own commit match.
    expect(namedRow.poolState).toBe('claimed');
    expect(namedRow.baseRef).toBe(head);
    await waitForStatus(h, fancyRow.id, ['ready']);
  });

  /** Branch, records, env and prompt of a claimed cell are its own; nothing of its time in a pool is left. */
  async function expectOwnIdentity(h: Harness, id: string, i: number) {
    const cell = (await cellDetail(h.db, id)) as CellDetail;
    expect(cell).toMatchObject({
      id,
      name: `racer-${i}`,
      brief: `Task number ${i}: add a /ping endpoint`,
      status: 'ready',
      pool: 'claimed',
      branch: `cell/${id}`,
      worktreePath: path.join(h.workspace.path, '.cells', id),
      baseRef: 'HEAD',
    });
    const row = await h.db.cell.findUniqueOrThrow({ where: { id } });
    expect(JSON.parse(row.constraints)).toEqual([`constraint of racer ${i}`]);
    expect(row.createdAt.getTime()).toBe(row.claimedAt?.getTime());
    // The prompt was rendered again, with this request's brief and constraints.
    const prompt = await readFile(path.join(cell.worktreePath ?? '', '.hive/prompt.md'), 'utf8');
    expect(prompt).toContain(`Task number ${i}: add a /ping endpoint`);
    expect(prompt).toContain(`- constraint of racer ${i}`);
    expect(prompt).toContain(`cell/${id}`);
    expect(prompt).toContain(`.cells/${id}`);
    expect(cell.prompt?.content).toBe(prompt);
    // The environment and the running service are the cell's.
    const env = await readFile(path.join(cell.worktreePath ?? '', '.hive/env'), 'utf8');
    expect(env).toContain(`HIVE_CELL_ID=${id}\n`);
    expect(env).toContain(`HIVE_BRANCH=cell/${id}\n`);
    const url = cell.services[0]?.url ?? '';
    expect(await (await fetch(url)).text()).toBe(`hello from ${id}`);
    // Its events start with the request: nothing from its time in the pool.
    const events = await h.db.cellEvent.findMany({ where: { cellId: id }, orderBy: { id: 'asc' } });
    expect(JSON.parse(events[0]?.data ?? '{}')).toEqual({ action: 'create', by: 'local' });
    expect(events.every((e) => e.createdAt >= (row.claimedAt ?? new Date()))).toBe(true);
    expect(events.map((e) => e.data).join('\n')).not.toContain('"pool"');
    expect(events.filter((e) => e.type === 'status').map((e) => JSON.parse(e.data).status)).toEqual([
      'provisioning',
      'ready',
    ]);
    // Its workflow shows the brief in the Temporal UI (memo).
    const described = await h.client.workflow.getHandle(cell.workflowId).describe();
    expect(described.memo).toMatchObject({
      brief: `Task number ${i}: add a /ping endpoint`,
      pool: 'claimed',
    });
    // One worktree and one branch per cell of the workspace, each named by a cell that exists.
    const git = simpleGit(h.workspace.path);
    const branches = (await git.branchLocal()).all.filter((b) => b.startsWith('cell/'));
    const known = new Set((await h.db.cell.findMany({ select: { id: true } })).map((c) => c.id));
    for (const branch of branches) expect(known.has(branch.slice('cell/'.length)), branch).toBe(true);
  }
});

describe('stale pool cells are recycled', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness('pool-stale', workspaceFiles({ small: pooledTemplate(2) }));
  });
  afterAll(() => h?.close());

  it('after a commit changing the template, the pool is rebuilt there and the old cells leave nothing', async () => {
    await poolReady(h, 'small', 2);
    const old = await h.db.cell.findMany({
      where: { poolState: 'pooled' },
      include: { services: true, ports: true },
    });
    expect(old).toHaveLength(2);
    const git = simpleGit(h.workspace.path);
    const config = JSON.parse(await readFile(path.join(h.workspace.path, 'hive.config.json'), 'utf8'));
    config.templates.small.env = { GREETING: 'hello' };
    await writeFile(path.join(h.workspace.path, 'hive.config.json'), JSON.stringify(config, null, 2));
    await git.add('.');
    await git.commit('the template changes');
    const head = (await git.revparse(['HEAD'])).trim();

    // A request at once never gets a stale cell: from the rebuilt pool, or cold.
    const response = await request(h, { template: 'small', brief: 'after the commit' });
    const cell = await waitForStatus(h, response.json().id, ['ready']);
    expect(cell.steps.find((s) => s.name === 'validate')?.detail).toMatchObject({ baseCommit: head });
    expect(old.map((c) => c.id)).not.toContain(cell.id);

    await eventually(async () => {
      const pool = await poolOf(h, 'small');
      const rows = await h.db.cell.findMany({ where: { id: { in: old.map((c) => c.id) } } });
      return pool?.ready === 2 && pool.recycling === 0 && rows.length === 0 ? true : undefined;
    }, 'the pool rebuilt at the new commit, the stale cells gone');
    for (const stale of old) {
      await expectZeroResidue(h.db, h.workspace.path, stale.id);
      // Their records are gone with them: what they ran and held, as recorded before, is gone too.
      for (const service of stale.services) expect(await groupAlive(service.pgid ?? 0)).toBe(false);
      for (const port of stale.ports) expect(await listening(port.port)).toBe(false);
    }
    for (const fresh of await h.db.cell.findMany({ where: { poolState: 'pooled' } })) {
      expect(fresh.baseRef).toBe(head);
      const env = await readFile(path.join(h.workspace.path, '.cells', fresh.id, '.hive/env'), 'utf8');
      expect(env).toContain('GREETING=hello');
    }
  }, 180_000);
});
