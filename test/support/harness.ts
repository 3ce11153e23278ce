import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { inject } from 'vitest';
import { terminateGroup } from '../../src/activities/services.js';
import { buildApp, type HiveApp } from '../../src/api/app.js';
import type { Workspace } from '../../src/config/env.js';
import { createDb, type Db } from '../../src/db/client.js';
import { type ConfigLoader, createConfigLoader } from '../../src/templates/loader.js';
import { createHiveWorker, type HiveWorker, installWorkerRuntime } from '../../src/worker/index.js';
import { createGitRepo } from './gitRepo.js';

export interface Harness {
  db: Db;
  client: Client;
  app: HiveApp;
  worker: HiveWorker;
  taskQueue: string;
  workspace: Workspace;
  configs: ConfigLoader;
  close(): Promise<void>;
}

/**
 * Everything real, per test file: its own SQLite database (a copy of the migrated template), its
 * own task queue on the shared dev server, a real worker, the real API, a real git workspace.
 */
/** A workspace config with two service-less templates: enough for the API slice tests. */
export const minimalConfig = {
  templates: {
    web: { label: 'Web app' },
    api: { label: 'API server' },
  },
};

export async function createHarness(
  name: string,
  files: Record<string, string> = { 'hive.config.json': JSON.stringify(minimalConfig, null, 2) },
): Promise<Harness> {
  installWorkerRuntime();
  const dir = await mkdtemp(path.join(tmpdir(), `hive-${name}-`));
  const dbFile = path.join(dir, 'hive.db');
  await copyFile(inject('templateDbPath'), dbFile);
  const db = createDb(`file:${dbFile}`);
  const address = inject('temporalAddress');
  const taskQueue = `test-${name}-${process.pid}-${Date.now()}`;
  const workspace = { id: 'demo', path: await createGitRepo({ 'README.md': '# demo\n', ...files }) };
  const configs = createConfigLoader();
  const worker = await createHiveWorker({
    address,
    namespace: 'default',
    taskQueue,
    deps: { db, workspaces: [workspace], configs, host: 'test-host', stopGraceMs: 3_000 },
    workflowBundlePath: inject('workflowBundlePath'),
  });
  void worker.run();
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace: 'default' });
  const app = await buildApp({
    db,
    temporal: { client, namespace: 'default', taskQueue },
    workspaces: [workspace],
    configs,
  });
  return {
    db,
    client,
    app,
    worker,
    taskQueue,
    workspace,
    configs,
    async close() {
      // Cells left ready by a test still run services: stop every recorded process group.
      for (const service of await db.serviceInstance.findMany({ where: { pgid: { not: null } } })) {
        if (service.pgid) await terminateGroup(service.pgid, 2_000);
      }
      await app.close();
      await worker.shutdown();
      await connection.close();
      await db.$disconnect();
      await rm(dir, { recursive: true, force: true });
      await rm(workspace.path, { recursive: true, force: true });
    },
  };
}
