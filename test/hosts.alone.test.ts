import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostTaskQueue } from '../src/hosts/registry.js';
import type { HiveWorker } from '../src/worker/index.js';
import { requestCell } from './support/cells.js';
import { createHarness, type Harness } from './support/harness.js';
import { startHostWorker } from './support/hostWorker.js';
import { waitForStatus } from './support/wait.js';

// `hive up` is one host that serves its activities on the shared task queue (so Temporal dispatches
// them eagerly); a host that would share that queue with it refuses to start, and one that starts
// beside other live hosts takes its own queue. Real workers on the run's dev server.

let h: Harness;
const workers: HiveWorker[] = [];

const host = async (id: string, alone: boolean) => {
  const worker = await startHostWorker(h, id, alone);
  workers.push(worker);
  return worker;
};

beforeAll(async () => {
  h = await createHarness('alone', undefined, { worker: false });
});
afterAll(async () => {
  // The workers (and their heartbeats) first: the harness then removes their database.
  for (const w of workers) await w.shutdown();
  await h?.close();
});

describe('a host running alone', () => {
  it('serves its activities on the shared queue, provisions cells there, and keeps joiners out', async () => {
    const solo = await host('solo', true);
    expect(solo.hostTaskQueue).toBe(h.taskQueue);
    expect((await h.db.host.findUniqueOrThrow({ where: { id: 'solo' } })).taskQueue).toBe(h.taskQueue);

    const id = await requestCell(h, 'web');
    const cell = await waitForStatus(h, id, ['ready']);
    expect(cell.host).toBe('solo');
    expect(cell.steps.find((s) => s.name === 'place')?.detail).toMatchObject({ host: 'solo' });

    await expect(host('joiner', false)).rejects.toThrow(
      /host solo runs alone \(hive up\) and serves the task queue .* itself/,
    );
    expect(await h.db.host.findUnique({ where: { id: 'joiner' } })).toBeNull();
  });

  it('once it is gone, a host may start; beside another live host, `alone` takes its own queue', async () => {
    await workers[0]?.shutdown();
    // Its heartbeat stopped with its workers: after the grace period it no longer counts.
    await new Promise((r) => setTimeout(r, 2_000));
    const first = await host('first', false);
    expect(first.hostTaskQueue).toBe(hostTaskQueue(h.taskQueue, 'first'));
    const second = await host('second', true);
    expect(second.hostTaskQueue).toBe(hostTaskQueue(h.taskQueue, 'second'));
  });
});

describe('the API of a host running alone', () => {
  let hp: Harness;
  let here: HiveWorker | undefined;
  beforeAll(async () => {
    hp = await createHarness('placed-first', undefined, { worker: false, placeFirst: true });
    here = await startHostWorker(hp, 'here', true);
  });
  afterAll(async () => {
    await here?.shutdown();
    await hp?.close();
  });

  const statusesOf = async (id: string) =>
    (await hp.db.cellEvent.findMany({ where: { cellId: id }, orderBy: { id: 'asc' } })).map((e) => ({
      type: e.type,
      ...(JSON.parse(e.data) as { name?: string; status?: string }),
    }));

  it('places an accepted request itself: the workflow starts with the first steps, the record says where and why', async () => {
    const id = await requestCell(hp, 'web');
    const cell = await waitForStatus(hp, id, ['ready']);
    expect(cell.host).toBe('here');
    expect(cell.steps.find((s) => s.name === 'place')?.detail).toMatchObject({ host: 'here' });
    const events = (await hp.client.workflow.getHandle(cell.workflowId).fetchHistory()).events ?? [];
    const input = events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.data;
    expect(JSON.parse(Buffer.from(input ?? []).toString('utf8'))).toMatchObject({ placedOn: 'here' });
    // No placement (nor status) activity before the first step: the first task schedules it.
    const firstStep = events.findIndex((e) => e.activityTaskScheduledEventAttributes);
    expect(firstStep).toBeGreaterThan(0);
    expect(
      events
        .slice(0, firstStep)
        .filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity'),
    ).toEqual([]);
    // Clients hear it as ever: pending, the place step, provisioning, ready.
    const heard = await statusesOf(id);
    const at = (type: string, match: (e: { name?: string; status?: string }) => boolean) =>
      heard.findIndex((e) => e.type === type && match(e));
    const order = [
      at('status', (e) => e.status === 'pending'),
      at('step', (e) => e.name === 'place' && e.status === 'succeeded'),
      at('status', (e) => e.status === 'provisioning'),
      at('status', (e) => e.status === 'ready'),
    ];
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('a request its host has no room for waits queued in the workflow, then is placed there', async () => {
    expect((await hp.app.inject({ method: 'POST', url: '/hosts/here/drain' })).statusCode).toBe(200);
    const id = await requestCell(hp, 'web');
    await waitForStatus(hp, id, ['queued']);
    expect((await hp.app.inject({ method: 'POST', url: '/hosts/here/undrain' })).statusCode).toBe(200);
    const cell = await waitForStatus(hp, id, ['ready']);
    expect(cell.host).toBe('here');
    const events = (await hp.client.workflow.getHandle(cell.workflowId).fetchHistory()).events ?? [];
    const input = events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.data;
    expect(JSON.parse(Buffer.from(input ?? []).toString('utf8')).placedOn).toBeUndefined();
    expect((await statusesOf(id)).filter((e) => e.type === 'status').map((e) => e.status)).toEqual([
      'pending',
      'queued',
      'provisioning',
      'ready',
    ]);
  });
});
