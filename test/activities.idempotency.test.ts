import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import getPort from 'get-port';
import { simpleGit } from 'simple-git';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../src/activities/index.js';
import { groupAlive } from '../src/activities/processes.js';
import { resolveEnvironment } from '../src/activities/resolveEnvironment.js';
import { noteSpawn } from '../src/activities/spawnNotes.js';
import { metaPath } from '../src/activities/worktree.js';
import { newCellId } from '../src/cells/ids.js';
import type { CellPlan } from '../src/cells/plan.js';
import { commitWork } from './support/gitRepo.js';
import { createHarness, type Harness } from './support/harness.js';
import { expectZeroResidue } from './support/residue.js';
import { webService, workspaceFiles } from './support/templates.js';

// Temporal may run an activity twice (a worker crash after the work, before the result reached the
// server). These run the real activities twice, on real git, ports and processes, and check that
// the second run converges on the first one's result instead of duplicating it.

let h: Harness;
let activities: ReturnType<typeof createActivities>;
let plan: CellPlan;

/** A cell row as POST /cells would have written it, and its plan from the real validate activity. */
async function newPlan(): Promise<CellPlan> {
  const id = newCellId();
  await h.db.cell.create({
    data: {
      id,
      name: id,
      workspaceId: 'demo',
      templateId: 'web',
      status: 'provisioning',
      workflowId: `cell-${id}`,
      brief: 'x',
    },
  });
  return activities.validateCell({ cellId: id });
}

beforeAll(async () => {
  h = await createHarness(
    'idempotency',
    workspaceFiles({ web: { label: 'Web', services: { web: webService } } }),
  );
  activities = createActivities({
    db: h.db,
    workspaces: [h.workspace],
    configs: h.configs,
    host: 'idempotency-host',
  });
  plan = await newPlan();
});
afterAll(() => h?.close());

