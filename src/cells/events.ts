import type { Db } from '../db/client.js';

export type CellEventType = 'status' | 'step' | 'operation' | 'plan' | 'archive' | 'action' | 'notification';

/** What a person (or client) asked of a cell, recorded when the API accepted it. */
export type CellActionName = 'create' | 'cancel' | 'retry' | 'cleanup' | 'archive' | 'restore' | 'service';

export interface ActionEvent {
  action: CellActionName;
  /** The API token's name, or `local` for tokenless use of a loopback-bound API. */
  by: string;
  /** For a service command: which service, and stop | start | restart. */
  service?: string;
  command?: string;
}

/** Appends to a cell's event log (the source of GET /cells/:id/events). Never fails its caller. */
export async function recordEvent(db: Db, cellId: string, type: CellEventType, data: object): Promise<void> {
  await db.cellEvent.create({ data: { cellId, type, data: JSON.stringify(data) } }).catch(() => undefined);
}

/** Records who did what to a cell (an `action` event). */
export function recordAction(db: Db, cellId: string, event: ActionEvent): Promise<void> {
  return recordEvent(db, cellId, 'action', event);
}
