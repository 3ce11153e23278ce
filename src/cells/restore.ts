import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Workspace } from '../config/env.js';
import { type CellRow, type CreateCellDeps, startCellWorkflow } from './create.js';
import { recordEvent } from './events.js';
import { CellStatus } from './schema.js';
import { allowedActions, cellStatuses } from './status.js';

const restorable = cellStatuses.filter((status) => allowedActions[status].includes('restore'));

/**
 * Brings an ended cell back: its record is reset to pending (atomically, so of two racing restores
 * one wins and the other gets null), then a new run of its workflow provisions it again with the
 * work its archive saved. A refused start puts the record back as it was.
 */
export async function restoreCell(
  deps: Pick<
    CreateCellDeps,
    'db' | 'client' | 'taskQueue' | 'eagerStart' | 'preserveFailedForMs' | 'historyLimit'
  >,
  workspace: Workspace,
  cell: CellRow,
): Promise<CellRow | null> {
  const { count } = await deps.db.cell.updateMany({
    where: { id: cell.id, status: { in: restorable } },
    data: { status: 'pending', failure: null, readyAt: null },
  });
  if (count === 0) return null;
  await recordEvent(deps.db, cell.id, 'status', { status: 'pending', restoring: true });
  try {
    await startCellWorkflow(deps, workspace, cell, { restore: true }).catch(async (error: unknown) => {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      // The record rests (archived, rolled back, cancelled) a moment before its run closes (its last
      // workflow task, retried if a signal came in meanwhile): wait for the close, then start.
      await closed(deps.client, cell.workflowId);
      await startCellWorkflow(deps, workspace, cell, { restore: true });
    });
  } catch (error) {
    await deps.db.cell.update({
      where: { id: cell.id },
      data: { status: cell.status, failure: cell.failure, readyAt: cell.readyAt },
    });
    await recordEvent(deps.db, cell.id, 'status', { status: CellStatus.parse(cell.status) });
    if (error instanceof WorkflowExecutionAlreadyStartedError) return null;
    throw error;
  }
  return deps.db.cell.findUniqueOrThrow({ where: { id: cell.id } });
}

/** Waits (a few seconds at most) for the run of a workflow whose record already rests to close. */
async function closed(client: CreateCellDeps['client'], workflowId: string): Promise<void> {
  const handle = client.workflow.getHandle(workflowId);
  await Promise.race([handle.result().catch(() => undefined), new Promise((r) => setTimeout(r, 10_000))]);
}
