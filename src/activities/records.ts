import type { CellStatus } from '../cells/status.js';
import type { Db } from '../db/client.js';

export interface RecordsDeps {
  db: Db;
}

/** Activities that persist cell state. Each is an idempotent overwrite, safe to run twice. */
export function createRecordsActivities({ db }: RecordsDeps) {
  return {
    async setCellStatus({ cellId, status }: { cellId: string; status: CellStatus }): Promise<void> {
      await db.cell.update({
        where: { id: cellId },
        // readyAt feeds the measured provisioning times of the template catalog.
        data: { status, ...(status === 'ready' ? { readyAt: new Date() } : {}) },
      });
    },
  };
}
