import type { CellStatus } from '../cells/status.js';
import type { Db } from '../db/client.js';
import type { FailureInfo } from '../workflows/types.js';

export interface RecordsDeps {
  db: Db;
}

/** Activities that persist cell state. Each is an idempotent overwrite, safe to run twice. */
export function createRecordsActivities({ db }: RecordsDeps) {
  return {
    async setCellStatus({
      cellId,
      status,
      failure,
    }: {
      cellId: string;
      status: CellStatus;
      failure?: FailureInfo;
    }): Promise<void> {
      await db.cell.update({
        where: { id: cellId },
        data: {
          status,
          // readyAt feeds the measured provisioning times of the template catalog.
          ...(status === 'ready' ? { readyAt: new Date(), failure: null } : {}),
          ...(failure ? { failure: JSON.stringify(failure) } : {}),
        },
      });
    },
  };
}
