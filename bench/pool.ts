// Warm pool benchmark (P5): a request served from a template's warm pool against the same request
// provisioned cold, through the real stack (API → Temporal → activities → SQLite), and the raw shell
// baseline (bench/baseline.sh). Both measured from the POST until the record says ready (polled
// every 5 ms; a claimed cell is usually ready in the answer itself). Run: npm run bench -- [N]
import { setTimeout as sleep } from 'node:timers/promises';
import type { TemplateDetail } from '../src/templates/views.js';
import { webService } from '../test/support/templates.js';
import { median, ms, shellBaseline } from './measure.js';
import { startBenchStack } from './stack.js';

const N = Number(process.argv[2] ?? 10);
const web = { label: 'Web', services: { web: webService } };
const {
  db,
  app,
  repo,
  endCell: stop,
  stop: stopStack,
} = await startBenchStack({
  cold: web,
  pooled: { ...web, pool: { size: 1 } },
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

async function poolRefilled() {
  for (;;) {
    const p = await pool();
    if (p?.ready === 1 && p.warming === 0) return;
    await sleep(50);
  }
}

const baselineOne = (i: number) => shellBaseline(repo, `p${i}`);

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

await stopStack();
