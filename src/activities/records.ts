import { recordEvent } from '../cells/events.js';
import type { ReadyCell } from '../cells/plan.js';
import type { Failure } from '../cells/schema.js';
import type { CellStatus } from '../cells/status.js';
import type { Db } from '../db/client.js';
import { Prisma } from '../db/generated/client.js';
import { table } from '../db/rawSql.js';

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
 * `setCellStatus` does, and placement for `provisioning` (src/activities/hosts.ts). Idempotent. In
 * raw SQL (src/db/rawSql.ts: two writes on the way to every ready cell): one UPDATE that changes
 * only a row in another status says whether this is a transition; a retry finds none and writes the
 * same fields again.
 */
export async function writeCellStatus(
  db: Db,
  { cellId, status, failure, poolReady }: StatusWrite,
): Promise<void> {
  const now = new Date();
  // readyAt feeds the measured provisioning times of the template catalog; a ready cell shows no failure.
  const shown =
    failure !== undefined ? failure && JSON.stringify(failure) : status === 'ready' ? null : undefined;
  const fields = Prisma.join(
    [
      Prisma.sql`"status" = ${status}`,
      Prisma.sql`"updatedAt" = ${now}`,
      ...(status === 'ready' ? [Prisma.sql`"readyAt" = ${now}`] : []),
      ...(shown !== undefined ? [Prisma.sql`"failure" = ${shown}`] : []),
      ...(poolReady ? [Prisma.sql`"poolReady" = ${JSON.stringify(poolReady)}`] : []),
    ],
    ', ',
  );
  const cells = table(db, 'Cell');
  const changed =
    await db.$executeRaw`UPDATE ${cells} SET ${fields} WHERE "id" = ${cellId} AND "status" <> ${status}`;
  if (changed > 0) {
    await recordEvent(db, cellId, 'status', failure ? { status, failure } : { status });
    return;
  }
  // Already in this status (a retried activity must not log a transition twice): fields written again.
  if ((await db.$executeRaw`UPDATE ${cells} SET ${fields} WHERE "id" = ${cellId}`) === 0) {
    throw new Error(`no cell ${cellId} to record status ${status} for`);
  }
}

/** Activities that persist cell state. Each is an idempotent overwrite, safe to run twice. */
export function createRecordsActivities({ db }: RecordsDeps) {
  return {
    async setCellStatus(write: StatusWrite): Promise<void> {
      await writeCellStatus(db, write);
    },
  };
}
