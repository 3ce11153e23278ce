import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type CgroupSupport, cgroupSupport } from './detect.js';
import { controllerDir } from './paths.js';

// Freezing a cell: its processes stop getting CPU at once and keep their memory; thawing resumes
// them where they were (for suspending idle cells). v1: freezer.state, v2: cgroup.freeze.

/** Freezes (or thaws) the given cgroup folders and waits until the kernel says it is done. */
export async function freezeDirs(support: CgroupSupport, dirs: string[], frozen: boolean): Promise<void> {
  for (const dir of dirs) {
    if (support.kind === 'v2') {
      await writeFile(path.join(dir, 'cgroup.freeze'), frozen ? '1' : '0');
      // cgroup.events says `frozen 1` once every process is stopped.
      await until(async () =>
        (await readFile(path.join(dir, 'cgroup.events'), 'utf8')).includes(`frozen ${frozen ? 1 : 0}`),
      );
    } else {
      const state = frozen ? 'FROZEN' : 'THAWED';
      await writeFile(path.join(dir, 'freezer.state'), state);
      // v1 passes through FREEZING while tasks are being stopped.
      await until(async () => (await readFile(path.join(dir, 'freezer.state'), 'utf8')).trim() === state);
    }
  }
}

async function until(done: () => Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error('the cgroup freezer did not settle');
    await sleep(10);
  }
}

/** The cell's freezer folder, or an error naming why it cannot be frozen. */
async function freezerOf(cellId: string): Promise<{ support: CgroupSupport; dir: string }> {
  const support = await cgroupSupport();
  if (support.kind === 'none') throw new Error(`cells cannot be frozen on this host: ${support.reason}`);
  const dir = controllerDir(support, cellId, 'freezer');
  if (!dir) throw new Error('cells cannot be frozen on this host: no cgroup v1 freezer hierarchy');
  return { support, dir };
}

/** Freezes every process of the cell: zero CPU, memory kept. */
export async function freezeCell(cellId: string): Promise<void> {
  const { support, dir } = await freezerOf(cellId);
  await freezeDirs(support, [dir], true);
}

/** Thaws a frozen cell: its processes run on from where they stopped. */
export async function thawCell(cellId: string): Promise<void> {
  const { support, dir } = await freezerOf(cellId);
  await freezeDirs(support, [dir], false);
}
