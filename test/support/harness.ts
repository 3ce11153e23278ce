import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { Client, Connection } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { inject } from 'vitest';
import { createFirstPlacement } from '../../src/activities/hosts.js';
import type { Activities } from '../../src/activities/index.js';
import { terminateGroup } from '../../src/activities/processes.js';
import { buildApp, type HiveApp } from '../../src/api/app.js';
import { endCellCgroup } from '../../src/cgroups/cell.js';
import { thawCell } from '../../src/cgroups/freeze.js';
import type { Workspace } from '../../src/config/env.js';
import { stopDatabaseServers } from '../../src/databases/server.js';
import { createDb, type Db } from '../../src/db/client.js';
import { createHandOverHere } from '../../src/pools/activities.js';
import type { ProxyAddress } from '../../src/proxy/names.js';
import { type ConfigLoader, createConfigLoader } from '../../src/templates/loader.js';
import { createHiveWorker, type HiveWorker, installWorkerRuntime } from '../../src/worker/index.js';
import { createGitRepo } from './gitRepo.js';
import { cloneDatabase, dropDatabase } from './postgres.js';

export { waitForStatus } from './wait.js';

export interface Harness {
  db: Db;
  client: Client;
  app: HiveApp;
  /** Absent when the test runs its workers as separate processes. */
  worker?: HiveWorker;
  /** SQLite: the database file. PostgreSQL: a path in the file's temp dir (nothing there), for its dirname. */
  dbFile: string;
  /** The URL `db` was built from: `file:…`, or `postgresql://…` in the `postgres` project. */
  dbUrl: string;
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

/**
 * Where an injected fault strikes: before the real activity runs, after it did its work, `once`
 * (before, on the first call only), `slow`: the real activity, delayed (heartbeating, so a
 * cancellation can reach it meanwhile), or `late`: the real activity, whose completion reaches the
 * workflow 1.5 s after it did its work.
 */
export type Fault = 'before' | 'after' | 'once' | 'slow' | 'late';
export type Faults = Partial<Record<keyof Activities, Fault>>;

function injectFaults(faults: Faults) {
  return (activities: Activities): Activities => {
    const wrapped: Record<string, unknown> = { ...activities };
    for (const [name, when] of Object.entries(faults) as Array<[keyof Activities, Fault]>) {
      const real = activities[name] as (...args: unknown[]) => Promise<unknown>;
      let calls = 0;
      wrapped[name] = async (...args: unknown[]) => {
        calls++;
        if (when === 'once' && calls > 1) return real(...args);
        if (when === 'late') {
          const result = await real(...args);
          await new Promise((r) => setTimeout(r, 1_500));
          return result;
        }
        if (when === 'slow') {
          const ctx = Context.current();
          for (let i = 0; i < 40; i++) {
            ctx.heartbeat();
            await ctx.sleep(250);
          }
          return real(...args);
        }
        if (when === 'after') await real(...args);
        throw ApplicationFailure.create({
          type: 'InjectedFault',
          message: `injected fault ${when} ${name}`,
          nonRetryable: true,
        });
      };
    }
    return wrapped as Activities;
  };
}

/** The host id of a harness's worker (no host agent: it serves every activity on its queue). */
const HOST = 'test-host';

/** Whether this file runs in the `postgres` project (vitest.config.ts): Hive's records on PostgreSQL. */
export const onPostgres = process.env.HIVE_TEST_DB === 'postgres';

/**
 * A fresh migrated database for one harness: a copy of the SQLite template, or in the `postgres`
 * project a database cloned from the migrated template on the run's one server.
 */
async function testDatabase(name: string, dbFile: string): Promise<string> {
  if (!onPostgres) {
    await copyFile(inject('templateDbPath'), dbFile);
    return `file:${dbFile}`;
  }
  const database = `t_${name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .slice(0, 30)}_${process.pid}_${Date.now() % 1e8}`;
  return cloneDatabase(inject('postgresTemplateUrl'), database);
}

async function dropTestDatabase(url: string): Promise<void> {
  if (onPostgres) await dropDatabase(url).catch(() => undefined);
}

export async function createHarness(
  name: string,
  files: Record<string, string> = { 'hive.config.json': JSON.stringify(minimalConfig, null, 2) },
  options: {
    faults?: Faults;
    preserveFailedForMs?: number;
    worker?: boolean;
    historyLimit?: number;
    /** First retry interval of notification deliveries (HIVE_NOTIFY_RETRY_MS). */
    notifyRetryMs?: number;
    /** A service log past this size is rotated (HIVE_LOG_MAX_MB). */
    logMaxBytes?: number;
    /** Another Temporal server than the run's dev server (the several-hosts tests' production one). */
    temporalAddress?: string;
    /** Where the cells' proxy will listen (test/proxy.test.ts starts it): URLs in views and .hive/env. */
    proxy?: ProxyAddress;
    /** As `hive up`: a cell claimed from a warm pool is handed over by the API (src/pools). */
    handOverHere?: boolean;
    /** As `hive up`: an accepted request's cell is placed by the API, before its workflow starts. */
    placeFirst?: boolean;
  } = {},
): Promise<Harness> {
  installWorkerRuntime('ERROR');
  const dir = await mkdtemp(path.join(tmpdir(), `hive-${name}-`));
  const dbFile = path.join(dir, 'hive.db');
  const dbUrl = await testDatabase(name, dbFile);
  const db = createDb(dbUrl);
  const address = options.temporalAddress ?? inject('temporalAddress');
  const taskQueue = `test-${name}-${process.pid}-${Date.now()}`;
  const workspace = { id: 'demo', path: await createGitRepo({ 'README.md': '# demo\n', ...files }) };
  const configs = createConfigLoader();
  const worker =
    options.worker === false
      ? undefined
      : await createHiveWorker({
          address,
          namespace: 'default',
          taskQueue,
          deps: {
            db,
            workspaces: [workspace],
            configs,
            host: HOST,
            stopGraceMs: 3_000,
            notifyRetryMs: options.notifyRetryMs,
            logMaxBytes: options.logMaxBytes,
            dataDir: dir,
            publicUrls: options.proxy,
          },
          workflowBundlePath: inject('workflowBundlePath'),
          wrapActivities: options.faults ? injectFaults(options.faults) : undefined,
        });
  void worker?.run();
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace: 'default' });
  const app = await buildApp({
    db,
    temporal: { client, namespace: 'default', taskQueue },
    workspaces: [workspace],
    configs,
    preserveFailedForMs: options.preserveFailedForMs,
    workflowHistoryLimit: options.historyLimit,
    proxy: options.proxy,
    ...(options.handOverHere && { handOverHere: createHandOverHere({ db, host: HOST }) }),
    ...(options.placeFirst && { placeFirst: createFirstPlacement({ db }) }),
  });
  return {
    db,
    client,
    app,
    worker,
    dbFile,
    dbUrl,
    taskQueue,
    workspace,
    configs,
    async close() {
      // Cells' workflows live until archived: end those of this file so the worker can stop at once.
      for await (const wf of client.workflow.list({
        query: `TaskQueue="${taskQueue}" AND ExecutionStatus="Running"`,
      })) {
        await client.workflow
          .getHandle(wf.workflowId)
          .terminate('test finished')
          .catch(() => undefined);
      }
      // A suspended (frozen) cell's processes take no signal until thawed.
      for (const cell of await db.cell.findMany({ where: { status: 'suspended' }, select: { id: true } })) {
        await thawCell(cell.id).catch(() => undefined);
      }
      // Cells left ready by a test still run services: stop every recorded process group.
      for (const service of await db.serviceInstance.findMany({ where: { pgid: { not: null } } })) {
        if (service.pgid) await terminateGroup(service.pgid, 2_000);
      }
      // And their cgroups (src/cgroups): what those groups started, and the folders themselves.
      for (const cell of await db.cell.findMany({ select: { id: true } })) {
        await endCellCgroup(cell.id, 500).catch(() => undefined);
      }
      await app.close();
      await worker?.shutdown();
      await stopDatabaseServers(dir);
      await connection.close();
      await db.$disconnect();
      await dropTestDatabase(dbUrl);
      await rm(dir, { recursive: true, force: true });
      await rm(workspace.path, { recursive: true, force: true });
    },
  };
}
