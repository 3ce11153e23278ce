import { randomUUID } from 'node:crypto';
import { recordEvent } from '../cells/events.js';
import type { Db } from '../db/client.js';
import { Prisma } from '../db/generated/client.js';
import { table } from '../db/rawSql.js';
import { inActivity, warn } from '../log.js';
import { failureOf } from './failures.js';

// The logger moved to a leaf (src/log.ts) so src/cells can log too; activities keep importing it here.
export { inActivity, warn };

export type StepKind = 'forward' | 'compensation';

/** Heartbeats the running activity (if any), so a cancellation reaches it and the UI shows progress. */
export function heartbeat(details?: unknown): void {
  const activity = inActivity();
  // A local activity has no heartbeat of its own (its workflow task is kept alive instead).
  if (activity && !activity.info.isLocal) activity.heartbeat(details);
}

/**
 * Runs `work` heartbeating every second: for a long file operation (copying or removing a tree of
 * hundreds of megabytes on a busy host) that would outlast the heartbeat timeout, after which
 * Temporal would start a second attempt racing the first.
 */
export async function keepBeating<T>(work: () => Promise<T>, everyMs = 1_000): Promise<T> {
  const beat = setInterval(() => heartbeat(), everyMs);
  try {
    return await work();
  } finally {
    clearInterval(beat);
  }
}

/** Operation updates can come every probe period; one event a second per step is plenty to watch. */
const OPERATION_EVENT_EVERY_MS = 1_000;

type StepKey = { cellId: string; name: string; kind: StepKind };

/**
 * A step's row, written in raw SQL (src/db/rawSql.ts: a provisioning writes ~16 of them). The same
 * statements on SQLite and PostgreSQL; a step run again (a retry, a second attempt) takes its row over.
 */
function stepRows(db: Db) {
  const steps = table(db, 'Step');
  const ofStep = (s: StepKey) =>
    Prisma.sql`"cellId" = ${s.cellId} AND "name" = ${s.name} AND "kind" = ${s.kind}`;
  return {
    start: (s: StepKey, attempt: number) =>
      db.$executeRaw`INSERT INTO ${steps} ("id", "cellId", "name", "kind", "status", "attempt", "startedAt")
        VALUES (${randomUUID()}, ${s.cellId}, ${s.name}, ${s.kind}, 'running', ${attempt}, ${new Date()})
        ON CONFLICT ("cellId", "name", "kind") DO UPDATE SET "status" = 'running',
          "attempt" = EXCLUDED."attempt", "startedAt" = EXCLUDED."startedAt",
          "endedAt" = NULL, "operation" = NULL, "detail" = NULL`,
    end: (s: StepKey, status: 'succeeded' | 'failed', detail: string | null) =>
      // A failed step keeps the operation it failed in, for the error's context.
      db.$executeRaw`UPDATE ${steps} SET "status" = ${status}, "endedAt" = ${new Date()}, "detail" = ${detail}
        ${status === 'succeeded' ? Prisma.sql`, "operation" = NULL` : Prisma.empty} WHERE ${ofStep(s)}`,
    operation: (s: StepKey, operation: string) =>
      db.$executeRaw`UPDATE ${steps} SET "operation" = ${operation} WHERE ${ofStep(s)}`,
  };
}

/**
 * Records the steps of cells as activities run them: the Step rows (status, attempt, timings,
 * result or error), the cell's event log, and the current operation of a long step.
 */
export function createStepRecorder(db: Db) {
  const rows = stepRows(db);
  /** When each step (`cellId/name`) last recorded an operation event: at most one a second. */
  const lastOperationEvent = new Map<string, number>();

  return {
    /**
     * Runs one step (or compensation) of a cell and records it: status, the Temporal attempt number
     * (so retries are visible and re-runs provable), timings, and its result or error.
     */
    async withStep<T>(
      step: { cellId: string; name: string; kind?: StepKind },
      run: () => Promise<T>,
      summarize: (result: T) => unknown = () => undefined,
    ): Promise<T> {
      const kind = step.kind ?? 'forward';
      const attempt = inActivity()?.info.attempt ?? 1;
      const row = { cellId: step.cellId, name: step.name, kind };
      await rows.start(row, attempt);
      // Clients show a step as running (and a retry with its attempt) the moment it starts.
      await recordEvent(db, step.cellId, 'step', { name: step.name, kind, status: 'running', attempt });
      try {
        // Every step heartbeats while it runs: a step that waits on git or the database longer than
        // the heartbeat timeout on a loaded host would otherwise be timed out and run again.
        const result = await keepBeating(run);
        const summary = summarize(result);
        await rows.end(row, 'succeeded', summary === undefined ? null : JSON.stringify(summary));
        await recordEvent(db, step.cellId, 'step', { name: step.name, kind, status: 'succeeded', attempt });
        return result;
      } catch (error) {
        const failure = failureOf(error);
        await rows.end(row, 'failed', JSON.stringify(failure));
        await recordEvent(db, step.cellId, 'step', {
          name: step.name,
          kind,
          status: 'failed',
          attempt,
          error: failure,
        });
        throw error;
      }
    },

    /** Tells people (and the Temporal UI, via heartbeat details) what a long step is doing now. */
    async reportOperation(cellId: string, name: string, operation: string): Promise<void> {
      heartbeat({ operation });
      await rows
        .operation({ cellId, name, kind: 'forward' }, operation)
        // Progress is best effort: a missed update must not fail the step, but is not hidden either.
        .catch((error: unknown) => warn('could not record the current operation', { cellId, name, error }));
      const key = `${cellId}/${name}`;
      const now = Date.now();
      if (now - (lastOperationEvent.get(key) ?? 0) < OPERATION_EVENT_EVERY_MS) return;
      // An entry older than the window throttles nothing: dropped, so a long-lived worker keeps only
      // the steps that reported in the last second, not every step of every cell it ever ran.
      for (const [other, at] of lastOperationEvent) {
        if (now - at >= OPERATION_EVENT_EVERY_MS) lastOperationEvent.delete(other);
      }
      lastOperationEvent.set(key, now);
      await recordEvent(db, cellId, 'operation', { step: name, operation });
    },
  };
}

export type StepRecorder = ReturnType<typeof createStepRecorder>;
