// P6, big repositories: a repository of 100 packages × 1,000 small files (bench/bigRepoFixture.ts,
// made once and kept). In one run, alternating: plain `git worktree add` of the same commit into a
// folder beside the repository (the baseline), and a cold Hive cell of a worktree-only template from
// POST to ready, then its archive (DELETE to archived). `npx tsx bench/bigRepo.ts [rounds]`.
// BENCH_P6_DROP_PRISTINE=1 drops the pristine checkout of the commit before each cell (the first cell
// on a new base commit); by default it is kept, as between cells of the same commit.
import { readdir, readFile, rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { bigRepoTemplates, ensureBigRepo, FILES_PER_PACKAGE, PACKAGES } from './bigRepoFixture.js';
import { breakdown, type Phase } from './breakdown.js';
import { median, ms } from './measure.js';
import { startBenchStack } from './stack.js';

const ROUNDS = Number(process.argv[2] ?? 3);
const repo = await ensureBigRepo(console.log);
const commit = (await execa('git', ['rev-parse', 'HEAD'], { cwd: repo })).stdout.trim();
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/** Leftovers of an interrupted run: mounts under .cells, worktrees, cell branches. */
async function tidy() {
  const mounts = await readFile('/proc/self/mountinfo', 'utf8');
  const cells = path.join(repo, '.cells');
  for (const line of mounts.split('\n')) {
    const point = line.split(' ')[4];
    if (point?.startsWith(`${cells}/`)) await execa('umount', ['-l', point], { reject: false });
  }
  for (const entry of await readdir(cells).catch(() => [])) {
    // The dependency cache is a cache: kept (the pristine checkouts are in .git/hive/pristine).
    if (entry !== '.cache') await rm(path.join(cells, entry), { recursive: true, force: true });
  }
  await execa('git', ['worktree', 'prune'], { cwd: repo });
  const branches = (
    await execa('git', ['branch', '--list', 'cell/*', '--format=%(refname:short)'], { cwd: repo })
  ).stdout
    .split('\n')
    .filter(Boolean);
  if (branches.length) await execa('git', ['branch', '-D', ...branches], { cwd: repo });
}

async function baselineOne(i: number): Promise<number> {
  const target = `${repo}-beside-${i}`;
  await rm(target, { recursive: true, force: true });
  const started = performance.now();
  await execa('git', ['worktree', 'add', '-q', '--detach', target, commit], { cwd: repo });
  const took = performance.now() - started;
  await rm(target, { recursive: true, force: true });
  await execa('git', ['worktree', 'prune'], { cwd: repo });
  return took;
}

await tidy();
const { hive, client, stop } = await startBenchStack(bigRepoTemplates, { repo });

async function cellOne(i: number) {
  if (process.env.BENCH_P6_DROP_PRISTINE === '1') {
    await rm(path.join(repo, '.git', 'hive', 'pristine'), { recursive: true, force: true });
  }
  const postedAt = Date.now();
  const started = performance.now();
  const { id, workflowId } = await hive.createCell({
    workspace: 'bench',
    template: 'tree',
    brief: `p6 ${i}`,
  });
  const acceptedAt = Date.now();
  const cell = await hive.waitForCell(id);
  if (cell.status !== 'ready')
    throw new Error(`cell ${id} is ${cell.status}: ${JSON.stringify(cell.failure)}`);
  const took = performance.now() - started;
  const phases = await breakdown(client, workflowId, { postedAt, acceptedAt, readySeenAt: Date.now() });
  const worktreeStep = cell.steps?.find((s: { name: string }) => s.name === 'worktree') as
    | { detail?: unknown }
    | undefined;
  const archiveStarted = performance.now();
  await hive.archive(id);
  const archived = await hive.waitForCell(id, { done: (c) => c.status === 'archived' });
  if (archived.status !== 'archived') throw new Error(`cell ${id} is ${archived.status} after archive`);
  return { took, archive: performance.now() - archiveStarted, phases, detail: worktreeStep?.detail };
}

const base: number[] = [];
const cells: number[] = [];
const archives: number[] = [];
let phases: Phase[] = [];
const details: unknown[] = [];
for (let i = 0; i < ROUNDS; i++) {
  console.log(`round ${i + 1}: load ${load()}`);
  base.push(await baselineOne(i));
  const r = await cellOne(i);
  cells.push(r.took);
  archives.push(r.archive);
  details.push(r.detail);
  if (i === ROUNDS - 1) phases = r.phases;
  console.log(`  baseline ${ms(base[i] ?? 0)}, cell ${ms(r.took)}, archive ${ms(r.archive)}`);
}

console.log(
  `\nP6: ${PACKAGES * FILES_PER_PACKAGE} files (${PACKAGES} × ${FILES_PER_PACKAGE}), ${ROUNDS} rounds, load at the end ${load()}`,
);
console.log('| run | median | ratio to git worktree add |');
console.log('| --- | --- | --- |');
console.log(`| git worktree add beside the repository | ${ms(median(base))} | 1.00× |`);
console.log(
  `| Hive cell, worktree-only, POST → ready | ${ms(median(cells))} | ${(median(cells) / median(base)).toFixed(2)}× |`,
);
console.log(
  `| Hive archive, DELETE → archived | ${ms(median(archives))} | ${(median(archives) / median(base)).toFixed(2)}× |`,
);
console.log(`worktree step records: ${details.map((d) => JSON.stringify(d)).join(' ')}`);
console.log('\nThe last cell, phase by phase:\n');
console.log('| phase | ms |');
console.log('| --- | --- |');
for (const { phase, ms: value } of phases) console.log(`| ${phase} | ${value.toFixed(0)} |`);

await stop();
await tidy();
