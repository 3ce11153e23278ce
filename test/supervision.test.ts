import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cellDetail } from '../src/cells/views.js';
import { serviceEventSignal } from '../src/workflows/control.js';
import { createHarness, type Harness, waitForStatus } from './support/harness.js';
import { eventually } from './support/process.js';
import { webService, workspaceFiles } from './support/templates.js';

// Supervision by the host (src/supervision): the live phase asks once, then costs Temporal nothing
// until something happens.

let h: Harness;
beforeAll(async () => {
  h = await createHarness(
    'supervision',
    workspaceFiles({ web: { label: 'Web', services: { web: webService } } }),
  );
});
afterAll(() => h?.close());

async function readyCell() {
  const response = await h.app.inject({
    method: 'POST',
    url: '/cells',
    payload: { workspace: 'demo', template: 'web', brief: 'supervised' },
  });
  expect(response.statusCode, response.body).toBe(202);
  const { id, workflowId } = response.json() as { id: string; workflowId: string };
  await waitForStatus(h, id, ['ready']);
  const handle = h.client.workflow.getHandle(workflowId);
  // Settled: the watch was asked for, and the workflow waits (its last task completed, nothing pending).
  await eventually(async () => {
    const described = await handle.describe();
    const events = (await handle.fetchHistory()).events ?? [];
    const asked = events.some(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'superviseServices',
    );
    const waiting = events.at(-1)?.workflowTaskCompletedEventAttributes != null;
    return asked && waiting && (described.raw.pendingActivities ?? []).length === 0 ? true : undefined;
  }, 'the watch asked for');
  return { id, handle };
}

describe('supervision by the host', () => {
  it('an idle ready cell adds no history event and runs no activity', async () => {
    const { id, handle } = await readyCell();
    const before = (await handle.describe()).historyLength;
    // Under the old design, this span held a heartbeating activity and 2+ heartbeats.
    await sleep(4_000);
    const after = await handle.describe();
    const added = ((await handle.fetchHistory()).events ?? []).slice(before).map((e) => e.eventType);
    expect(added).toEqual([]);
    expect(after.historyLength).toBe(before);
    expect(after.raw.pendingActivities ?? []).toEqual([]);
    expect((await cellDetail(h.db, id))?.status).toBe('ready');
    // Still watched: a killed service is seen and restarted by its policy.
    const pid = (await cellDetail(h.db, id))?.services[0]?.pid ?? 0;
    process.kill(-pid, 'SIGKILL');
    await eventually(
      async () => {
        const s = (await cellDetail(h.db, id))?.services[0];
        return s?.status === 'ready' && s.pid !== pid ? true : undefined;
      },
      'restarted',
      60_000,
    );
  });

  it('a report of an older watch changes nothing', async () => {
    const { id, handle } = await readyCell();
    const pid = (await cellDetail(h.db, id))?.services[0]?.pid;
    await handle.signal(serviceEventSignal, {
      service: 'web',
      kind: 'exited',
      exitCode: 1,
      detail: 'web exited with code 1',
      watch: 0,
    });
    await sleep(2_000);
    const cell = await cellDetail(h.db, id);
    expect(cell?.status).toBe('ready');
    expect(cell?.services[0]?.pid).toBe(pid);
    const history = await handle.fetchHistory();
    const stops = (history.events ?? []).filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'stopService',
    );
    expect(stops).toEqual([]);
  });
});
