// P3: a template of 20 independent services against a template of one (and both against a shell
// starting the same servers): provisioning cost should grow with dependency depth, not count.
// Run: npm run bench -- [N]
import { execa } from 'execa';
import getPort from 'get-port';
import { webService } from '../test/support/templates.js';
import { waitForStatus } from '../test/support/wait.js';
import { median } from './measure.js';
import { startBenchStack } from './stack.js';

const N = Math.max(1, Math.min(Number(process.argv[2] ?? 3), 10));
const WIDE = 20;
const services = (n: number) =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`s${i}`, webService]));
const stack = await startBenchStack({
  one: { label: 'One service', services: services(1) },
  wide: { label: `${WIDE} services`, services: services(WIDE) },
});

async function cell(template: string): Promise<number> {
  const started = performance.now();
  const response = await stack.app.inject({
    method: 'POST',
    url: '/cells',
    payload: { workspace: 'bench', template, brief: 'services' },
  });
  const id = response.json().id as string;
  await waitForStatus({ db: stack.db }, id, ['ready'], 120_000);
  const ms = performance.now() - started;
  await stack.endCell(id);
  return ms;
}

/** The shell doing the same: start n servers at once, wait until every port answers. */
async function shell(n: number): Promise<number> {
  const ports = await Promise.all(Array.from({ length: n }, () => getPort()));
  const script = `pids=""
for p in ${ports.join(' ')}; do PORT=$p setsid node server.js </dev/null >/dev/null 2>&1 & pids="$pids $!"; done
for p in ${ports.join(' ')}; do until (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do sleep 0.02; done; done
for pid in $pids; do kill -- "-$pid"; done`;
  const started = performance.now();
  await execa('bash', ['-c', script], { cwd: stack.repo });
  return performance.now() - started;
}

await cell('one'); // warm-up
const one: number[] = [];
const wide: number[] = [];
const shellOne: number[] = [];
const shellWide: number[] = [];
for (let i = 0; i < N; i++) {
  one.push(await cell('one'));
  wide.push(await cell('wide'));
  shellOne.push(await shell(1));
  shellWide.push(await shell(WIDE));
}
console.log(`\nServices per template (P3), N = ${N}`);
console.log(`| template | Hive cells (median) | shell (median) |`);
console.log('| --- | --- | --- |');
console.log(`| 1 service | ${median(one).toFixed(0)} ms | ${median(shellOne).toFixed(0)} ms |`);
console.log(
  `| ${WIDE} independent services | ${median(wide).toFixed(0)} ms | ${median(shellWide).toFixed(0)} ms |`,
);
console.log(
  `| ratio ${WIDE} : 1 (goal ≤ 1.3×) | ${(median(wide) / median(one)).toFixed(2)}× | ${(median(shellWide) / median(shellOne)).toFixed(2)}× |`,
);
await stack.stop();
