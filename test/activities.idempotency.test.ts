import { simpleGit } from 'simple-git';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveEnvironment } from '../src/activities/environment.js';
import { createActivities } from '../src/activities/index.js';
import { groupAlive } from '../src/activities/processes.js';
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

describe('activities converge when run twice', () => {
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
