import path from 'node:path';
import { inject } from 'vitest';
import { createHiveWorker, type HiveWorker } from '../../src/worker/index.js';
import type { Harness } from './harness.js';

/**
 * A real host worker beside a harness (created with `worker: false`): its own data dir, heartbeating
 * every 200 ms and declared lost after 1.5 s of silence; `alone` as `hive up` runs it. Running.
 */
export async function startHostWorker(h: Harness, id: string, alone = false): Promise<HiveWorker> {
  const worker = await createHiveWorker({
    address: inject('temporalAddress'),
    namespace: 'default',
    taskQueue: h.taskQueue,
    deps: {
      db: h.db,
      workspaces: [h.workspace],
      configs: h.configs,
      host: id,
      dataDir: path.join(path.dirname(h.dbFile), id),
    },
    workflowBundlePath: inject('workflowBundlePath'),
    host: { id, heartbeatMs: 200, graceMs: 1_500, alone },
  });
  void worker.run();
  return worker;
}
