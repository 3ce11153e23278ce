import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { simpleGit } from 'simple-git';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Activities } from '../src/activities/index.js';
import { groupAlive } from '../src/activities/processes.js';
import { cellDetail } from '../src/cells/views.js';
import { createHarness, type Faults, type Harness, waitForStatus } from './support/harness.js';
import { eventually } from './support/process.js';
import { expectZeroResidue, listening } from './support/residue.js';
import { webService, workspaceFiles } from './support/templates.js';

const sickly = `const { existsSync } = require('node:fs');
require('node:http')
  .createServer((req, res) => {
    res.statusCode = existsSync('.hive/sick') ? 503 : 200;
    res.end();
  })
  .listen(Number(process.env.PORT), '127.0.0.1');
`;

const templates = {
  web: { label: 'Web', services: { web: webService } },
  // Fails at the environment step until someone creates .hive/fixed in the worktree.
  needsFix: {
    label: 'Needs a fix',
    setup: ['test -f .hive/fixed || { echo "create .hive/fixed to proceed"; exit 3; }'],
    services: { web: webService },
  },
  // Healthy until .hive/sick exists in its worktree; then /health answers 503.
  sickly: {
    label: 'Sickly',
    services: {
      web: {
        run: 'node sickly.js',
        readiness: { type: 'http', path: '/health', periodMs: 100, failureThreshold: 3 },
        readyTimeoutMs: 3_000,
        restartBackoffMs: 200,
        maxRestarts: 20,
      },
    },
  },
  slowSetup: {
    label: 'Slow setup',
    setup: ['sleep 30 && touch .hive/finished'],
    services: { web: webService },
  },
  slowReady: {
    label: 'Slow readiness',
    services: {
      web: webService,
      late: { run: 'sleep 60', readiness: { type: 'exec', command: 'false' }, readyTimeoutMs: 60_000 },
    },
  },
};

let h: Harness;
beforeAll(async () => {
  h = await createHarness(
    'lifecycle',
    { ...workspaceFiles(templates), 'sickly.js': sickly },
    { preserveFailedForMs: 60_000 },
  );
});
afterAll(() => h?.close());

async function create(template: string, extra: object = {}, headers: Record<string, string> = {}) {
  const response = await h.app.inject({
    method: 'POST',
    url: '/cells',
    headers,
    payload: { workspace: 'demo', template, brief: 'lifecycle', ...extra },
  });
  expect(response.statusCode, response.body).toBe(202);
  return response.json() as { id: string; workflowId: string };
}

const post = (url: string) => h.app.inject({ method: 'POST', url });

describe('cancel', () => {
  it('during the environment step: the running setup command is killed, then rollback → cancelled', async () => {
    const { id } = await create('slowSetup');
    await eventually(async () => {
      const cell = await cellDetail(h.db, id);
      return cell?.steps.find((s) => s.name === 'environment' && s.status === 'running') ? cell : undefined;
    }, 'environment step running');
    expect((await post(`/cells/${id}/cancel`)).statusCode).toBe(202);
    const cell = await waitForStatus(h, id, ['cancelled']);
    expect(cell.steps.find((s) => s.name === 'environment')?.status).toBe('failed');
    await expectZeroResidue(h.db, h.workspace.path, id);
  });

  it('during the services step: the readiness wait ends at once, services are stopped → cancelled', async () => {
    const { id } = await create('slowReady');
    await eventually(async () => {
      const cell = await cellDetail(h.db, id);
      return cell?.steps.find((s) => s.name === 'services.late.ready' && s.status === 'running')
        ? cell
        : undefined;
    }, 'waiting for late readiness');
    expect((await post(`/cells/${id}/cancel`)).statusCode).toBe(202);
    const cell = await waitForStatus(h, id, ['cancelled']);
    expect(cell.services.every((s) => s.status === 'stopped')).toBe(true);
    await expectZeroResidue(h.db, h.workspace.path, id);
  });
});

