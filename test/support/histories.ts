import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { simpleGit } from 'simple-git';
import { expect } from 'vitest';
import { superviseSignal } from '../../src/workflows/control.js';
import { requestCell } from './cells.js';
import { createHarness, type Harness, waitForStatus } from './harness.js';
import { startHostWorker } from './hostWorker.js';
import { eventually } from './process.js';
import { webService, workspaceFiles } from './templates.js';

// The replay corpus (test/histories/, see its README.md): one recorded history per feature of the
// cell's workflow, replayed by test/replay.test.ts on the current workflow bundle. Each scenario
// below drives a real cell (real worker, dev server, git, processes) through its feature and names
// the workflow runs to keep. Recorded only on request:
//   RECORD_HISTORIES=1 npx vitest run test/replay.test.ts --project sqlite          (all of them)
//   RECORD_HISTORIES=cancel,archive-restore npx vitest run test/replay.test.ts --project sqlite
// A new feature (or a patch) adds its scenario here and commits what it records.

export const historiesDir = path.join(import.meta.dirname, '..', 'histories');

/** A workflow run to keep: the cell's workflow id, and the run (default: the latest). */
export interface RecordedRun {
  workflowId: string;
  runId?: string;
}

export interface Scenario {
  /** What the history shows, for the README and the test names. */
  shows: string;
  /** Harness options (a scenario may need its own history limit or preserve window). */
  harness?: Parameters<typeof createHarness>[2];
  templates: Record<string, unknown>;
  /** Drives one cell through the feature; returns the runs to record, in order. */
  run(h: Harness): Promise<RecordedRun[]>;
}

const post = (h: Harness, url: string) => h.app.inject({ method: 'POST', url });
const archive = async (h: Harness, id: string) => {
  expect((await h.app.inject({ method: 'DELETE', url: `/cells/${id}` })).statusCode).toBe(202);
  await waitForStatus(h, id, ['archived']);
};
/** Restarts the cell's `web` service on request; returns once a new process is ready. */
const restartWeb = async (h: Harness, id: string) => {
  const pid = (await h.db.serviceInstance.findFirstOrThrow({ where: { cellId: id } })).pid;
  expect((await post(h, `/cells/${id}/services/web/restart`)).statusCode).toBe(202);
  await eventually(async () => {
    const svc = await h.db.serviceInstance.findFirst({ where: { cellId: id } });
    return svc?.status === 'ready' && svc.pid !== pid ? true : undefined;
  }, 'restarted');
};
const workflowOf = async (h: Harness, id: string) =>
  (await h.db.cell.findUniqueOrThrow({ where: { id } })).workflowId;
const runIdOf = async (h: Harness, workflowId: string) =>
  (await h.client.workflow.getHandle(workflowId).describe()).runId;

const web = { label: 'Web', services: { web: webService } };
const brokenSetup = { label: 'Broken setup', setup: ['exit 3'], services: { web: webService } };
const slowSetup = { label: 'Slow setup', setup: ['sleep 30'], services: { web: webService } };

