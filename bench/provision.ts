import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { simpleGit } from 'simple-git';
import { webService } from '../test/support/templates.js';
import { agentClient } from './agentProcess.js';
import { breakdown, medianPhases, type Phase } from './breakdown.js';
import { median, ms, shellBaseline } from './measure.js';
import { startBenchStack } from './stack.js';

const N = Number(process.argv[2] ?? 10);

const { db, hive, client, repo, stop, endCell } = await startBenchStack({
  web: { label: 'Web', services: { web: webService } },
});

// The agent asking for cells is its own process, as a real one is (bench/agentProcess.ts).
const agent = agentClient(hive.url);

async function provisionOne(i: number): Promise<{ id: string; ms: number; phases: () => Promise<Phase[]> }> {
  // As an agent runner does: POST, then wait on the cell's event stream until it rests.
  const cell = await agent.provision({ workspace: 'bench', template: 'web', brief: `bench ${i}` });
  if (cell.status !== 'ready')
    throw new Error(`cell ${cell.id} is ${cell.status}: ${JSON.stringify(cell.failure)}`);
  return { id: cell.id, ms: cell.ms, phases: () => breakdown(client, cell.workflowId, cell) };
}

/** Not measured: stop the service, remove worktree and branch, release the ports. */
async function cleanUp(id: string) {
  await endCell(id);
  const git = simpleGit(repo);
  await git.raw(['worktree', 'remove', '--force', path.join(repo, '.cells', id)]);
  await git.raw(['branch', '-D', `cell/${id}`]);
  await db.portAllocation.updateMany({ where: { cellId: id }, data: { activeKey: null } });
}

const baselineOne = (i: number) => shellBaseline(repo, `b${i}`);

/** CPU time all cores have spent busy since boot, in ms (/proc/stat; user, nice, system, irq, softirq, steal). */
function machineBusyMs(): number {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '')
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
  return ((user + nice + system + irq + softirq + steal) * 1000) / 100; // USER_HZ is 100 on Linux
}

// Warm-up (workflow bundle, first git and node start) is not measured.
await cleanUp((await provisionOne(-1)).id);
await baselineOne(-1);

const hiveSeq: number[] = [];
const baseSeq: number[] = [];
const seqPhases: Phase[][] = [];
// The CPU the sequential cells cost: this process (API, worker, its workflow thread) and the whole
// machine, over the provisioning only (the phases and the clean-up are not counted).
let cpu = { process: 0, machine: 0 };
// A Hive cell, then the shell's, in turns: this machine's speed drifts over a run (the baseline has
// moved by a fifth between runs minutes apart), and the ratio should compare like with like.
for (let i = 0; i < N; i++) {
  const [p0, m0] = [process.cpuUsage(), machineBusyMs()];
  const r = await provisionOne(i);
  const p = process.cpuUsage(p0);
  cpu = { process: cpu.process + (p.user + p.system) / 1000, machine: cpu.machine + machineBusyMs() - m0 };
  hiveSeq.push(r.ms);
  seqPhases.push(await r.phases());
  await cleanUp(r.id);
  baseSeq.push(await baselineOne(i));
}

let t = performance.now();
const parallel = await Promise.all(Array.from({ length: N }, (_, i) => provisionOne(100 + i)));
const hiveParWall = performance.now() - t;
for (const r of parallel) await cleanUp(r.id);
t = performance.now();
const baseParallel = await Promise.all(Array.from({ length: N }, (_, i) => baselineOne(100 + i)));
const baseParWall = performance.now() - t;

const rss = process.memoryUsage().rss / (1024 * 1024);
console.log(`N = ${N}, node ${process.version}, ${cpus().length} cores`);
console.log('| run | Hive cells (median) | shell baseline (median) | ratio |');
console.log('| --- | --- | --- | --- |');
console.log(
  `| sequential, per cell | ${ms(median(hiveSeq))} | ${ms(median(baseSeq))} | ${(median(hiveSeq) / median(baseSeq)).toFixed(1)}× |`,
);
console.log(
  `| ${N} at once, per cell | ${ms(median(parallel.map((r) => r.ms)))} | ${ms(median(baseParallel))} | ${(median(parallel.map((r) => r.ms)) / median(baseParallel)).toFixed(1)}× |`,
);
console.log(
  `| ${N} at once, wall clock | ${ms(hiveParWall)} | ${ms(baseParWall)} | ${(hiveParWall / baseParWall).toFixed(1)}× |`,
);
console.log(`bench process RSS at the end (API + worker): ${rss.toFixed(0)} MiB`);
console.log(
  `CPU per sequential cell (${ms(median(hiveSeq))} wall): this process ${ms(cpu.process / N)}, the whole machine (${cpus().length} cores) ${ms(cpu.machine / N)}`,
);
console.log('\nWhere the time of a sequential cell goes (median of each phase over the runs):\n');
console.log('| phase | ms |');
console.log('| --- | --- |');
for (const { phase, ms: value } of medianPhases(seqPhases)) console.log(`| ${phase} | ${value.toFixed(0)} |`);

agent.close();
await stop();
