// How the host's supervisor reaches cells' workflows: a signal per event, and, when a worker starts,
// one signal per live cell of its host asking for the watch again (its supervisor starts empty).
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { placedStatuses } from '../cells/status.js';
import { cellWorkflowId } from '../cells/workflowIds.js';
import type { Db } from '../db/client.js';
import { serviceEventSignal, superviseSignal } from '../workflows/control.js';
import type { TellCell } from './supervisor.js';

/** Signals a supervision report to the cell's workflow. */
export function tellCellWorkflow(client: Client): TellCell {
  return async (cellId, report) => {
    try {
      await client.workflow.getHandle(cellWorkflowId(cellId)).signal(serviceEventSignal, report);
    } catch (error) {
      // The cell's workflow has ended (archived meanwhile): nobody left to tell.
      if (error instanceof WorkflowNotFoundError) return;
      throw error;
    }
  };
}

/**
 * Asks every live (or suspended) cell placed on this host (or on no host: the one-process deployment) to have its
 * watch asked again. Returns how many were asked.
 */
export async function rewatchLiveCells(client: Client, db: Db, host: string): Promise<number> {
  const cells = await db.cell.findMany({
    where: { status: { in: [...placedStatuses] }, OR: [{ host }, { host: null }] },
    select: { id: true },
  });
  const outcomes = await Promise.allSettled(
    cells.map((cell) => client.workflow.getHandle(cellWorkflowId(cell.id)).signal(superviseSignal)),
  );
  for (const [i, outcome] of outcomes.entries()) {
    if (outcome.status === 'rejected' && !(outcome.reason instanceof WorkflowNotFoundError)) {
      console.warn(`cell ${cells[i]?.id}: not asked to be watched again: ${String(outcome.reason)}`);
    }
  }
  return cells.length;
}
