import { EventEmitter, once } from 'node:events';
import type { Db } from '../db/client.js';

export type CellEventType = 'status' | 'step' | 'operation' | 'plan' | 'archive' | 'action' | 'notification';

/** What a person (or client) asked of a cell, recorded when the API accepted it. */
export type CellActionName =
  | 'create'
  | 'cancel'
  | 'retry'
  | 'cleanup'
  | 'archive'
  | 'restore'
  | 'service'
  /** A warm pool let its cell go (`by: pool`): archived with discard, or cancelled while provisioning. */
  | 'recycle';

export interface ActionEvent {
  action: CellActionName;
  /** The API token's name, `local` for tokenless use of a loopback-bound API, or `pool` (warm pools). */
  by: string;
  /** For a service command: which service, and stop | start | restart. */
  service?: string;
  command?: string;
}

/** Appends to a cell's event log (the source of GET /cells/:id/events). Never fails its caller. */
export async function recordEvent(db: Db, cellId: string, type: CellEventType, data: object): Promise<void> {
  await db.cellEvent.create({ data: { cellId, type, data: JSON.stringify(data) } }).catch(() => undefined);
  recorded.emit(cellId);
  recorded.emit(ANY_CELL);
}

/**
 * Event streams poll the records (a worker in another process writes them too); one in the process
 * that wrote an event is woken at once instead of at its next poll (`hive up`: API and worker share
 * a process, and a client waiting for `ready` hears it a poll period sooner).
 */
const recorded = new EventEmitter().setMaxListeners(0);
const ANY_CELL = '*';

/** Resolves when this process records an event of the cell (any cell: no id), or after `ms`. */
export async function nextEvent(cellId: string | undefined, ms: number): Promise<void> {
  await once(recorded, cellId ?? ANY_CELL, { signal: AbortSignal.timeout(ms) }).catch(() => undefined);
}

/** Records who did what to a cell (an `action` event). */
export function recordAction(db: Db, cellId: string, event: ActionEvent): Promise<void> {
  return recordEvent(db, cellId, 'action', event);
}
