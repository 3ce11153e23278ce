// The shape of every event a cell's story carries: recorded (status, step, operation, plan, archive,
// action, notification) and streamed live (log, end). One zod shape per kind; the union the API
// streams and the clients read derives from them, so the server writes through them and the
// clients parse instead of casting. A leaf (zod and plain constants only): the browser dashboard
// bundles it.
import type { z } from 'zod';
import { array, boolean, looseObject, number, object, enum as oneOf, string, unknown } from 'zod';
import { PLAN_PARTS } from './catalog.js';
import { Failure } from './failure.js';
import { cellStatuses } from './status.js';

/** What a person (or client) asked of a cell, recorded when the API accepted it. */
export const cellActionNames = [
  'create',
  'cancel',
  'retry',
  'cleanup',
  'archive',
  'restore',
  'service',
  /** Wake a suspended cell (`by`: the person, or `proxy` for a request through its URLs). */
  'resume',
  /** A warm pool let its cell go (`by: pool`): archived with discard, or cancelled while provisioning. */
  'recycle',
] as const;
export type CellActionName = (typeof cellActionNames)[number];

/** The events recorded in a cell's event log (GET /cells/:id/events replays them, with ids). */
export const recordedEventShapes = {
  status: object({
    status: oneOf(cellStatuses),
    failure: Failure.optional(),
    /** Set on the `pending` of a cell being restored. */
    restoring: boolean().optional(),
  }),
  step: object({
    name: string(),
    kind: oneOf(['forward', 'compensation']),
    status: oneOf(['running', 'succeeded', 'failed']),
    attempt: number(),
    /** A failed step's error (the workflow adds the step name when it reports the failure). */
    error: Failure.omit({ step: true, residue: true }).optional(),
  }),
  operation: object({ step: string(), operation: string() }),
  /** A retry's re-plan: what changed in the config since the last attempt. */
  plan: object({
    changed: array(oneOf(PLAN_PARTS)),
    message: string(),
    includes: object({ copied: array(string()), kept: array(string()) }).optional(),
  }),
  /** What an archive saved (or discarded): the archive record, as the API shows it. */
  archive: looseObject({}),
  action: object({
    action: oneOf(cellActionNames),
    /** The API token's name, `local` for tokenless use of a loopback-bound API, or `pool` (warm pools). */
    by: string(),
    /** For a service command: which service, and stop | start | restart. */
    service: string().optional(),
    command: string().optional(),
  }),
  /** A delivery to the cell's notify target: recorded, attempted, delivered or given up. */
  notification: looseObject({ id: string(), event: string() }),
} as const;

/** Events streamed live only (no id): service log lines, and the end of a cell's stream. */
export const liveEventShapes = {
  log: object({ service: string(), line: string() }),
  /**
   * The stream ends: the status the cell rests in, and the cell itself as GET /cells/:id answers it
   * then (its id and status checked here, the rest passed on), so a waiting client needs no second
   * request. A server that does not send it: the client asks.
   */
  end: object({
    status: oneOf(cellStatuses),
    cell: looseObject({ id: string(), status: oneOf(cellStatuses) }).optional(),
  }),
} as const;

export const cellEventShapes = { ...recordedEventShapes, ...liveEventShapes } as const;

export type RecordedEventKind = keyof typeof recordedEventShapes;
export type CellEventKind = keyof typeof cellEventShapes;
export type CellEventData<K extends CellEventKind> = z.infer<(typeof cellEventShapes)[K]>;
export type ActionEvent = CellEventData<'action'>;

/** One event of a cell's stream, as the API sends it: recorded ones carry their id. */
export type CellEvent = {
  [K in CellEventKind]: K extends RecordedEventKind
    ? { id: string; event: K; data: CellEventData<K> }
    : { id?: undefined; event: K; data: CellEventData<K> };
}[CellEventKind];

const isKind = (event: string): event is CellEventKind => Object.hasOwn(cellEventShapes, event);

/**
 * An event of the stream, checked against its kind's shape; undefined for a kind this version does
 * not know or data that does not fit it (the caller decides whether to say so).
 */
export function parseCellEvent(event: string, data: unknown, id?: string): CellEvent | undefined {
  if (!isKind(event)) return undefined;
  const parsed = cellEventShapes[event].safeParse(data);
  if (!parsed.success) return undefined;
  return (
    event in recordedEventShapes ? { id, event, data: parsed.data } : { event, data: parsed.data }
  ) as CellEvent;
}

/** One recorded event of any cell, as the cross-cell stream (GET /events) carries it. */
export const CellFeedEvent = object({
  cellId: string(),
  workspaceId: string(),
  data: unknown().describe("The event's data, as GET /cells/:id/events carries it"),
});
export type CellFeedEvent = z.infer<typeof CellFeedEvent>;
