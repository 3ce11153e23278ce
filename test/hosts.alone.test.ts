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
