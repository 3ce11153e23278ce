import path from 'node:path';
import { cellIdPattern } from '../cells/ids.js';
import { type CgroupSupport, V1_CONTROLLERS } from './detect.js';

// Where a cell's cgroup is: <hierarchy>/hive/<cell id>, in each v1 controller or once in v2.

/** The cell's folder in every hierarchy Hive uses (one with v2), or [] without cgroups. */
export function cellDirs(support: CgroupSupport, cellId: string): string[] {
  // Hive's own id, checked anyway: it never names another folder.
  if (!cellIdPattern.test(cellId)) throw new Error(`not a cell id: ${JSON.stringify(cellId)}`);
  if (support.kind === 'v2') return [path.join(support.root, cellId)];
  if (support.kind === 'v1') {
    return V1_CONTROLLERS.flatMap((c) => (support.roots[c] ? [path.join(support.roots[c], cellId)] : []));
  }
  return [];
}

/** The folder of one v1 controller (or the v2 folder), undefined without it. */
export function controllerDir(
  support: CgroupSupport,
  cellId: string,
  controller: string,
): string | undefined {
  if (support.kind === 'v2') return path.join(support.root, cellId);
  if (support.kind === 'v1') {
    const root = support.roots[controller as keyof typeof support.roots];
    return root ? path.join(root, cellId) : undefined;
  }
  return undefined;
}
