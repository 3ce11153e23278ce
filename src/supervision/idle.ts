// Whether a watched cell is idle by its policy: no request through its URLs (the proxy notes the last
// one in Cell.lastRequestAt), its processes under the policy's share of a core, and no command (a
// command ends the watch, so the watch's start counts as the last one).
import type { CellPlan } from '../cells/plan.js';
import { cellCpuSeconds } from '../cgroups/usage.js';
import type { Db } from '../db/client.js';

/** Idleness is looked at every this many looks (5 s): reads the cell's record and its CPU. */
export const IDLE_EVERY_LOOKS = 5;

export interface IdleWatch {
  policy: NonNullable<CellPlan['idle']>;
  /** The last moment something went on (ms since the epoch). */
  busyAt: number;
  /** The cell's CPU seconds at the previous look. */
  cpu?: { seconds: number; at: number };
}

export const idleWatch = (policy: CellPlan['idle'], now = Date.now()): IdleWatch | undefined =>
  policy && { policy, busyAt: now };

/** Looks once; returns how long the cell has been idle (0 while something goes on). */
export async function idleSoFar(
  db: Db,
  cellId: string,
  watch: IdleWatch,
  serviceGroups: number[],
  now = Date.now(),
): Promise<number> {
  const cell = await db.cell.findUnique({ where: { id: cellId }, select: { lastRequestAt: true } });
  const requested = cell?.lastRequestAt?.getTime() ?? 0;
  if (requested > watch.busyAt) watch.busyAt = requested;
  const seconds = await cellCpuSeconds(cellId, serviceGroups);
  if (watch.cpu && now > watch.cpu.at) {
    const share = (seconds - watch.cpu.seconds) / ((now - watch.cpu.at) / 1000);
    if (share * 100 > watch.policy.cpuPercent) watch.busyAt = now;
  }
  watch.cpu = { seconds, at: now };
  return Math.max(0, now - watch.busyAt);
}

/** Why the cell is suspended, in words. */
export const idleReason = (watch: IdleWatch, idleMs: number): string =>
  `idle for ${Math.round(idleMs / 1000)} s: no request through its URLs, its processes under ${watch.policy.cpuPercent} % of a core, no command`;
