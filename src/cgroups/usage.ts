import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { liveProcesses } from '../activities/processes.js';
import { cellProcesses } from './cell.js';
import { cgroupSupport } from './detect.js';
import { controllerDir } from './paths.js';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** CPU seconds of a process and its reaped children (utime, stime, cutime, cstime of /proc/<pid>/stat). */
async function processCpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [11, 12, 13, 14].reduce((sum, i) => sum + (Number(fields[i]) || 0), 0) / TICKS_PER_SECOND;
}

/**
 * CPU time used so far by the cell's processes, in seconds: from its cgroup (v2 `cpu.stat`; v1: its
 * processes, a daemon that left its service's process group included), else from the process groups
 * of its services. What decides whether an idle cell is busy: only the difference between two looks
 * matters.
 */
export async function cellCpuSeconds(cellId: string, serviceGroups: number[]): Promise<number> {
  const support = await cgroupSupport();
  if (support.kind === 'v2') {
    const dir = controllerDir(support, cellId, 'cpu');
    const stat = dir && (await readFile(path.join(dir, 'cpu.stat'), 'utf8').catch(() => undefined));
    const usec = stat && /^usage_usec (\d+)$/m.exec(stat)?.[1];
    if (usec) return Number(usec) / 1e6;
  }
  let pids = support.kind === 'none' ? [] : await cellProcesses(cellId);
  if (pids.length === 0 && serviceGroups.length > 0) {
    const groups = new Set(serviceGroups);
    pids = [...(await liveProcesses())].filter(([, p]) => groups.has(p.pgid)).map(([pid]) => pid);
  }
  const seconds = await Promise.all(pids.map(processCpuSeconds));
  return seconds.reduce((a, b) => a + b, 0);
}
