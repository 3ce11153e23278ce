// Plain constants (no zod) so workflow code can import them without pulling validation into the
// deterministic sandbox bundle.
export const cellStatuses = [
  'pending',
  'queued',
  'provisioning',
  'ready',
  'degraded',
  'suspended',
  'failed',
  'lost',
  'rolling_back',
  'rolled_back',
  'cancelling',
  'cancelled',
  'archiving',
  'archived',
  'cleanup_failed',
] as const;
export type CellStatus = (typeof cellStatuses)[number];

/**
 * Resting states: nothing happens until a person acts (or, for failed, the preserve timer; for
 * lost, its host's return).
 */
export const restingStatuses: readonly CellStatus[] = [
  'ready',
  'degraded',
  'suspended',
  'failed',
  'lost',
  'rolled_back',
  'cancelled',
  'archived',
  'cleanup_failed',
];
/**
 * The states a cell's notify target hears about (ready only when provisioning ends, not when a
 * degraded cell recovers). Each is one event, delivered by its own child workflow.
 */
export const notifiedStatuses = [
  'ready',
  'failed',
  'lost',
  'rolled_back',
  'cancelled',
  'archived',
  'cleanup_failed',
] as const satisfies readonly CellStatus[];
export type NotifiedStatus = (typeof notifiedStatuses)[number];

/** Final states: the cell's workflow has ended. */
export const finalStatuses: readonly CellStatus[] = ['rolled_back', 'cancelled', 'archived'];

/** On its way to ready: waiting, waiting for a host with room (placement), being built. */
export const provisioningStatuses: readonly CellStatus[] = ['pending', 'queued', 'provisioning'];

/** Serving: its services run (degraded: one is down and being restarted, the rest still serve). */
export const liveStatuses: readonly CellStatus[] = ['ready', 'degraded'];

/**
 * On its host, with its processes (frozen, or its services stopped, while suspended): what a host
 * restart asks to be watched or woken again, and what placement counts against the host.
 */
export const placedStatuses: readonly CellStatus[] = [...liveStatuses, 'suspended'];

/** Being undone or undone: rolled back, cancelled, archived, or a clean-up that failed. */
export const undoingStatuses: readonly CellStatus[] = [
  'rolling_back',
  'cancelling',
  'rolled_back',
  'cancelled',
  'archiving',
  'cleanup_failed',
];

/** States a summary explains with what went wrong (besides any cell that carries a failure). */
export const explainedStatuses: readonly CellStatus[] = [
  'cancelled',
  'rolled_back',
  'cleanup_failed',
  'lost',
];

/** Whether a status (a string from the API or a column) is in one of the groups above. */
export const statusIn = (group: readonly CellStatus[], status: string): boolean =>
  (group as readonly string[]).includes(status);

export const cellActions = ['cancel', 'retry', 'archive', 'service', 'cleanup', 'restore', 'resume'] as const;
export type CellAction = (typeof cellActions)[number];

/** What a person may do to a cell in each state (the API answers 409 for anything else). */
export const allowedActions: Record<CellStatus, CellAction[]> = {
  pending: ['cancel'],
  // Waiting for a host with room (placement): nothing exists yet.
  queued: ['cancel'],
  provisioning: ['cancel'],
  ready: ['archive', 'service'],
  degraded: ['archive', 'service'],
  // Idle, its processes frozen or its services stopped: a request through its URLs or `resume` wakes it.
  suspended: ['resume', 'archive'],
  failed: ['retry', 'cancel'],
  // Its host stopped answering: everything it has is kept there; it resumes when the host returns.
  // Cancel and archive are obeyed then (the clean-up runs on that host).
  lost: ['cancel', 'archive'],
  rolling_back: [],
  // Brought back from what its last removal saved (or, with nothing saved, from its branch).
  rolled_back: ['restore'],
  cancelling: [],
  cancelled: ['restore'],
  archiving: [],
  archived: ['restore'],
  // A rollback, cancel or archive whose clean-up failed: nothing is hidden, a person retries it.
  cleanup_failed: ['cleanup'],
};
