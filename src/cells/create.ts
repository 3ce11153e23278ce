import type { Client } from '@temporalio/client';
import type { Workspace } from '../config/env.js';
import { type Db, isUniqueViolation } from '../db/client.js';
import { type DryRunDeps, dryRun } from '../templates/dryRun.js';
import type { Finding } from '../templates/findings.js';
import { CellIdKey, CellStatusKey, TemplateIdKey, WorkspaceIdKey } from '../temporal/searchAttributes.js';
import { provisionCell } from '../workflows/provisionCell.js';
import { recordEvent } from './events.js';
import { newCellId, workflowIdFor } from './ids.js';
import type { OptionValues } from './plan.js';
import type { CellRequest } from './schema.js';

export interface CreateCellDeps extends DryRunDeps {
  db: Db;
  client: Client;
  taskQueue: string;
  /** How long a preserved failed cell waits for a person before rolling back. */
  preserveFailedForMs?: number;
  /** History bound of a live cell's workflow before it continues as new. */
  historyLimit?: number;
}

type CellRow = Awaited<ReturnType<Db['cell']['create']>>;

export type CreateCellResult =
  | { kind: 'accepted'; cell: CellRow }
  | { kind: 'unknown-workspace'; workspace: string }
  | { kind: 'invalid'; findings: Finding[] };

/**
 * A cell request, end to end: the same Idempotency-Key returns the same cell (also for two racing
 * requests: the unique key lets one row in); otherwise the dry run must pass, then the cell is
 * recorded and its workflow started.
 */
export async function createCell(
  deps: CreateCellDeps,
  request: CellRequest,
  idempotencyKey?: string,
): Promise<CreateCellResult> {
  const byKey = () => deps.db.cell.findUnique({ where: { idempotencyKey } });
  const existing = idempotencyKey ? await byKey() : null;
  if (existing) return { kind: 'accepted', cell: existing };
  // The same dry run as POST /templates/:id/validate: refuse before anything is created.
  const validation = await dryRun(deps, { ...request, templateId: request.template });
  if ('unknownWorkspace' in validation) return { kind: 'unknown-workspace', workspace: request.workspace };
  if (!validation.ok || !validation.options) return { kind: 'invalid', findings: validation.findings };
  try {
    const cell = await startCell(
      deps,
      validation.workspace,
      { ...request, options: validation.options },
      idempotencyKey,
    );
    return { kind: 'accepted', cell };
  } catch (error) {
    const winner = idempotencyKey && isUniqueViolation(error) ? await byKey() : null;
    if (winner) return { kind: 'accepted', cell: winner };
    throw error;
  }
}

/** One line for the Temporal UI's workflow list: what this cell is for. */
function summaryOf(workspace: Workspace, request: CellRequest) {
  const firstLine = request.brief.split('\n', 1)[0] ?? '';
  const brief = firstLine.length > 80 ? `${firstLine.slice(0, 79)}…` : firstLine;
  return `${workspace.id}/${request.template}: ${brief}`;
}

/**
 * Records a cell and starts its provisioning workflow. If Temporal refuses the start, the row is
 * removed again: a refused request leaves nothing behind.
 */
async function startCell(
  deps: CreateCellDeps,
  workspace: Workspace,
  request: CellRequest & { options: OptionValues },
  idempotencyKey?: string,
): Promise<CellRow> {
  const id = newCellId();
  const workflowId = workflowIdFor(id);
  const baseRef = request.baseRef ?? 'HEAD';
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
      baseRef,
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
      staticSummary: summaryOf(workspace, request),
      staticDetails: [
        `**Cell** \`${id}\``,
        `**Workspace** ${workspace.id} (\`${workspace.path}\`)`,
        `**Template** ${request.template}, from \`${baseRef}\`, on failure: ${request.onFailure}`,
        `**Brief** ${request.brief.split('\n', 1)[0] ?? ''}`,
      ].join('\n\n'),
    });
  } catch (error) {
    await deps.db.cell.delete({ where: { id } });
    throw error;
  }
  return cell;
}