describe('cancel during each step', () => {
  // The slowness fault delays the real activity, so the cancel lands while it runs.
  const steps: Array<[string, keyof Activities]> = [
    ['validate', 'validateCell'],
    ['worktree', 'createWorktree'],
    ['ports', 'allocatePorts'],
    ['prompt', 'assemblePrompt'],
  ];
  for (const [step, activity] of steps) {
    it(`${step} → cancelled with zero residue`, async () => {
      const slow = await createHarness(`cancel-${step}`, workspaceFiles(templates), {
        faults: { [activity]: 'slow' } as Faults,
      });
      try {
        const response = await slow.app.inject({
          method: 'POST',
          url: '/cells',
          payload: { workspace: 'demo', template: 'web', brief: 'cancel me' },
        });
        const { id, workflowId } = response.json();
        await eventually(async () => {
          // The prompt runs as a local activity on a host alone (Patch.localSteps), which no pending
          // activity shows: it runs once the services are ready.
          if (step === 'prompt') {
            const cell = await cellDetail(slow.db, id);
            const ready = cell?.steps.find((s) => s.name === 'services.web.ready');
            return ready?.status === 'succeeded' ? true : undefined;
          }
          const pending =
            (await slow.client.workflow.getHandle(workflowId).describe()).raw.pendingActivities ?? [];
          return pending.some((a) => a.activityType?.name === activity) ? true : undefined;
        }, `${activity} running`);
        expect((await slow.app.inject({ method: 'POST', url: `/cells/${id}/cancel` })).statusCode).toBe(202);
        const cell = await waitForStatus(slow, id, ['cancelled']);
        expect(
          cell.steps.filter((s) => s.kind === 'compensation').every((s) => s.status === 'succeeded'),
        ).toBe(true);
        await expectZeroResidue(slow.db, slow.workspace.path, id);
      } finally {
        await slow.close();
      }
    });
  }
});

describe('preserve, retry, and roll back by itself', () => {
  it('a failed cell is preserved for inspection; retry after the fix resumes at the failed step', async () => {
    const { id } = await create('needsFix');
    const failed = await waitForStatus(h, id, ['failed']);
    expect(failed.failure).toMatchObject({ step: 'environment', type: 'SetupFailed' });
    expect(failed.failure?.logTail).toContain('create .hive/fixed to proceed');
    expect(failed.actions).toEqual(['retry', 'cancel']);
    // Kept: worktree, logs, port allocations. Stopped: nothing had started yet, nothing runs.
    const worktree = failed.worktreePath ?? '';
    expect(failed.ports.every((p) => p.active)).toBe(true);
    expect((await simpleGit(worktree).revparse(['--abbrev-ref', 'HEAD'])).trim()).toBe(`cell/${id}`);
    const before = Object.fromEntries(failed.steps.map((s) => [s.name, s.startedAt]));

    await writeFile(path.join(worktree, '.hive', 'fixed'), 'yes\n');
    expect((await post(`/cells/${id}/retry`)).statusCode).toBe(202);
    const ready = await waitForStatus(h, id, ['ready']);
    const after = Object.fromEntries(ready.steps.map((s) => [s.name, s]));
    // Steps that had succeeded were not run again: same start, attempt 1.
    for (const name of ['validate', 'worktree', 'ports']) {
      expect(after[name]?.startedAt, name).toBe(before[name]);
      expect(after[name]?.attempt).toBe(1);
    }
    expect(after.environment?.startedAt).not.toBe(before.environment);
    expect(after.environment?.status).toBe('succeeded');
    expect(ready.failure).toBeNull();
  });

  it('cancel on a preserved failed cell rolls it back', async () => {
    const { id } = await create('needsFix');
    await waitForStatus(h, id, ['failed']);
    expect((await post(`/cells/${id}/cancel`)).statusCode).toBe(202);
    await waitForStatus(h, id, ['cancelled']);
    await expectZeroResidue(h.db, h.workspace.path, id);
  });

  it('a preserved failed cell nobody acts on rolls back by itself after the configured time', async () => {
    const quick = await createHarness('preserve-timeout', workspaceFiles(templates), {
      preserveFailedForMs: 1_500,
    });
    try {
      const response = await quick.app.inject({
        method: 'POST',
        url: '/cells',
        payload: { workspace: 'demo', template: 'needsFix', brief: 'x' },
      });
      const { id } = response.json();
      await waitForStatus(quick, id, ['failed']);
      const cell = await waitForStatus(quick, id, ['rolled_back']);
      expect(cell.failure?.step).toBe('environment');
      await expectZeroResidue(quick.db, quick.workspace.path, id);
    } finally {
      await quick.close();
    }
  });
});

