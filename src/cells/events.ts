import type { Db } from '../db/client.js';

export type CellEventType = 'status' | 'step' | 'operation' | 'plan';

/** Appends to a cell's event log (the source of GET /cells/:id/events). Never fails its caller. */
export async function recordEvent(db: Db, cellId: string, type: CellEventType, data: object): Promise<void> {
  await db.cellEvent.create({ data: { cellId, type, data: JSON.stringify(data) } }).catch(() => undefined);
}
