import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Faults, type Harness, waitForStatus } from './support/harness.js';
import { expectZeroResidue } from './support/residue.js';
import { webService, workspaceFiles } from './support/templates.js';

const app = {
  label: 'App',
  setup: ['echo setup ran > .hive/setup-ran'],
  teardown: ['echo teardown ran'],
  includePatterns: ['.env.local'],
  prompts: ['prompts/role.md'],
  services: { web: webService },
};

async function provision(h: Harness, template: string) {
  const response = await h.app.inject({
    method: 'POST',
    url: '/cells',
    payload: { workspace: 'demo', template, brief: 'break me', onFailure: 'rollback' },
  });
  expect(response.statusCode, response.body).toBe(202);
  const { id, workflowId } = response.json();
  const cell = await waitForStatus(h, id, ['ready', 'rolled_back']);
  // A rolled-back cell's workflow has ended, failed; a ready cell's lives on.
  const outcome =
    cell.status === 'rolled_back'
      ? await h.client.workflow
          .getHandle(workflowId)
          .result()
          .catch((error: unknown) => error)
      : 'running';
  return { id, outcome, cell };
}

async function expectRolledBack(h: Harness, template: string, step: string, type: string | RegExp) {
  const { id, outcome, cell } = await provision(h, template);
  expect(outcome).toBeInstanceOf(WorkflowFailedError);
  expect(cell.status).toBe('rolled_back');
  expect(cell.failure?.step).toBe(step);
  expect(cell.failure?.type).toMatch(type);
  expect(cell.failure?.message).toEqual(expect.any(String));
  // Every compensation that ran was recorded, and none failed.
  const compensations = cell.steps.filter((s) => s.kind === 'compensation');
  expect(
    compensations.every((s) => s.status === 'succeeded'),
    JSON.stringify(compensations),
  ).toBe(true);
  await expectZeroResidue(h.db, h.workspace.path, id);
  return cell;
}

describe('real faults roll back to zero residue', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(
      'faults',
      workspaceFiles({
        app,
        badSetup: { label: 'x', setup: ['echo about to fail', 'exit 3'], services: { web: webService } },
        neverReady: {
          label: 'x',
          services: { web: webService, stuck: { run: 'sleep 30', readyTimeoutMs: 1_500 } },
        },
        crashes: { label: 'x', services: { web: webService, bad: { run: 'echo boom; exit 7', ports: {} } } },
      }),
    );
    await writeFile(path.join(h.workspace.path, '.env.local'), 'SECRET=1\n');
  });
  afterAll(() => h?.close());

  it('a setup command that fails (environment step)', async () => {
    const cell = await expectRolledBack(h, 'badSetup', 'environment', 'SetupFailed');
    expect(cell.failure?.message).toMatch(/exited with code 3/);
    expect(cell.failure?.logTail).toContain('about to fail');
    expect(cell.failure?.hint).toEqual(expect.any(String));
  });

  it('a service that never gets ready (services step) is stopped', async () => {
    const cell = await expectRolledBack(h, 'neverReady', 'services', 'ServiceNotReady');
    expect(cell.failure?.message).toMatch(/stuck not ready after 1500 ms/);
    // Both services had started; both were stopped by their compensations.
    expect(cell.services.map((s) => s.status).sort()).toEqual(['stopped', 'stopped']);
  });

  it('a service that exits reports its exit code and last log lines', async () => {
    const cell = await expectRolledBack(h, 'crashes', 'services', 'ServiceExited');
    expect(cell.failure?.message).toMatch(/bad exited with code 7/);
    expect(cell.failure?.logTail).toContain('boom');
  });
});

describe('a fixed port raced by two cells: one wins, the other rolls back cleanly', () => {
  let h: Harness;
  let port: number;
  beforeAll(async () => {
    port = await getPort();
    h = await createHarness(
      'portrace',
      workspaceFiles({
        fixed: {
          label: 'x',
          // Slow setup: the winner holds the allocation well before its service listens.
          setup: ['sleep 2'],
          services: { web: { ...webService, ports: { primary: port } } },
        },
      }),
    );
  });
  afterAll(() => h?.close());

  it('exactly one cell becomes ready', async () => {
    const [a, b] = await Promise.all([provision(h, 'fixed'), provision(h, 'fixed')]);
    const cells = [a, b];
    const ready = cells.filter((c) => c.cell.status === 'ready');
    const lost = cells.filter((c) => c.cell.status === 'rolled_back');
    expect(ready).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]?.cell.failure?.type).toMatch(/PortAllocated|PortInUse|TemplateInvalid/);
    expect(ready[0]?.cell.ports).toEqual([{ service: 'web', name: 'primary', port, active: true }]);
    const loser = lost[0];
    if (!loser) throw new Error('no loser');
    // The loser's residue is gone; the winner still holds the port (so only check the loser's rows).
    expect(await h.db.portAllocation.count({ where: { cellId: loser.id, activeKey: { not: null } } })).toBe(
      0,
    );
    expect(await h.db.serviceInstance.count({ where: { cellId: loser.id } })).toBe(0);
  });
});

const injected: Array<{
  activity: keyof Faults extends never ? string : keyof Faults;
  when: 'before' | 'after';
  step: string;
}> = [
  { activity: 'validateCell', when: 'before', step: 'validate' },
  { activity: 'createWorktree', when: 'after', step: 'worktree' },
  { activity: 'allocatePorts', when: 'after', step: 'ports' },
  { activity: 'prepareEnvironment', when: 'after', step: 'environment' },
  { activity: 'startService', when: 'after', step: 'services' },
  { activity: 'awaitService', when: 'before', step: 'services' },
  { activity: 'assemblePrompt', when: 'after', step: 'prompt' },
];

describe('an injected fault at every step rolls back to zero residue', () => {
  for (const fault of injected) {
    it(`${fault.when} ${fault.activity} (${fault.step})`, async () => {
      const h = await createHarness(`inject-${fault.activity}`, workspaceFiles({ app }), {
        faults: { [fault.activity]: fault.when } as Faults,
      });
      try {
        await writeFile(path.join(h.workspace.path, '.env.local'), 'SECRET=1\n');
        await expectRolledBack(h, 'app', fault.step, 'InjectedFault');
      } finally {
        await h.close();
      }
    });
  }
});