describe('requests in the wrong state', () => {
  it('answers 409 with the current state and what it allows, and 404 for unknown cells', async () => {
    const { id } = await create('web');
    await waitForStatus(h, id, ['ready']);
    const retry = await post(`/cells/${id}/retry`);
    expect(retry.statusCode).toBe(409);
    expect(retry.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(retry.json()).toMatchObject({ currentState: 'ready', allowedActions: ['archive', 'service'] });
    expect(retry.json().detail).toMatch(/is ready and cannot be retried/);
    expect((await post(`/cells/${id}/cancel`)).statusCode).toBe(409);
    expect((await post('/cells/c00000000000/cancel')).statusCode).toBe(404);
    expect((await post(`/cells/${id}/services/nope/restart`)).statusCode).toBe(404);

    expect((await h.app.inject({ method: 'DELETE', url: `/cells/${id}` })).statusCode).toBe(202);
    await waitForStatus(h, id, ['archived']);
    const again = await h.app.inject({ method: 'DELETE', url: `/cells/${id}` });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ currentState: 'archived', allowedActions: ['restore'] });
    expect((await post(`/cells/${id}/cancel`)).statusCode).toBe(409);
  });
});

describe('archive', () => {
  it('a clean cell archives to zero residue', async () => {
    const { id } = await create('web');
    await waitForStatus(h, id, ['ready']);
    expect((await h.app.inject({ method: 'DELETE', url: `/cells/${id}` })).statusCode).toBe(202);
    await waitForStatus(h, id, ['archived']);
    await expectZeroResidue(h.db, h.workspace.path, id);
  });
});

describe('services after ready', () => {
  it('a service killed after ready is restarted by its policy and the cell is ready again', async () => {
    const { id } = await create('web');
    const cell = await waitForStatus(h, id, ['ready']);
    const before = cell.services[0];
    if (!before?.pid) throw new Error('no pid');
    process.kill(-before.pid, 'SIGKILL');
    const restarted = await eventually(
      async () => {
        const c = await cellDetail(h.db, id);
        const s = c?.services[0];
        return c?.status === 'ready' && s?.status === 'ready' && s.pid !== before.pid ? c : undefined;
      },
      'service restarted',
      60_000,
    );
    expect(await groupAlive(restarted.services[0]?.pid ?? 0)).toBe(true);
    expect(await listening(restarted.services[0]?.port ?? 0)).toBe(true);
  });

  it('a readiness probe failing after ready is reported and handled by the restart policy', async () => {
    const { id } = await create('sickly');
    const cell = await waitForStatus(h, id, ['ready']);
    const sick = path.join(cell.worktreePath ?? '', '.hive', 'sick');
    const pid = cell.services[0]?.pid;
    await writeFile(sick, 'yes\n');
    // Unhealthy → degraded → restarted (and unhealthy again while the cause remains).
    await eventually(async () => {
      const c = await cellDetail(h.db, id);
      return c?.status === 'degraded' && c.services[0]?.pid !== pid ? c : undefined;
    }, 'degraded and restarted');
    await rm(sick);
    const healed = await eventually(
      async () => {
        const c = await cellDetail(h.db, id);
        return c?.status === 'ready' && c.services[0]?.status === 'ready' ? c : undefined;
      },
      'ready again',
      60_000,
    );
    expect(await listening(healed.services[0]?.port ?? 0)).toBe(true);
  });

  it('stop, start and restart one service on request', async () => {
    const { id } = await create('web');
    const cell = await waitForStatus(h, id, ['ready']);
    const port = cell.services[0]?.port ?? 0;
    expect((await post(`/cells/${id}/services/web/stop`)).statusCode).toBe(202);
    await eventually(
      async () => ((await cellDetail(h.db, id))?.services[0]?.status === 'stopped' ? true : undefined),
      'stopped',
    );
    expect(await listening(port)).toBe(false);
    // A person's stop is not a crash: supervision leaves it alone, the cell stays ready.
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await cellDetail(h.db, id))?.status).toBe('ready');
    expect((await post(`/cells/${id}/services/web/start`)).statusCode).toBe(202);
    await eventually(
      async () => ((await cellDetail(h.db, id))?.services[0]?.status === 'ready' ? true : undefined),
      'ready',
    );
    expect(await listening(port)).toBe(true);
    const pid = (await cellDetail(h.db, id))?.services[0]?.pid;
    expect((await post(`/cells/${id}/services/web/restart`)).statusCode).toBe(202);
    await eventually(async () => {
      const s = (await cellDetail(h.db, id))?.services[0];
      return s?.status === 'ready' && s.pid !== pid ? s : undefined;
    }, 'restarted');
  });
});

