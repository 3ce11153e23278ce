// The numbers behind docs/scaling.md: Hive's own records and Temporal history per cell, measured
// on the real stack with Hive's records on a throwaway PostgreSQL server (so its statistics count
// the writes). N cells of a one-service template are provisioned one after another, then left live
// and supervised for IDLE_S seconds.
// Usage: npx tsx scripts/scale-facts.ts [N=5] [IDLE_S=60]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '@temporalio/client';
import pg from 'pg';
import { terminateGroup } from '../src/activities/processes.js';
import { buildApp } from '../src/api/app.js';
import { createDb } from '../src/db/client.js';
import { applyMigrations } from '../src/db/migrate.js';
import { createConfigLoader } from '../src/templates/loader.js';
import { useTemporalServer } from '../src/temporal/devServer.js';
import { createHiveWorker, installWorkerRuntime } from '../src/worker/index.js';
import { createGitRepo } from '../test/support/gitRepo.js';
import { startTestPostgres } from '../test/support/postgres.js';
import { webService, workspaceFiles } from '../test/support/templates.js';
import { waitForStatus } from '../test/support/wait.js';

const N = Number(process.argv[2] ?? 5);
const IDLE_S = Number(process.argv[3] ?? 60);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

installWorkerRuntime('ERROR');
const dir = await mkdtemp(path.join(tmpdir(), 'hive-scale-'));
const postgres = await startTestPostgres(path.join(dir, 'pg'));
await postgres.admin('CREATE DATABASE hive');
const url = postgres.url('hive');
await applyMigrations(url);
const db = createDb(url);
const server = await useTemporalServer({ port: 0, namespace: 'default' });
const repo = await createGitRepo(workspaceFiles({ web: { label: 'Web', services: { web: webService } } }));
const workspace = { id: 'bench', path: repo };
const configs = createConfigLoader();
const worker = await createHiveWorker({
  address: server.address,
  namespace: 'default',
  taskQueue: 'scale',
  deps: { db, workspaces: [workspace], configs, host: 'scale', dataDir: dir },
});
const running = worker.run();
const client = new Client({ connection: worker.connection });
const app = await buildApp({
  db,
  temporal: { client, namespace: 'default', taskQueue: 'scale', eagerStart: true },
  workspaces: [workspace],
  configs,
});

/** Rows written (inserted, updated, deleted) in Hive's database so far, from PostgreSQL's statistics. */
async function writes(): Promise<{ ins: number; upd: number; del: number; commits: number }> {
  await sleep(11_000); // backends flush their statistics within 10 s of going idle
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query(
      `SELECT coalesce(sum(n_tup_ins),0)::int ins, coalesce(sum(n_tup_upd),0)::int upd, coalesce(sum(n_tup_del),0)::int del,
         (SELECT xact_commit::int FROM pg_stat_database WHERE datname = current_database()) commits
       FROM pg_stat_user_tables`,
    );
    return rows[0];
  } finally {
    await c.end();
  }
}

async function rowCounts(): Promise<Record<string, number>> {
  return {
    Cell: await db.cell.count(),
    Step: await db.step.count(),
    CellEvent: await db.cellEvent.count(),
    PortAllocation: await db.portAllocation.count(),
    ServiceInstance: await db.serviceInstance.count(),
    Prompt: await db.prompt.count(),
  };
}

async function history(workflowId: string) {
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const activities = events.filter((e) => e.activityTaskScheduledEventAttributes).length;
  return { events: events.length, activities };
}

const before = await writes();
const ids: string[] = [];
const t0 = Date.now();
for (let i = 0; i < N; i++) {
  const response = await app.inject({
    method: 'POST',
    url: '/cells',
    payload: { workspace: 'bench', template: 'web', brief: `scale ${i}` },
  });
  const { id } = response.json() as { id: string };
  await waitForStatus({ db }, id, ['ready']);
  ids.push(id);
}
const provisionS = (Date.now() - t0) / 1000;
const afterProvision = await writes();
const rows = await rowCounts();
const histReady = await Promise.all(ids.map((id) => history(`cell-${id}`)));
const idleStart = Date.now();
await sleep(IDLE_S * 1000);
const idleS = (Date.now() - idleStart) / 1000 + 11;
const afterIdle = await writes();
const histIdle = await Promise.all(ids.map((id) => history(`cell-${id}`)));
const rowsIdle = await rowCounts();

const per = (n: number) => (n / N).toFixed(1);
const sum = (o: { ins: number; upd: number; del: number }) => o.ins + o.upd + o.del;
const delta = (a: typeof before, b: typeof before) => ({
  ins: b.ins - a.ins,
  upd: b.upd - a.upd,
  del: b.del - a.del,
  commits: b.commits - a.commits,
});
const prov = delta(before, afterProvision);
const idle = delta(afterProvision, afterIdle);
console.log(JSON.stringify({ N, IDLE_S, provisionS, rows, rowsIdle, prov, idle }, null, 2));
console.log(`\n| measure (${N} cells, one HTTP service each) | value |`);
console.log('| --- | --- |');
console.log(
  `| rows per cell after ready | ${Object.entries(rows)
    .map(([k, v]) => `${k} ${per(v)}`)
    .join(', ')} |`,
);
console.log(
  `| row writes per provisioning (ins/upd/del) | ${per(prov.ins)}/${per(prov.upd)}/${per(prov.del)} = ${per(sum(prov))} |`,
);
console.log(`| transactions per provisioning | ${per(prov.commits)} |`);
console.log(
  `| history events per cell at ready | ${per(histReady.reduce((s, h) => s + h.events, 0))} (${per(histReady.reduce((s, h) => s + h.activities, 0))} activities) |`,
);
console.log(
  `| history events per live cell per minute (idle) | ${((histIdle.reduce((s, h) => s + h.events, 0) - histReady.reduce((s, h) => s + h.events, 0)) / N / (idleS / 60)).toFixed(2)} |`,
);
console.log(
  `| row writes per live cell per minute (idle) | ${(sum(idle) / N / (idleS / 60)).toFixed(2)} (events +${rowsIdle.CellEvent - rows.CellEvent}) |`,
);

for (const s of await db.serviceInstance.findMany()) if (s.pgid) await terminateGroup(s.pgid, 2_000);
for (const id of ids)
  await client.workflow
    .getHandle(`cell-${id}`)
    .terminate('scale facts done')
    .catch(() => {});
await app.close();
await worker.shutdown();
await running.catch(() => undefined);
await db.$disconnect();
await server.stop();
await postgres.stop();
await rm(dir, { recursive: true, force: true });
await rm(repo, { recursive: true, force: true });
