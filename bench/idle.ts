// Idle cost: 50 ready cells of a one-service template doing nothing, supervised. What the whole
// stack (API, worker, Temporal dev server, the services themselves) uses per cell, as a share of one
// core, and its memory. Run: npm run bench -- [N]   (N is ignored here: always 50 cells)
import { webService } from '../test/support/templates.js';
import { waitForStatus } from '../test/support/wait.js';
import { coreShareOver, startBenchStack } from './stack.js';

const CELLS = 50;
const stack = await startBenchStack({ web: { label: 'Web', services: { web: webService } } });
const baseline = await coreShareOver(10_000);
const rssIdle = process.memoryUsage().rss / 2 ** 20;
for (let i = 0; i < CELLS; i += 10) {
  await Promise.all(
    Array.from({ length: 10 }, async (_, j) => {
      const response = await stack.app.inject({
        method: 'POST',
        url: '/cells',
        payload: { workspace: 'bench', template: 'web', brief: `idle ${i + j}` },
      });
      const id = response.json().id as string;
      await waitForStatus({ db: stack.db }, id, ['ready'], 180_000);
    }),
  );
}
// Let the provisioning tail (notifications, first supervision rounds) settle before measuring.
await new Promise((r) => setTimeout(r, 10_000));
const loaded = await coreShareOver(30_000);
const rssLive = process.memoryUsage().rss / 2 ** 20;
const perCell = (loaded - baseline) / CELLS;
console.log(`\nIdle cost, ${CELLS} ready cells (one HTTP service each), measured over 30 s`);
console.log('| measure | value |');
console.log('| --- | --- |');
console.log(`| whole stack, no cells | ${(baseline * 100).toFixed(1)} % of a core |`);
console.log(`| whole stack, ${CELLS} idle cells | ${(loaded * 100).toFixed(1)} % of a core |`);
console.log(`| per idle cell (goal ≤ 0.5 %) | ${(perCell * 100).toFixed(2)} % of a core |`);
console.log(
  `| RSS of API + worker (one process): no cells → ${CELLS} cells | ${rssIdle.toFixed(0)} → ${rssLive.toFixed(0)} MiB |`,
);
await stack.stop();