export const scenarios: Record<string, Scenario> = {
  provision: {
    shows: 'provision → ready, a service restarted on request, archive',
    templates: { web },
    async run(h) {
      const id = await requestCell(h, 'web');
      await waitForStatus(h, id, ['ready']);
      await restartWeb(h, id);
      await archive(h, id);
      return [{ workflowId: await workflowOf(h, id) }];
    },
  },
  'retry-replan': {
    shows: 'setup fails → preserved; the config fixed and committed → retry re-plans → ready → archive',
    templates: { fixme: brokenSetup },
    async run(h) {
      const id = await requestCell(h, 'fixme');
      await waitForStatus(h, id, ['failed']);
      const templates = { fixme: { ...brokenSetup, setup: ['echo fixed > .hive/fixed'] } };
      await writeFile(path.join(h.workspace.path, 'hive.config.json'), JSON.stringify({ templates }));
      await simpleGit(h.workspace.path).add('hive.config.json');
      await simpleGit(h.workspace.path).commit('fix setup');
      expect((await post(h, `/cells/${id}/retry`)).statusCode).toBe(202);
      await waitForStatus(h, id, ['ready']);
      await archive(h, id);
      return [{ workflowId: await workflowOf(h, id) }];
    },
  },
  cancel: {
    shows: 'cancel while the environment step runs → its setup killed, rolled back → cancelled',
    templates: { slow: slowSetup },
    async run(h) {
      const id = await requestCell(h, 'slow');
      await eventually(async () => {
        const step = await h.db.step.findFirst({ where: { cellId: id, name: 'environment' } });
        return step ? true : undefined;
      }, 'the environment step runs');
      expect((await post(h, `/cells/${id}/cancel`)).statusCode).toBe(202);
      await waitForStatus(h, id, ['cancelled']);
      return [{ workflowId: await workflowOf(h, id) }];
    },
  },
  'preserve-rollback': {
    shows: 'setup fails → preserved; nobody acts within the preserve window → rolled back by itself',
    harness: { preserveFailedForMs: 3_000 },
    templates: { broken: brokenSetup },
    async run(h) {
      const id = await requestCell(h, 'broken');
      await waitForStatus(h, id, ['failed']);
      await waitForStatus(h, id, ['rolled_back']);
      return [{ workflowId: await workflowOf(h, id) }];
    },
  },
  'archive-restore': {
    shows: 'ready → archive (work saved) → restore (a new run, restore: true) → ready → archive',
    templates: { web },
    async run(h) {
      const id = await requestCell(h, 'web');
      const ready = await waitForStatus(h, id, ['ready']);
      await writeFile(path.join(ready.worktreePath ?? '', 'work.txt'), 'a person was here\n');
      await archive(h, id);
      const workflowId = await workflowOf(h, id);
      const first = await runIdOf(h, workflowId);
      // A restore starts a new run of the same workflow id: once the archived run has closed.
      await h.client.workflow.getHandle(workflowId, first, { followRuns: false }).result();
      const restore = await post(h, `/cells/${id}/restore`);
      expect(restore.statusCode, restore.body).toBe(202);
      await waitForStatus(h, id, ['ready']);
      await archive(h, id);
      return [
        { workflowId, runId: first },
        { workflowId, runId: await runIdOf(h, workflowId) },
      ];
    },
  },
  'continue-as-new': {
    shows:
      'a live cell past its history limit continues as new; the later run restarts a service and archives',
    harness: { historyLimit: 30 },
    templates: { web },
    async run(h) {
      const id = await requestCell(h, 'web');
      await waitForStatus(h, id, ['ready']);
      const workflowId = await workflowOf(h, id);
      const handle = h.client.workflow.getHandle(workflowId);
      const first = (await handle.describe()).runId;
      await restartWeb(h, id);
      await eventually(
        async () => ((await handle.describe()).runId !== first ? true : undefined),
        'a new run',
      );
      await archive(h, id);
      return [
        { workflowId, runId: first },
        { workflowId, runId: await runIdOf(h, workflowId) },
      ];
    },
  },
  'host-loss': {
    shows: "the cell's host stops heartbeating → lost; the host back → services resumed → ready → archive",
    harness: { worker: false },
    templates: { web },
    async run(h) {
      // Two hosts with their own queues; h2 runs the workflows (and the host monitor) while h1 is gone.
      const h1 = await startHostWorker(h, 'h1');
      const h2 = await startHostWorker(h, 'h2');
      try {
        const response = await h.app.inject({
          method: 'POST',
          url: '/cells',
          payload: { workspace: 'demo', template: 'web', brief: 'on h1', host: 'h1' },
        });
        expect(response.statusCode, response.body).toBe(202);
        const { id } = response.json();
        await waitForStatus(h, id, ['ready']);
        await h1.shutdown();
        await waitForStatus(h, id, ['lost'], 30_000);
        const back = await startHostWorker(h, 'h1');
        await waitForStatus(h, id, ['ready']);
        await archive(h, id);
        await back.shutdown();
        return [{ workflowId: await workflowOf(h, id) }];
      } finally {
        await h2.shutdown();
      }
    },
  },
  'host-supervision': {
    shows:
      "the host's supervisor reports a killed service → restarted by its policy; a worker asks for the watch again; a restart on request; archive",
    templates: { web },
    async run(h) {
      const id = await requestCell(h, 'web');
      await waitForStatus(h, id, ['ready']);
      const pgid = (await h.db.serviceInstance.findFirstOrThrow({ where: { cellId: id } })).pgid ?? 0;
      process.kill(-pgid, 'SIGKILL');
      await eventually(async () => {
        const svc = await h.db.serviceInstance.findFirst({ where: { cellId: id } });
        return svc?.status === 'ready' && svc.pgid !== pgid ? true : undefined;
      }, 'restarted by its policy');
      const workflowId = await workflowOf(h, id);
      // What a worker of the cell's host sends when it starts (src/supervision/tell.ts).
      await h.client.workflow.getHandle(workflowId).signal(superviseSignal);
      await restartWeb(h, id);
      await archive(h, id);
      return [{ workflowId }];
    },
  },
  'parallel-steps': {
    shows:
      'worktree ‖ ports: the worktree step fails while ports are allocated beside it → preserved, naming worktree; retry → ready → archive (Patch.parallelSteps)',
    harness: { faults: { createWorktree: 'once' } },
    templates: { web },
    async run(h) {
      const id = await requestCell(h, 'web');
      const failed = await waitForStatus(h, id, ['failed']);
      expect(failed.failure?.step).toBe('worktree');
      expect(await h.db.portAllocation.count({ where: { cellId: id, activeKey: { not: null } } })).toBe(1);
      expect((await post(h, `/cells/${id}/retry`)).statusCode).toBe(202);
      await waitForStatus(h, id, ['ready']);
      await archive(h, id);
      return [{ workflowId: await workflowOf(h, id) }];
    },
  },
  'settle-beside': {
    shows:
      "a service ready before its settle window ends: the window's rest confirmed beside the prompt and baseline → ready → archive (Patch.settleBeside)",
    // A window far longer than the server needs to start: its rest is always confirmed beside.
    templates: { slowSettle: { ...web, services: { web: { ...webService, settleMs: 2_000 } } } },
    async run(h) {
      const id = await requestCell(h, 'slowSettle');
      await waitForStatus(h, id, ['ready']);
      const history = await h.client.workflow.getHandle(await workflowOf(h, id)).fetchHistory();
      const scheduled = (history.events ?? []).map(
        (e) => e.activityTaskScheduledEventAttributes?.activityType?.name,
      );
      expect(scheduled).toContain('confirmSettled');
      await archive(h, id);
      return [{ workflowId: await workflowOf(h, id) }];
    },
  },
  'pool-claim': {
    shows: "a warm pool's cell: provisioned for the pool → claimed by a request (the claim update) → archive",
    templates: { pooled: { ...web, pool: { size: 1 } } },
    run: (h) => claimFromPool(h),
  },
  'local-handover': {
    shows:
      "a warm pool's cell claimed on a host that runs alone: the hand-over is a local activity → archive (Patch.localHandover)",
    templates: { pooled: { ...web, pool: { size: 1 } } },
    run: (h) =>
      claimFromPool(h, async (workflowId) => {
        const history = await h.client.workflow.getHandle(workflowId).fetchHistory();
        const scheduled = (history.events ?? []).map(
          (e) => e.activityTaskScheduledEventAttributes?.activityType?.name,
        );
        expect(scheduled).not.toContain('handOverClaim');
      }),
  },
  'place-provisioning': {
    shows:
      'placement writes the status provisioning in its own local activity: one before the first step, not two → ready → archive (Patch.placeProvisioning)',
    templates: { web },
    async run(h) {
      const id = await requestCell(h, 'web');
      await waitForStatus(h, id, ['ready']);
      const workflowId = await workflowOf(h, id);
      const events = (await h.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
      const firstStep = events.findIndex((e) => e.activityTaskScheduledEventAttributes);
      const localActivities = events
        .slice(0, firstStep)
        .filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity');
      expect(localActivities).toHaveLength(1);
      // The record went through provisioning, once.
      const statuses = (await h.db.cellEvent.findMany({ where: { cellId: id, type: 'status' } })).map(
        (e) => (JSON.parse(e.data) as { status: string }).status,
      );
      expect(statuses.filter((s) => s === 'provisioning')).toHaveLength(1);
      await archive(h, id);
      return [{ workflowId }];
    },
  },
  'placed-by-api': {
    shows:
      "a request placed by the API of a host running alone (`hive up`): the workflow's input names the host, its first task schedules the first steps → ready → archive",
    harness: { worker: false, placeFirst: true },
    templates: { web },
    run: (h) =>
      onHostAlone(h, async () => {
        const id = await requestCell(h, 'web');
        const cell = await waitForStatus(h, id, ['ready']);
        expect(cell.host).toBe('solo');
        await archive(h, id);
        return [{ workflowId: await workflowOf(h, id) }];
      }),
  },
  'local-steps': {
    shows:
      'a host running alone runs the short steps as local activities: environment, start, prompt, baseline and the settle window end in the workflow task that reached them → ready → archive (Patch.localSteps)',
    harness: { worker: false, placeFirst: true },
    templates: { web },
    run: (h) =>
      onHostAlone(h, async () => {
        const id = await requestCell(h, 'web');
        await waitForStatus(h, id, ['ready']);
        const workflowId = await workflowOf(h, id);
        const events = (await h.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
        const scheduled = events.flatMap(
          (e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? [],
        );
        expect(scheduled).toEqual(
          expect.arrayContaining(['createWorktree', 'allocatePorts', 'awaitService']),
        );
        for (const short of [
          'prepareEnvironment',
          'startService',
          'assemblePrompt',
          'recordWorktreeBaseline',
        ]) {
          expect(scheduled).not.toContain(short);
        }
        const local = events
          .filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity')
          .map((e) => Buffer.from(e.userMetadata?.summary?.data ?? []).toString('utf8'));
        expect(local.join('\n')).toMatch(
          /write env, run 0 setup commands[\s\S]*start service web[\s\S]*assemble the agent prompt/,
        );
        await archive(h, id);
        return [{ workflowId }];
      }),
  },
};

/** Runs `scenario` with a host worker `solo` that runs alone (`hive up`'s), stopped after it. */
async function onHostAlone(h: Harness, scenario: () => Promise<RecordedRun[]>): Promise<RecordedRun[]> {
  const host = await startHostWorker(h, 'solo', true);
  try {
    return await scenario();
  } finally {
    await host.shutdown();
  }
}

/**
 * A pool cell provisioned for its pool, claimed by a request (answered ready), then archived;
 * `check` looks at its history before the archive.
 */
async function claimFromPool(
  h: Harness,
  check?: (workflowId: string) => Promise<void>,
): Promise<RecordedRun[]> {
  // Reading the template wakes (starts) its pool's workflow.
  await h.app.inject({ method: 'GET', url: '/templates/pooled?workspace=demo' });
  const pooled = await eventually(
    async () => (await h.db.cell.findFirst({ where: { poolState: 'pooled', status: 'ready' } })) ?? undefined,
    'a pool cell ready',
  );
  const response = await h.app.inject({
    method: 'POST',
    url: '/cells',
    payload: { workspace: 'demo', template: 'pooled', brief: 'claimed from the pool' },
  });
  expect(response.statusCode, response.body).toBe(202);
  expect(response.json()).toMatchObject({ id: pooled.id, status: 'ready' });
  await check?.(await workflowOf(h, pooled.id));
  await archive(h, pooled.id);
  return [{ workflowId: await workflowOf(h, pooled.id) }];
}

/** The corpus file of a scenario's nth recorded run: `<name>.json`, then `<name>.2.json` … */
export const historyFile = (name: string, index: number) =>
  path.join(historiesDir, index === 0 ? `${name}.json` : `${name}.${index + 1}.json`);

/** Runs a scenario on a harness of its own and writes its runs' histories into the corpus. */
export async function recordScenario(name: string, scenario: Scenario): Promise<string[]> {
  const h = await createHarness(`record-${name}`, workspaceFiles(scenario.templates), scenario.harness);
  try {
    const runs = await scenario.run(h);
    const files: string[] = [];
    for (const [index, { workflowId, runId }] of runs.entries()) {
      const handle = h.client.workflow.getHandle(workflowId, runId, { followRuns: false });
      // The record rests a moment before the run closes (its last status write is in the run's last
      // task): wait for the close, so the history is whole. A rolled back run closes as failed.
      await handle.result().catch(() => undefined);
      const history = await handle.fetchHistory();
      const file = historyFile(name, index);
      await writeFile(file, `${JSON.stringify(JSON.parse(historyToJSON(history)), null, 1)}\n`);
      files.push(file);
    }
    return files;
  } finally {
    await h.close();
  }
}
