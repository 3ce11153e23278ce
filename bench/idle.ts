// Idle cost: N ready cells of a one-service template doing nothing, supervised by the host (200 by
// default, BENCH_IDLE_CELLS). What the whole stack (API, worker, Temporal dev server, the services
// themselves) uses per cell, as a share of one core, its memory, and the RPCs the Temporal server
// answers per minute (its Prometheus metrics), with the per-worker long polls apart.
// Run: npx tsx bench/idle.ts   (or as part of npm run bench)
import { webService } from '../test/support/templates.js';
import { waitForStatus } from '../test/support/wait.js';
import { coreShareOver, startBenchStack } from './stack.js';

const CELLS = Number(process.env.BENCH_IDLE_CELLS ?? 200);
const AT_ONCE = 10;
const WINDOW_MS = 60_000;

/** Long polls: one open per worker and queue whatever the number of cells. */
const isLongPoll = (operation: string) => /^Poll/.test(operation);

/** The frontend's answered RPCs so far, by operation (Temporal's `service_requests` counter). */
async function rpcCounts(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(url)).text();
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^service_requests\{([^}]*)\} (\S+)$/.exec(line);
    if (!match?.[1] || !match[2] || !match[1].includes('service_name="frontend"')) continue;
    const operation = /operation="([^"]+)"/.exec(match[1])?.[1] ?? '?';
    counts.set(operation, (counts.get(operation) ?? 0) + Number(match[2]));
  }
  return counts;
}

async function rpcsOver(url: string, ms: number): Promise<Map<string, number>> {
  const before = await rpcCounts(url);
  await new Promise((r) => setTimeout(r, ms));
  const after = await rpcCounts(url);
  return new Map(
    [...after].map(([op, n]) => [op, n - (before.get(op) ?? 0)] as const).filter(([, n]) => n > 0),
  );
}

const stack = await startBenchStack({ web: { label: 'Web', services: { web: webService } } });
if (!stack.metricsUrl) throw new Error('the dev server was started without metrics');
const baseline = await coreShareOver(10_000);
const rpcsEmpty = await rpcsOver(stack.metricsUrl, WINDOW_MS);
const rssIdle = process.memoryUsage().rss / 2 ** 20;
const started = Date.now();
for (let i = 0; i < CELLS; i += AT_ONCE) {
  await Promise.all(
    Array.from({ length: Math.min(AT_ONCE, CELLS - i) }, async (_, j) => {
      const response = await stack.app.inject({
        method: 'POST',
        url: '/cells',
        payload: { workspace: 'bench', template: 'web', brief: `idle ${i + j}` },
      });
      const id = response.json().id as string;
      await waitForStatus({ db: stack.db }, id, ['ready'], 300_000);
    }),
  );
}
const allReadyS = (Date.now() - started) / 1000;
// Let the provisioning tail (prompts, notifications, the watches asked for) settle before measuring.
await new Promise((r) => setTimeout(r, 15_000));
const rpcs = await rpcsOver(stack.metricsUrl, WINDOW_MS);
const loaded = await coreShareOver(30_000);
const rssLive = process.memoryUsage().rss / 2 ** 20;
const perCell = (loaded - baseline) / CELLS;
const sum = (m: Map<string, number>, keep: (op: string) => boolean) =>
  [...m].filter(([op]) => keep(op)).reduce((total, [, n]) => total + n, 0);
const heartbeats = sum(rpcs, (op) => op.startsWith('RecordActivityTaskHeartbeat'));
const perCellRpcs = sum(rpcs, (op) => !isLongPoll(op)) - sum(rpcsEmpty, (op) => !isLongPoll(op));
console.log(`\nIdle cost, ${CELLS} ready cells (one HTTP service each), supervised by the host`);
console.log('| measure | value |');
console.log('| --- | --- |');
console.log(
  `| time for the last of ${CELLS} cells to be ready (${AT_ONCE} at a time) | ${allReadyS.toFixed(0)} s |`,
);
console.log(`| whole stack, no cells | ${(baseline * 100).toFixed(1)} % of a core |`);
console.log(`| whole stack, ${CELLS} idle cells | ${(loaded * 100).toFixed(1)} % of a core |`);
console.log(`| per idle cell (goal ≤ 0.5 %) | ${(perCell * 100).toFixed(2)} % of a core |`);
console.log(
  `| RSS of API + worker (one process): no cells → ${CELLS} cells | ${rssIdle.toFixed(0)} → ${rssLive.toFixed(0)} MiB |`,
);
console.log(`| activity heartbeat RPCs per minute, ${CELLS} idle cells | ${heartbeats} |`);
console.log(
  `| other RPCs per minute (no long polls): no cells → ${CELLS} idle cells | ${sum(rpcsEmpty, (op) => !isLongPoll(op))} → ${sum(rpcs, (op) => !isLongPoll(op))} (${(perCellRpcs / CELLS).toFixed(2)} per cell) |`,
);
console.log(`| long polls per minute (per worker, not per cell) | ${sum(rpcs, isLongPoll)} |`);
const detail = [...rpcs].sort((a, b) => b[1] - a[1]).map(([op, n]) => `${op} ${n}`);
console.log(`\nRPCs in the idle minute by operation: ${detail.join(', ') || 'none'}`);
await stack.stop();
