// Warm pool benchmark (P5): a request served from a template's warm pool against the same request
// provisioned cold, through the real stack (API → Temporal → activities → SQLite), and the raw shell
// baseline (bench/baseline.sh). Both measured from the POST until the record says ready (polled
// every 5 ms; a claimed cell is usually ready in the answer itself). Run: npm run bench -- [N]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { execa } from 'execa';
import getPort from 'get-port';
import { terminateGroup } from '../src/activities/processes.js';
import { buildApp } from '../src/api/app.js';
import { createDb } from '../src/db/client.js';
import { applyMigrations } from '../src/db/migrate.js';
import { createConfigLoader } from '../src/templates/loader.js';
import type { TemplateDetail } from '../src/templates/views.js';
import { useTemporalServer } from '../src/temporal/devServer.js';
import { createHiveWorker, installWorkerRuntime } from '../src/worker/index.js';
import { createGitRepo } from '../test/support/gitRepo.js';
import { webService, workspaceFiles } from '../test/support/templates.js';

const N = Number(process.argv[2] ?? 10);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};
const ms = (n: number) => `${n.toFixed(0)} ms`;
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

installWorkerRuntime('ERROR');
const dir = await mkdtemp(path.join(tmpdir(), 'hive-bench-pool-'));
const server = await useTemporalServer({ port: 0, namespace: 'default' });
const dbUrl = `file:${path.join(dir, 'hive.db')}`;
await applyMigrations(dbUrl);
const db = createDb(dbUrl);
const web = { label: 'Web', services: { web: webService } };
const repo = await createGitRepo(workspaceFiles({ cold: web, pooled: { ...web, pool: { size: 1 } } }));
const workspace = { id: 'bench', path: repo };
const configs = createConfigLoader();
const taskQueue = 'bench-pool';
const worker = await createHiveWorker({
  address: server.address,
  namespace: 'default',
  taskQueue,
  deps: { db, workspaces: [workspace], configs, host: 'bench' },
});
const running = worker.run();
const connection = await Connection.connect({ address: server.address });
const client = new Client({ connection });
const app = await buildApp({
  db,
  temporal: { client, namespace: 'default', taskQueue },
  workspaces: [workspace],
  configs,
});

async function pool() {
  const response = await app.inject({ method: 'GET', url: '/templates/pooled?workspace=bench' });
  return (response.json() as TemplateDetail).pool;
}

/** One request, timed until the record says ready; whether the pool served it. */
async function requestOne(template: string, i: number): Promise<{ id: string; ms: number; pooled: boolean }> {
  const started = performance.now();
  const response = await app.inject({
    method: 'POST',
    url: '/cells',
    payload: { workspace: 'bench', template, brief: `bench ${template} ${i}` },
  });
  if (response.statusCode !== 202) throw new Error(response.body);
  const { id, status } = response.json() as { id: string; status: string };
  let ready = status === 'ready';
  while (!ready) {
    await sleep(5);
    ready = (await db.cell.findUnique({ where: { id }, select: { status: true } }))?.status === 'ready';
  }
  const elapsed = performance.now() - started;
  const row = await db.cell.findUniqueOrThrow({ where: { id } });
  return { id, ms: elapsed, pooled: row.poolState === 'claimed' };
}

/** Not measured: stop the cell's services and archive nothing (the bench's workspace is thrown away). */
async function stop(id: string) {
  await client.workflow
    .getHandle(`cell-${id}`)
    .terminate('bench')
    .catch(() => undefined);
  for (const s of await db.serviceInstance.findMany({ where: { cellId: id } })) {
    if (s.pgid) await terminateGroup(s.pgid, 2_000);
  }
}

async function poolRefilled() {
  for (;;) {
    const p = await pool();
    if (p?.ready === 1 && p.warming === 0) return;
    await sleep(50);
  }
}

async function baselineOne(i: number): Promise<number> {
  const started = performance.now();
  await execa('bash', [
    path.join(import.meta.dirname, 'baseline.sh'),
    repo,
    `p${i}-${Date.now()}`,
    String(await getPort()),
  ]);
  return performance.now() - started;
}

// Warm-up (workflow bundle, first git and node start) is not measured.
await poolRefilled();
await stop((await requestOne('pooled', -1)).id);
await stop((await requestOne('cold', -1)).id);
await baselineOne(-1);

const cold: number[] = [];
const claimed: number[] = [];
const base: number[] = [];
let missed = 0;
for (let i = 0; i < N; i++) {
  const c = await requestOne('cold', i);
  cold.push(c.ms);
  await stop(c.id);
  // The pool refilled and the machine quiet again before the claim is timed.
  await poolRefilled();
  await sleep(1_000);
  const p = await requestOne('pooled', i);
  if (p.pooled) claimed.push(p.ms);
  else missed++;
  await stop(p.id);
  base.push(await baselineOne(i));
}

const rss = process.memoryUsage().rss / (1024 * 1024);
console.log(
  `\nWarm pool (P5): N = ${N}, node ${process.version}, ${(await import('node:os')).cpus().length} cores`,
);
console.log('| run | median | ratio to cold |');
console.log('| --- | --- | --- |');
console.log(`| cold: provisioned for the request | ${ms(median(cold))} | 1.00 |`);
console.log(
  `| claimed from the pool (P5, goal ≤ 0.1×) | ${ms(median(claimed))} | ${(median(claimed) / median(cold)).toFixed(2)} |`,
);
console.log(
  `| shell baseline (worktree + server, bench/baseline.sh) | ${ms(median(base))} | ${(median(base) / median(cold)).toFixed(2)} |`,
);
console.log(`claims the pool missed (served cold): ${missed}; bench process RSS: ${rss.toFixed(0)} MiB`);

await app.close();
for (const c of await db.cell.findMany({ where: { status: 'ready' } })) await stop(c.id);
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
await connection.close();
await db.$disconnect();
await server.stop();
await rm(dir, { recursive: true, force: true });
await rm(repo, { recursive: true, force: true });
