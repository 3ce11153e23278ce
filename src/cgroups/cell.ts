import { mkdirSync, writeFileSync } from 'node:fs';
import { readFile, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type CgroupSupport, cgroupSupport } from './detect.js';
import { freezeDirs } from './freeze.js';
import { cellDirs, controllerDir } from './paths.js';

// A cell's own cgroup: made (idempotently) before its first service starts, with the limits its
// template declares; every process of the cell is in it from its first instruction (spawn.ts), so
// it is also how every one of them is found and ended, and how the cell is frozen.

/** The template's `resources` a cell's cgroup enforces. */
export interface CellLimits {
  /** Cores: a hard cap (CFS quota) of this many CPUs' worth of time. */
  cpu?: number;
  /** MiB: the memory cap; past it the kernel's OOM killer ends a process of the cell. */
  memoryMb?: number;
}

/**
 * Processes (and threads) one cell may have at once: a fork bomb or a runaway test runner stops
 * there instead of exhausting the host's pid space, and real dev stacks stay far below it.
 */
export const CELL_PIDS_MAX = 4096;

/** The CFS period the cpu cap is expressed in (the kernel's default). */
const CPU_PERIOD_US = 100_000;

// cgroupfs writes are kernel calls of microseconds, made just before a service is spawned:
// synchronous, so the spawn does not wait for the event loop once per file (issue #23).
const set = async (dir: string, file: string, value: string) => writeFileSync(path.join(dir, file), value);

/** Writes the limits (again: a re-plan may have changed them; writing the same value is harmless). */
async function applyLimits(support: CgroupSupport, cellId: string, limits: CellLimits): Promise<void> {
  const memory = limits.memoryMb ? String(limits.memoryMb * 1024 * 1024) : undefined;
  const quota = limits.cpu ? String(Math.max(1_000, Math.round(limits.cpu * CPU_PERIOD_US))) : undefined;
  if (support.kind === 'v2') {
    const dir = path.join(support.root, cellId);
    await set(dir, 'memory.max', memory ?? 'max');
    // No swap past the cap: a cell over its memory is ended, not paged out slowly.
    await set(dir, 'memory.swap.max', memory ? '0' : 'max').catch(() => undefined);
    await set(dir, 'cpu.max', `${quota ?? 'max'} ${CPU_PERIOD_US}`);
    await set(dir, 'pids.max', String(CELL_PIDS_MAX));
    return;
  }
  const memoryDir = controllerDir(support, cellId, 'memory');
  const cpuDir = controllerDir(support, cellId, 'cpu');
  const pidsDir = controllerDir(support, cellId, 'pids');
  if (memoryDir) {
    await set(memoryDir, 'memory.limit_in_bytes', memory ?? '-1');
    // Swap counts toward the cap where the kernel accounts it (memsw), for the same reason as above.
    await set(memoryDir, 'memory.memsw.limit_in_bytes', memory ?? '-1').catch(() => undefined);
  }
  if (cpuDir) {
    await set(cpuDir, 'cpu.cfs_period_us', String(CPU_PERIOD_US));
    await set(cpuDir, 'cpu.cfs_quota_us', quota ?? '-1');
  }
  if (pidsDir) await set(pidsDir, 'pids.max', String(CELL_PIDS_MAX));
}

/**
 * Makes the cell's cgroup (idempotent) with its limits; returns the cgroup.procs files a process
 * joins it by, or [] where the host has no cgroups for Hive (today's behaviour: no limits).
 */
export async function prepareCellCgroup(cellId: string, limits: CellLimits = {}): Promise<string[]> {
  const support = await cgroupSupport();
  const dirs = cellDirs(support, cellId);
  for (const dir of dirs) mkdirSync(dir, { recursive: true });
  await applyLimits(support, cellId, limits);
  return dirs.map((dir) => path.join(dir, 'cgroup.procs'));
}

/** Every process in the cell's cgroup (the union over its hierarchies). */
export async function cellProcesses(cellId: string): Promise<number[]> {
  const pids = new Set<number>();
  for (const dir of cellDirs(await cgroupSupport(), cellId)) {
    const text = await readFile(path.join(dir, 'cgroup.procs'), 'utf8').catch(() => '');
    for (const line of text.split('\n')) if (line) pids.add(Number(line));
  }
  return [...pids];
}

const signalAll = (pids: number[], signal: NodeJS.Signals) => {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
};

async function waitEmpty(cellId: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while ((await cellProcesses(cellId)).length > 0) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

/**
 * Ends every process of the cell (SIGTERM, then after `graceMs` SIGKILL with the cgroup frozen so
 * nothing forks in between) and removes its cgroup: zero residue. Returns how many processes were
 * found. Idempotent: a cell without a cgroup (or a host without cgroups) has nothing to end.
 */
export async function endCellCgroup(cellId: string, graceMs = 2_000): Promise<number> {
  const support = await cgroupSupport();
  const dirs = cellDirs(support, cellId);
  const found = await cellProcesses(cellId);
  if (found.length > 0) {
    signalAll(found, 'SIGTERM');
    if (!(await waitEmpty(cellId, graceMs))) {
      const freezer = controllerDir(support, cellId, 'freezer');
      const frozen = freezer
        ? await freezeDirs(support, [freezer], true).then(
            () => true,
            () => false,
          )
        : false;
      signalAll(await cellProcesses(cellId), 'SIGKILL');
      if (frozen && freezer) await freezeDirs(support, [freezer], false);
      if (!(await waitEmpty(cellId, 5_000))) {
        throw new Error(
          `processes of cell ${cellId} outlived SIGKILL: ${(await cellProcesses(cellId)).join(' ')}`,
        );
      }
    }
  }
  for (const dir of dirs) {
    await rmdir(dir).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }
  return found.length;
}
