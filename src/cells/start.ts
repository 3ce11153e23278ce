import type { Client } from '@temporalio/client';
import type { Workspace } from '../config/env.js';
import type { Db } from '../db/client.js';
import type { OptionValues } from '../templates/model.js';
import { CellIdKey, CellStatusKey, TemplateIdKey, WorkspaceIdKey } from '../temporal/searchAttributes.js';
import { provisionCell } from '../workflows/provisionCell.js';
import { recordEvent } from './events.js';
import { newCellId, workflowIdFor } from './ids.js';
import type { CellRequest } from './schema.js';

export interface StartCellDeps {
  db: Db;
  client: Client;
  taskQueue: string;
  /** How long a preserved failed cell waits for a person before rolling back. */
  preserveFailedForMs?: number;
  /** History bound of a live cell's workflow before it continues as new. */
  historyLimit?: number;
}

/**
 * Records a cell and starts its provisioning workflow. If Temporal refuses the start, the row is
 * removed again: a refused request leaves nothing behind.
 */
export async function startCell(
  deps: StartCellDeps,
  workspace: Workspace,
  request: CellRequest & { options: OptionValues },
  idempotencyKey?: string,
) {
  const id = newCellId();
  const workflowId = workflowIdFor(id);
  const cell = await deps.db.cell.create({
    data: {
      id,
      name: request.name ?? id,
      workspaceId: workspace.id,
      templateId: request.template,
      status: 'pending',
      workflowId,
      brief: request.brief,
      options: JSON.stringify(request.options),
      constraints: JSON.stringify(request.constraints ?? []),
      successCriteria: JSON.stringify(request.successCriteria ?? []),
      baseRef: request.baseRef ?? 'HEAD',
      idempotencyKey,
    },
  });
  await recordEvent(deps.db, id, 'status', { status: 'pending' });
  try {
    await deps.client.workflow.start(provisionCell, {
      taskQueue: deps.taskQueue,
      workflowId,
      args: [
        {
          cellId: id,
          workspaceId: workspace.id,
          templateId: request.template,
          onFailure: request.onFailure,
          preserveForMs: deps.preserveFailedForMs,
          historyLimit: deps.historyLimit,
        },
      ],
      typedSearchAttributes: [
        { key: CellIdKey, value: id },
        { key: TemplateIdKey, value: request.template },
        { key: WorkspaceIdKey, value: workspace.id },
        { key: CellStatusKey, value: 'pending' },
      ],
      memo: { workspace: workspace.id, workspacePath: workspace.path, template: request.template },
    });
  } catch (error) {
    await deps.db.cell.delete({ where: { id } });
    throw error;
  }
  return cell;
}
