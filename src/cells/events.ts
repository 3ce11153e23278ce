import type { Db } from '../db/client.js';

export type CellEventType = 'status' | 'step' | 'operation';

/** Appends to a cell's event log (the source of GET /cells/:id/events). Never fails its caller. */
export async function recordEvent(db: Db, cellId: string, type: CellEventType, data: object): Promise<void> {
  await db.cellEvent.create({ data: { cellId, type, data: JSON.stringify(data) } }).catch(() => undefined);
}

/** Operation updates can come every probe period; one event a second per step is plenty to watch. */
const lastOperationEvent = new Map<string, number>();

export async function recordOperation(
  db: Db,
  cellId: string,
  step: string,
  operation: string,
): Promise<void> {
  const key = `${cellId}/${step}`;
  const now = Date.now();
  if (now - (lastOperationEvent.get(key) ?? 0) < 1_000) return;
  lastOperationEvent.set(key, now);
  await recordEvent(db, cellId, 'operation', { step, operation });
}
