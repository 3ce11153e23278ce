// The real stack a benchmark runs against, in this process: a Temporal dev server, a migrated SQLite
// database, a worker that is the one host, the API (listening on loopback, and called with
// app.inject where HTTP is not what is measured) and a git workspace with the given templates.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { createFirstPlacement } from '../src/activities/hosts.js';
import { terminateGroup } from '../src/activities/processes.js';
import { createStepRecorder } from '../src/activities/steps.js';
import { createFirstPlanner } from '../src/activities/validate.js';
import { buildApp } from '../src/api/app.js';
import { thawCell } from '../src/cgroups/freeze.js';
import { createHiveClient } from '../src/client/index.js';
import { createDb } from '../src/db/client.js';
import { applyMigrations } from '../src/db/migrate.js';
import { createHandOverHere } from '../src/pools/activities.js';
import { createConfigLoader } from '../src/templates/loader.js';
import { useTemporalServer } from '../src/temporal/devServer.js';
import { createHiveWorker, installWorkerRuntime } from '../src/worker/index.js';
import { createGitRepo } from '../test/support/gitRepo.js';
import { workspaceFiles } from '../test/support/templates.js';

/**
 * `options.repo`: a workspace made by the caller (kept at the end; its config names the templates).
 * BENCH_TEMPORAL_DB: `memory` (default), or a history file as `hive up` keeps one, in WAL mode (`wal`)
 * or with SQLite's full sync on each commit (`full`).
 */
export async function startBenchStack(templates: Record<string, unknown>, options: { repo?: string } = {}) {
  installWorkerRuntime('ERROR');
  const dir = await mkdtemp(path.join(tmpdir(), 'hive-bench-'));
  const temporalDb = process.env.BENCH_TEMPORAL_DB ?? 'memory';
  const server = await useTemporalServer({
    port: 0,
    namespace: 'default',
    // Its RPCs are counted (bench/idle.ts).
    metricsPort: 0,
    ...(temporalDb === 'memory'
      ? {}
      : { dbFilename: path.join(dir, 'temporal.db'), walJournal: temporalDb === 'wal' }),
  });
  const dbUrl = `file:${path.join(dir, 'hive.db')}`;
  await applyMigrations(dbUrl);
  const db = createDb(dbUrl);
  const repo = options.repo ?? (await createGitRepo(workspaceFiles(templates)));
  const workspace = { id: 'bench', path: repo };
  const configs = createConfigLoader();
  const taskQueue = 'bench';
  const worker = await createHiveWorker({
    address: server.address,
    namespace: 'default',
    taskQueue,
    deps: { db, workspaces: [workspace], configs, host: 'bench', dataDir: dir },
    // One host, as `hive up` is: its activities on the shared queue (dispatched eagerly).
    host: { id: 'bench', heartbeatMs: 5_000, graceMs: 30_000, alone: true },
  });
  const running = worker.run();
  // As `hive up` does: the API's client on the worker's connection, workflows started eagerly
  // (BENCH_EAGER=0 measures without).
  const eager = process.env.BENCH_EAGER !== '0';
  const client = new Client({ connection: worker.connection });
  const app = await buildApp({
    db,
    temporal: { client, namespace: 'default', taskQueue, eagerStart: eager },
    workspaces: [workspace],
    configs,
    // As `hive up` does: the request planned and placed where it is accepted, a claimed pool cell
    // handed over there (BENCH_PLAN_FIRST=0 measures without all three).
    ...(process.env.BENCH_PLAN_FIRST !== '0' && {
      planFirst: createFirstPlanner({ steps: createStepRecorder(db), host: 'bench', dataDir: dir }),
      handOverHere: createHandOverHere({ db, host: 'bench' }),
      placeFirst: createFirstPlacement({ db, hostGraceMs: 30_000 }),
    }),
  });
  // Clients as agents run them: over HTTP, waiting on the cell's event stream.
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const hive = createHiveClient({
    url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
  });
  /** Not measured: a cell's workflow ended (else it keeps supervising), its services stopped. */
  async function endCell(id: string) {
    await client.workflow
      .getHandle(`cell-${id}`)
      .terminate('bench')
      .catch(() => undefined);
    // A suspended (frozen) cell's processes take no signal until thawed.
    await thawCell(id).catch(() => undefined);
    for (const s of await db.serviceInstance.findMany({ where: { cellId: id } })) {
      if (s.pgid) await terminateGroup(s.pgid, 2_000);
    }
  }
  return {
    db,
    app,
    hive,
    client,
    repo,
    endCell,
    metricsUrl: server.metricsUrl,
    async stop() {
      await app.close();
      // Cells (and pools) still live: end their workflows and processes so the worker stops at once.
      for (const cell of await db.cell.findMany({ select: { id: true } })) await endCell(cell.id);
      for await (const wf of client.workflow.list({
        query: `TaskQueue="${taskQueue}" AND ExecutionStatus="Running"`,
      })) {
        await client.workflow
          .getHandle(wf.workflowId)
          .terminate('bench done')
          .catch(() => undefined);
      }
      await worker.shutdown();
      await running.catch(() => undefined);
      await db.$disconnect();
      await server.stop();
      await rm(dir, { recursive: true, force: true });
      if (!options.repo) await rm(repo, { recursive: true, force: true });
    },
  };
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** CPU seconds used so far by a process (user + system), from /proc. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND || 0;
}

/** This process and every process below it (dev server, cells' services): pid → parent. */
async function tree(): Promise<number[]> {
  const parents = new Map<number, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
  }
  const inside = new Set([process.pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, parent] of parents) {
      if (!inside.has(pid) && inside.has(parent)) {
        inside.add(pid);
        grew = true;
      }
    }
  }
  return [...inside];
}

/** CPU used by this process tree over `ms` of wall time, as a fraction of one core. */
export async function coreShareOver(ms: number): Promise<number> {
  const pids = await tree();
  const before = await Promise.all(pids.map(cpuSeconds));
  await new Promise((r) => setTimeout(r, ms));
  const after = await Promise.all(pids.map(cpuSeconds));
  const used = after.reduce((sum, a, i) => sum + Math.max(0, a - (before[i] ?? 0)), 0);
  return used / (ms / 1000);
}