describe('a port the kernel picks', () => {
  it('is never one promised to a cell on another host (hosts may share a machine)', async () => {
    const mine = await newPlan();
    expect(Object.values(mine.services[0]?.ports ?? {})).toContain('any');
    const [low = 0, high = 0] = (await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8'))
      .trim()
      .split(/\s+/)
      .map(Number);
    // Every port the kernel could offer is promised to a cell on another host whose service may not
    // listen yet: none may be given to this cell.
    const theirs = await newPlan();
    const promised = Array.from({ length: high - low + 1 }, (_, i) => low + i);
    for (let at = 0; at < promised.length; at += 2_000) {
      await h.db.portAllocation.createMany({
        data: promised.slice(at, at + 2_000).map((port) => ({
          id: `x-${port}`,
          cellId: theirs.cellId,
          service: 'web',
          name: `p${port}`,
          host: 'elsewhere',
          port,
          activeKey: `elsewhere:${port}`,
        })),
      });
    }
    await expect(activities.allocatePorts(mine)).rejects.toThrow(/already allocated/);
    await h.db.portAllocation.deleteMany({ where: { host: 'elsewhere' } });
    const [port] = await activities.allocatePorts(mine);
    expect(port?.port).toBeGreaterThanOrEqual(low);
    await activities.releasePorts(mine);
  });
});

describe('a fixed port', () => {
  it('promised to another cell on this host is refused by the unique key, and none of the request is kept', async () => {
    const [theirs, mine] = [await newPlan(), await newPlan()];
    const port = await getPort();
    const fixed = (p: CellPlan): CellPlan => ({
      ...p,
      services: p.services.map((s) => ({ ...s, ports: { [Object.keys(s.ports)[0] ?? 'http']: port } })),
    });
    expect((await activities.allocatePorts(fixed(theirs)))[0]?.port).toBe(port);
    // Free on the host (nothing listens yet), so only the record can refuse it.
    await expect(activities.allocatePorts(fixed(mine))).rejects.toThrow(/allocated to another cell/);
    expect(await h.db.portAllocation.count({ where: { cellId: mine.cellId } })).toBe(0);
    await activities.releasePorts(theirs);
    expect((await activities.allocatePorts(fixed(mine)))[0]?.port).toBe(port);
    await activities.releasePorts(mine);
  });
});

describe('activities converge when run twice', () => {
  it('a status written twice is one transition: its fields written again, one event', async () => {
    const { cellId } = await newPlan();
    const statusEvents = async () =>
      (await h.db.cellEvent.findMany({ where: { cellId, type: 'status' }, orderBy: { id: 'asc' } })).map(
        (e) => JSON.parse(e.data) as { status: string; failure?: { step: string } },
      );
    const failure = { step: 'services', type: 'ServiceExited', message: 'web exited 1', hint: 'see its log' };
    await activities.setCellStatus({ cellId, status: 'failed', failure });
    await activities.setCellStatus({ cellId, status: 'failed', failure });
    const failed = await h.db.cell.findUniqueOrThrow({ where: { id: cellId } });
    expect(failed.status).toBe('failed');
    expect(JSON.parse(failed.failure ?? 'null')).toMatchObject({ step: 'services' });
    await activities.setCellStatus({ cellId, status: 'ready' });
    await activities.setCellStatus({ cellId, status: 'ready' });
    const ready = await h.db.cell.findUniqueOrThrow({ where: { id: cellId } });
    expect(ready).toMatchObject({ status: 'ready', failure: null });
    expect(ready.readyAt).toBeInstanceOf(Date);
    expect(ready.updatedAt.getTime()).toBeGreaterThanOrEqual(failed.updatedAt.getTime());
    expect(await statusEvents()).toEqual([{ status: 'failed', failure }, { status: 'ready' }]);
    await expect(activities.setCellStatus({ cellId: 'no-such-cell', status: 'ready' })).rejects.toThrow(
      /no cell/,
    );
  });

  it('worktree, ports, environment and services adopt what the first run made; compensations undo it once', async () => {
    const first = await activities.createWorktree(plan);
    const second = await activities.createWorktree(plan);
    expect(second).toEqual(first);

    const ports = await activities.allocatePorts(plan);
    expect(await activities.allocatePorts(plan)).toEqual(ports);
    expect(await h.db.portAllocation.count({ where: { cellId: plan.cellId } })).toBe(1);

    const env = { ...resolveEnvironment(plan, ports), envFile: `${plan.worktreePath}/.hive/env` };
    const service = plan.services[0];
    if (!service) throw new Error('no service');
    const call = { plan, env, ports, service };
    const started = await activities.startService(call);
    const again = await activities.startService(call);
    expect(again).toEqual({ pid: started.pid, adopted: true });
    expect(await h.db.serviceInstance.count({ where: { cellId: plan.cellId } })).toBe(1);
    expect(await groupAlive(started.pid)).toBe(true);

    // A step's attempt and status are recorded by the activity itself.
    const step = await h.db.step.findFirstOrThrow({
      where: { cellId: plan.cellId, name: 'worktree', kind: 'forward' },
    });
    expect(step).toMatchObject({ status: 'succeeded', attempt: 1 });

    // Compensations are idempotent too: twice in a row, the second finds nothing left to do.
    expect(await activities.stopService(call)).toEqual({ stopped: true });
    await activities.stopService(call);
    expect(await activities.releasePorts(plan)).toEqual({ released: 1 });
    expect(await activities.releasePorts(plan)).toEqual({ released: 0 });
    await activities.removeWorktree(plan);
    expect(await activities.removeWorktree(plan)).toMatchObject({ removed: true, branchKept: false });
    await expectZeroResidue(h.db, h.workspace.path, plan.cellId);
  });

  it('a service process an attempt spawned but never recorded (its worker killed in between) is ended: by the next start, by the compensation, and at the latest with the worktree', async () => {
    const p = await newPlan();
    await activities.createWorktree(p);
    const ports = await activities.allocatePorts(p);
    const env = { ...resolveEnvironment(p, ports), envFile: `${p.worktreePath}/.hive/env` };
    const service = p.services[0];
    if (!service) throw new Error('no service');
    const call = { plan: p, env, ports, service };
    /** What a worker killed with -9 right after spawning leaves: the note, and a process no row names. */
    const leftover = async (note: string) => {
      const child = spawn('/bin/sh', ['-c', 'sleep 300'], {
        cwd: p.worktreePath,
        env: { ...process.env, ...(await noteSpawn(note)) },
        detached: true,
        stdio: 'ignore',
      });
      child.unref();
      if (!child.pid) throw new Error('not spawned');
      return child.pid;
    };
    const runNote = metaPath(p, `service-${service.name}.pid`);

    const first = await leftover(runNote);
    expect(await h.db.serviceInstance.count({ where: { cellId: p.cellId } })).toBe(0);
    const started = await activities.startService(call);
    expect(started.adopted).toBe(false);
    expect(await groupAlive(first)).toBe(false);
    expect(await groupAlive(started.pid)).toBe(true);

    // Killed again between spawning and recording, this time during a restart: the row names the
    // old process, which is gone; the compensation ends the unrecorded one as well.
    await activities.stopService(call);
    const second = await leftover(runNote);
    expect(await activities.stopService(call)).toEqual({ stopped: true });
    expect(await groupAlive(second)).toBe(false);

    // Whatever the cell spawned, recorded or not, does not outlive its worktree.
    const stray = await leftover(metaPath(p, 'setup.pid'));
    await activities.releasePorts(p);
    await activities.removeWorktree(p);
    expect(await groupAlive(stray)).toBe(false);
    await expectZeroResidue(h.db, h.workspace.path, p.cellId);
  });

  it('a run killed between making the branch and the folder leaves a branch the next run takes up', async () => {
    const p = await newPlan();
    // What `git worktree add -b` leaves when killed after the branch, before the checkout: the
    // branch, and a registration whose folder is gone.
    await simpleGit(h.workspace.path).raw(['worktree', 'add', '-b', p.branch, p.worktreePath, p.baseCommit]);
    await rm(p.worktreePath, { recursive: true, force: true });
    const made = await activities.createWorktree(p);
    expect(made).toMatchObject({ worktreePath: p.worktreePath, branch: p.branch, method: 'checkout' });
    expect((await simpleGit(p.worktreePath).revparse(['--abbrev-ref', 'HEAD'])).trim()).toBe(p.branch);
    expect(await activities.createWorktree(p)).toEqual(made);
  });

  it('a worktree whose branch holds commits is removed, but the branch is kept', async () => {
    const p = await newPlan();
    const id = p.cellId;
    await activities.createWorktree(p);
    await commitWork(p.worktreePath);
    expect(await activities.removeWorktree(p)).toEqual({
      removed: true,
      branchKept: true,
      commits: 1,
      savedTo: null,
    });
    expect((await simpleGit(h.workspace.path).branchLocal()).all).toContain(`cell/${id}`);
  });
});
