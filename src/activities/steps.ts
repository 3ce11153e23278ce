import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { recordEvent, recordOperation } from '../cells/events.js';
import type { Db } from '../db/client.js';

export type StepKind = 'forward' | 'compensation';

function inActivity(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

function errorDetail(error: unknown) {
  if (error instanceof ApplicationFailure) {
    const [details] = (error.details ?? []) as Array<{ hint?: string; logTail?: string } | undefined>;
    return { type: error.type ?? 'Error', message: error.message, ...details };
  }
  return { type: error instanceof Error ? error.name : 'Error', message: String(error) };
}

/**
 * Runs one step (or compensation) of a cell and records it: status, the Temporal attempt number
 * (so retries are visible and re-runs provable), timings, and its result or error.
 */
export async function withStep<T>(
  db: Db,
  step: { cellId: string; name: string; kind?: StepKind },
  run: () => Promise<T>,
  summarize: (result: T) => unknown = () => undefined,
): Promise<T> {
  const kind = step.kind ?? 'forward';
  const attempt = inActivity()?.info.attempt ?? 1;
  const where = { cellId_name_kind: { cellId: step.cellId, name: step.name, kind } };
  await db.step.upsert({
    where,
    create: { id: randomUUID(), cellId: step.cellId, name: step.name, kind, status: 'running', attempt },
    update: {
      status: 'running',
      attempt,
      startedAt: new Date(),
      endedAt: null,
      operation: null,
      detail: null,
    },
  });
  try {
    const result = await run();
    const summary = summarize(result);
    await db.step.update({
      where,
      data: {
        status: 'succeeded',
        endedAt: new Date(),
        operation: null,
        detail: summary === undefined ? null : JSON.stringify(summary),
      },
    });
    await recordEvent(db, step.cellId, 'step', { name: step.name, kind, status: 'succeeded', attempt });
    return result;
  } catch (error) {
    await db.step.update({
      where,
      data: { status: 'failed', endedAt: new Date(), detail: JSON.stringify(errorDetail(error)) },
    });
    await recordEvent(db, step.cellId, 'step', {
      name: step.name,
      kind,
      status: 'failed',
      attempt,
      error: errorDetail(error),
    });
    throw error;
  }
}

/** Tells people (and the Temporal UI, via heartbeat details) what a long step is doing now. */
export async function reportOperation(db: Db, cellId: string, name: string, operation: string) {
  inActivity()?.heartbeat({ operation });
  await db.step
    .update({ where: { cellId_name_kind: { cellId, name, kind: 'forward' } }, data: { operation } })
    .catch(() => {});
  await recordOperation(db, cellId, name, operation);
}
