// Idle cells: how long the first request through Hive's proxy waits for a suspended cell to serve
// (wake-to-first-byte, frozen and stopped), and what 50 suspended cells cost (CPU of the whole stack,
// RSS of the cells' processes) against the same 50 awake.
// Run: npx tsx bench/wake.ts   (BENCH_WAKE_SAMPLES, default 5 per mode; BENCH_SUSPENDED_CELLS, 50)
import { readdir, readFile } from 'node:fs/promises';
import getPort from 'get-port';
import { startProxy } from '../src/proxy/index.js';
import { createWaker } from '../src/proxy/wake.js';
import { curlFirstByte } from '../test/support/curl.js';
import { webService } from '../test/support/templates.js';
import { waitForStatus } from '../test/support/wait.js';
import { coreShareOver, startBenchStack } from './stack.js';

const SAMPLES = Number(process.env.BENCH_WAKE_SAMPLES ?? 5);
const CELLS = Number(process.env.BENCH_SUSPENDED_CELLS ?? 50);
const sleepy = (mode: 'freeze' | 'stop', afterMs: number) => ({
  label: `Sleeps (${mode})`,
  services: { web: webService },
  idle: { afterMs, mode },
});

const stack = await startBenchStack({
  freeze: sleepy('freeze', 3_000),
  stop: sleepy('stop', 3_000),
  // Awake long enough to be measured awake first.
  slow: sleepy('freeze', 120_000),
});
const port = await getPort();
const proxy = await startProxy({
  db: stack.db,
  hostId: 'bench',
  host: '127.0.0.1',
  port,
  domain: 'localhost',
});
const waker = createWaker({ db: stack.db, client: stack.client, proxy });
proxy.setBeforeForward(waker.beforeForward);

async function create(template: string): Promise<string> {
  const response = await stack.app.inject({
    method: 'POST',
    url: '/cells',
    payload: { workspace: 'bench', template, brief: 'sleepy' },
  });
  const id = response.json().id as string;
  await waitForStatus({ db: stack.db }, id, ['ready'], 180_000);
  return id;
}

/** Time to the first byte of a GET through the proxy, in ms. */
async function firstByte(id: string): Promise<number> {
  const { status, ms } = await curlFirstByte(`http://web.${id}.localhost:${port}/health`);
  if (status !== 200) throw new Error(`cell ${id} answered ${status}`);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

const wakes: Record<string, number[]> = { freeze: [], stop: [] };
const awakeFirstByte: number[] = [];
for (const mode of ['freeze', 'stop'] as const) {
  for (let i = 0; i < SAMPLES; i++) {
    const id = await create(mode);
    if (mode === 'freeze') awakeFirstByte.push(await firstByte(id));
    await waitForStatus({ db: stack.db }, id, ['suspended'], 60_000);
    wakes[mode]?.push(await firstByte(id));
  }
}

/** RSS of every process of the cells (their cgroups' processes), in MiB. */
async function cellsRss(ids: string[]): Promise<number> {
  let kb = 0;
  for (const id of ids) {
    const procs = await readFile(`/sys/fs/cgroup/memory/hive/${id}/cgroup.procs`, 'utf8').catch(() => '');
    for (const pid of procs.split('\n').filter(Boolean)) {
      const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
      kb += Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    }
  }
  return kb / 1024;
}

const ids: string[] = [];
for (let i = 0; i < CELLS; i += 10) {
  ids.push(...(await Promise.all(Array.from({ length: Math.min(10, CELLS - i) }, () => create('slow')))));
}
const awakeCpu = await coreShareOver(10_000);
const awakeRss = await cellsRss(ids);
for (const id of ids) await waitForStatus({ db: stack.db }, id, ['suspended'], 180_000);
const asleepCpu = await coreShareOver(30_000);
const asleepRss = await cellsRss(ids);
const hasCgroups = (await readdir('/sys/fs/cgroup/memory/hive').catch(() => [])).length > 0;

console.log(`\nIdle cells: wake-to-first-byte through the proxy (${SAMPLES} each, median)`);
console.log('| measure | value |');
console.log('| --- | --- |');
console.log(`| awake cell, first byte | ${median(awakeFirstByte).toFixed(0)} ms |`);
console.log(`| frozen cell (cgroup freezer), first byte | ${median(wakes.freeze ?? []).toFixed(0)} ms |`);
console.log(
  `| stopped cell (services started again), first byte | ${median(wakes.stop ?? []).toFixed(0)} ms |`,
);
console.log(`\n${CELLS} cells of one HTTP service: awake (just ready) and suspended (frozen)`);
console.log('| measure | awake | suspended |');
console.log('| --- | --- | --- |');
console.log(
  `| whole stack CPU (Hive, dev server, services) | ${(awakeCpu * 100).toFixed(1)} % of a core | ${(asleepCpu * 100).toFixed(1)} % of a core |`,
);
console.log(
  `| RSS of the cells' processes | ${hasCgroups ? `${awakeRss.toFixed(0)} MiB` : 'n/a (no cgroups)'} | ${hasCgroups ? `${asleepRss.toFixed(0)} MiB (kept: frozen)` : 'n/a'} |`,
);
waker.stop();
await proxy.close();
await stack.stop();
