// Dependency cache benchmark (issue P4): a real project with a lockfile of a few hundred packages
// (bench/fixtures/large-project). Baseline: `npm ci` in a fresh checkout, with npm's own download
// cache warm (the best case for installing per worktree). Hive: the dependency step of a cell
// whose key is in the cache (a full copy of node_modules, `cp -a --reflink=auto`).
// Run: npm run bench -- [N]   (N fresh installs and N cached copies, medians compared)
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { provideDependencies } from '../src/activities/dependencies.js';
import type { CellPlan } from '../src/cells/plan.js';
import { median } from './measure.js';

const N = Math.max(1, Math.min(Number(process.argv[2] ?? 3), 5));
const fixture = path.join(import.meta.dirname, 'fixtures', 'large-project');
const install = 'npm ci --no-audit --no-fund --loglevel=error';

const workspace = await mkdtemp(path.join(tmpdir(), 'hive-bench-deps-'));
/** A checkout of the project, as a cell's worktree would be. */
async function checkout(name: string): Promise<string> {
  const dir = path.join(workspace, '.cells', name);
  await cp(fixture, dir, { recursive: true });
  await mkdir(path.join(dir, '.hive'));
  return dir;
}
const plan = (name: string, worktreePath: string) =>
  ({
    cellId: name,
    workspacePath: workspace,
    worktreePath,
    dependencies: [{ key: ['package-lock.json'], paths: ['node_modules'], install }],
  }) as unknown as CellPlan;
const run = (cwd: string) => async (command: string) => {
  await execa(command, { shell: true, cwd, stdio: 'ignore' });
};
const quiet = async () => undefined;

// Warm npm's download cache once (not measured), as on any machine that installed before.
const warm = await checkout('warm');
await execa(install, { shell: true, cwd: warm, stdio: 'ignore' });

const fresh: number[] = [];
for (let i = 0; i < N; i++) {
  const dir = await checkout(`fresh${i}`);
  const started = performance.now();
  await execa(install, { shell: true, cwd: dir, stdio: 'ignore' });
  fresh.push(performance.now() - started);
}

// The first cell installs and fills the cache (not counted); the next N copy from it.
const first = await checkout('cfirst');
const [filled] = await provideDependencies({
  plan: plan('cfirst', first),
  install: run(first),
  report: quiet,
});
const copies: number[] = [];
for (let i = 0; i < N; i++) {
  const dir = await checkout(`ccell${i}`);
  const started = performance.now();
  const [outcome] = await provideDependencies({
    plan: plan(`ccell${i}`, dir),
    install: run(dir),
    report: quiet,
  });
  copies.push(performance.now() - started);
  if (outcome?.source !== 'cache') throw new Error('expected a copy from the cache');
}
const { stdout: packages } = await execa('sh', [
  '-c',
  `ls -d ${first}/node_modules/* ${first}/node_modules/@*/* | wc -l`,
]);
const { stdout: size } = await execa('du', ['-sh', path.join(first, 'node_modules')]);

console.log(
  `\nDependency cache, N = ${N}: ${packages.trim()} packages in node_modules, ${size.split('\t')[0]}`,
);
console.log('| run | median | ratio to npm ci |');
console.log('| --- | --- | --- |');
console.log(`| fresh \`npm ci\` (npm cache warm) | ${median(fresh).toFixed(0)} ms | 1.00 |`);
console.log(
  `| first cell: install + fill the cache | ${filled?.ms.toFixed(0)} ms | ${((filled?.ms ?? 0) / median(fresh)).toFixed(2)} |`,
);
console.log(
  `| later cell: copy from the cache (P4) | ${median(copies).toFixed(0)} ms | ${(median(copies) / median(fresh)).toFixed(2)} |`,
);
await rm(workspace, { recursive: true, force: true });
