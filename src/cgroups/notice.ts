import type { Finding } from '../templates/findings.js';
import { warning } from '../templates/findings.js';
import { CELL_PIDS_MAX } from './cell.js';
import { type CgroupSupport, cgroupSupport } from './detect.js';

// Saying whether cells' limits are enforced on this host: once in `hive up`'s startup lines, and
// as a dry-run warning (not an error: cells still work, as before, without limits).

/** The startup line: which cgroups enforce cells' limits, or why none do. */
export async function cgroupNotice(support?: CgroupSupport): Promise<string> {
  support ??= await cgroupSupport();
  if (support.kind === 'none') {
    return `no cgroups for cells (${support.reason}): resources.memoryMb and resources.cpu are not enforced`;
  }
  return `cgroup ${support.kind} (memory, cpu, ${CELL_PIDS_MAX} pids per cell)`;
}

/** The dry run's finding when this host cannot enforce a template's `resources`. */
export async function checkCellLimits(base: string, support?: CgroupSupport): Promise<Finding[]> {
  support ??= await cgroupSupport();
  if (support.kind !== 'none') return [];
  return [
    warning(
      `${base}.resources`,
      `this host has no cgroups Hive can use (${support.reason}): cells run without memory, CPU or process limits`,
      'Run Hive as root, or delegate a cgroup v2 subtree with the memory, cpu and pids controllers to its user.',
    ),
  ];
}
