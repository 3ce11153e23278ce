import { recordEvent } from '../cells/events.js';
import type { ReadyCell } from '../cells/plan.js';
import type { Failure } from '../cells/schema.js';
import type { CellStatus } from '../cells/status.js';
import type { Db } from '../db/client.js';

export interface RecordsDeps {
  db: Db;
}

export interface StatusWrite {
  cellId: string;
  status: CellStatus;
  /** A failure to show; null clears the one shown. */
  failure?: Failure | null;
  /** A pool cell turning ready: what it runs with, kept for its API to hand a claim over (src/pools). */
  poolReady?: ReadyCell;
}

/**
 * Records a cell's status (and the failure shown), with its event when it is a transition: what
 * `setCellStatus` does, and placement for `provisioning` (src/activities/hosts.ts). Idempotent.
 */
export async function writeCellStatus(
  db: Db,
  { cellId, status, failure, poolReady }: StatusWrite,
): Promise<void> {
  const before = await db.cell.findUnique({ where: { id: cellId }, select: { status: true } });
  await db.cell.update({
    where: { id: cellId },
    data: {
      status,
      // readyAt feeds the measured provisioning times of the template catalog.
      ...(status === 'ready' ? { readyAt: new Date(), failure: null } : {}),
      ...(failure !== undefined ? { failure: failure && JSON.stringify(failure) } : {}),
      ...(poolReady ? { poolReady: JSON.stringify(poolReady) } : {}),
    },
  });
  // A retried activity must not log a transition twice.
  if (before?.status !== status)
    await recordEvent(db, cellId, 'status', failure ? { status, failure } : { status });
}

/** Activities that persist cell state. Each is an idempotent overwrite, safe to run twice. */
export function createRecordsActivities({ db }: RecordsDeps) {
  return {
    async setCellStatus(write: StatusWrite): Promise<void> {
      await writeCellStatus(db, write);
    },
  };
}