describe('continue-as-new', () => {
  it('a live cell keeps its history bounded: later runs still obey commands and archive', async () => {
    const small = await createHarness('continue-as-new', workspaceFiles(templates), { historyLimit: 30 });
    try {
      const response = await small.app.inject({
        method: 'POST',
        url: '/cells',
        payload: { workspace: 'demo', template: 'web', brief: 'long life' },
      });
      const { id, workflowId } = response.json();
      await waitForStatus(small, id, ['ready']);
      const handle = small.client.workflow.getHandle(workflowId);
      const first = (await handle.describe()).raw.workflowExecutionInfo?.firstRunId;
      const pid = (await cellDetail(small.db, id))?.services[0]?.pid;
      expect(
        (await small.app.inject({ method: 'POST', url: `/cells/${id}/services/web/restart` })).statusCode,
      ).toBe(202);
      await eventually(async () => {
        const s = (await cellDetail(small.db, id))?.services[0];
        return s?.status === 'ready' && s.pid !== pid ? true : undefined;
      }, 'restarted in a later run');
      const later = await eventually(async () => {
        const d = await handle.describe();
        return d.runId !== first ? d : undefined;
      }, 'a new run');
      expect(later.historyLength).toBeLessThan(200);
      expect((await small.app.inject({ method: 'DELETE', url: `/cells/${id}` })).statusCode).toBe(202);
      await waitForStatus(small, id, ['archived']);
      await expectZeroResidue(small.db, small.workspace.path, id);
    } finally {
      await small.close();
    }
  });
});

describe('Idempotency-Key', () => {
  it('two racing identical requests create one cell and one workflow', async () => {
    const headers = { 'idempotency-key': `key-${Date.now()}` };
    const [a, b] = await Promise.all([create('web', {}, headers), create('web', {}, headers)]);
    expect(a.id).toBe(b.id);
    expect(await h.db.cell.count({ where: { idempotencyKey: headers['idempotency-key'] } })).toBe(1);
    const started = await h.client.workflow.count(`TaskQueue="${h.taskQueue}" AND CellId="${a.id}"`);
    expect(started.count).toBe(1);
    const third = await create('web', {}, headers);
    expect(third.id).toBe(a.id);
  });

  it('the same key with another body (even one that would be invalid) is a 422 that changes nothing', async () => {
    const headers = { 'idempotency-key': `key-other-${Date.now()}` };
    const first = await create('web', {}, headers);
    const cells = await h.db.cell.count();
    for (const payload of [
      { workspace: 'demo', template: 'web', brief: 'a different brief' },
      { workspace: 'demo', template: 'no-such-template', brief: 'lifecycle' },
    ]) {
      const reused = await h.app.inject({ method: 'POST', url: '/cells', headers, payload });
      expect(reused.statusCode, reused.body).toBe(422);
      expect(reused.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(reused.json()).toMatchObject({ type: expect.stringMatching(/idempotency-key-reused$/) });
      expect(reused.json().detail).toContain(first.id);
    }
    expect(await h.db.cell.count()).toBe(cells);
  });
});
