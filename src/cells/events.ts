import { EventEmitter, once } from 'node:events';
import { type Db, EVENT_ORDER_LOCK } from '../db/client.js';
import { Prisma } from '../db/generated/client.js';
import { dialectOf, table } from '../db/rawSql.js';
import { warn } from '../log.js';
import type { ActionEvent, CellEventData, RecordedEventKind } from './eventShapes.js';

export type { ActionEvent, CellActionName } from './eventShapes.js';

/** Appends to a cell's event log (the source of GET /cells/:id/events). Never fails its caller: logs. */
export async function recordEvent<K extends RecordedEventKind>(
  db: Db,
  cellId: string,
  type: K,
  data: CellEventData<K>,
): Promise<void> {
  // The event log is what people read, not what the cell's state hangs on: a failed write (the
  // database busy, the cell's row already gone) does not fail the step or request, but is logged.
  await appendEvent(db, cellId, type, JSON.stringify(data)).catch((error: unknown) =>
    warn('could not record a cell event', { cellId, type, error: String(error) }),
  );
  recorded.emit(cellId);
  recorded.emit(ANY_CELL);
}

/**
 * The one writer of CellEvent rows, in raw SQL (src/db/rawSql.ts: a provisioning records ~20). On
 * PostgreSQL the same statement first takes the event order lock (EVENT_ORDER_LOCK), so ids commit in
 * id order; the timestamp is bound as Prisma's model API writes it (UTC, milliseconds).
 */
async function appendEvent(db: Db, cellId: string, type: string, data: string): Promise<void> {
  const events = table(db, 'CellEvent');
  const now = new Date();
  await db.$executeRaw(
    dialectOf(db) === 'postgresql'
      ? Prisma.sql`INSERT INTO ${events} ("cellId", "type", "data", "createdAt")
          SELECT ${cellId}, ${type}, ${data}, CAST(${now.toISOString()} AS TIMESTAMP(3))
          FROM (SELECT pg_advisory_xact_lock(${EVENT_ORDER_LOCK})) AS "orderLock"`
      : Prisma.sql`INSERT INTO ${events} ("cellId", "type", "data", "createdAt")
          VALUES (${cellId}, ${type}, ${data}, ${now})`,
  );
}

export interface EventRow {
  id: number;
  type: string;
  data: string;
}

/** A cell's events after `afterId`, oldest first, at most `take` (raw SQL: a stream reads per event). */
export function readEventsAfter(db: Db, cellId: string, afterId: number, take: number): Promise<EventRow[]> {
  return db.$queryRaw<EventRow[]>`SELECT "id", "type", "data" FROM ${table(db, 'CellEvent')}
    WHERE "cellId" = ${cellId} AND "id" > ${afterId} ORDER BY "id" ASC LIMIT ${take}`;
}

/**
 * Event streams poll the records (a worker in another process writes them too); one in the process
 * that wrote an event is woken at once instead of at its next poll (`hive up`: API and worker share
 * a process, and a client waiting for `ready` hears it a poll period sooner).
 */
const recorded = new EventEmitter().setMaxListeners(0);
const ANY_CELL = '*';

/**
 * Resolves when this process records an event of the cell (any cell: no id), with true, or after
 * `ms`, with false.
 */
export async function nextEvent(cellId: string | undefined, ms: number): Promise<boolean> {
  return once(recorded, cellId ?? ANY_CELL, { signal: AbortSignal.timeout(ms) }).then(
    () => true,
    () => false,
  );
}

/** Records who did what to a cell (an `action` event). */
export function recordAction(db: Db, cellId: string, event: ActionEvent): Promise<void> {
  return recordEvent(db, cellId, 'action', event);
}
