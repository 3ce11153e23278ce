// Warm pools, the owner: one long-lived workflow per pooled template of a workspace
// (`pool-<workspace>-<template>`). It looks at its cells (an activity), lets stale, broken and surplus
// ones go, hands over claims the API could not (it died, or the cell's worker was down), and refills the pool with ordinary cell
// workflows (children it abandons: each cell lives its own life). Deterministic code: no I/O.
import {
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  ParentClosePolicy,
  proxyActivities,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../../activities/index.js';
import { cellIdFrom, cellWorkflowId } from '../../cells/workflowIds.js';
import { CellIdKey, CellStatusKey, TemplateIdKey, WorkspaceIdKey } from '../../temporal/searchAttributes.js';
// By type only: the cell's workflow is started by its name (it imports this room's hand-over).
import type { provisionCell } from '../../workflows/provisionCell.js';
import { claimSignal, poolChangedSignal, recycleSignal } from '../messages.js';

export interface KeepPoolInput {
  workspaceId: string;
  templateId: string;
  workspacePath: string;
  /** Task queue of the worker on the cells' host. */
  hostTaskQueue?: string;
  /** Passed on to the pool's cells (see ProvisionCellInput). */
  historyLimit?: number;
  /** Between two looks when nothing wakes the pool (a commit on the workspace is noticed then). */
  checkEveryMs?: number;
  /** Pool cells that failed in a row (carried across continue-as-new): refills back off. */
  failures?: number;
}

const DEFAULT_CHECK_MS = 30_000;
const MAX_BACKOFF_MS = 10 * 60_000;
/** History bound: past this many events the pool continues as new. */
const MAX_HISTORY_EVENTS = 1_000;

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

/** A cell id as src/cells/ids.ts makes them, from the workflow's deterministic randomness. */
const newCellId = () => cellIdFrom((n) => Math.floor(Math.random() * n));

/** Keeps `pool.size` cells of a template ready, for as long as the template has a pool. */
export async function keepPool(input: KeepPoolInput): Promise<void> {
  const { workspaceId, templateId } = input;
  let woken = false;
  setHandler(poolChangedSignal, () => {
    woken = true;
  });
  let failures = input.failures ?? 0;
  for (;;) {
    woken = false;
    const look = await acts.reconcilePool.executeWithOptions(
      { summary: `look at the pool of ${workspaceId}/${templateId}` },
      [{ workspaceId, templateId }],
    );
    for (const id of look.recycle) {
      await getExternalWorkflowHandle(cellWorkflowId(id))
        .signal(recycleSignal)
        .catch((error: unknown) => log.warn('could not recycle a pool cell', { id, error }));
    }
    for (const id of look.unclaimed) {
      await getExternalWorkflowHandle(cellWorkflowId(id))
        .signal(claimSignal)
        .catch((error: unknown) => log.warn('could not hand a claim over', { id, error }));
    }
    // Failures in a row: a look that finds failed cells adds them, one that finds a ready cell clears.
    if (look.failed > 0) failures += look.failed;
    else if (look.ready > 0) failures = 0;
    if (look.size === 0 && look.ready + look.warming === 0 && look.unclaimed.length === 0) {
      log.info('the pool has nothing to keep; it ends', { workspaceId, templateId, why: look.why });
      return;
    }
    const missing = look.size - look.ready - look.warming;
    const { key, baseCommit, options } = look;
    // After failures, one cell per look (and the looks back off): a broken template costs little.
    const refills = failures > 0 ? Math.min(1, missing) : missing;
    if (key && baseCommit && options) {
      for (let i = 0; i < refills; i++) await refill(input, { key, baseCommit, options });
    }
    const every = input.checkEveryMs ?? DEFAULT_CHECK_MS;
    const wait = failures > 0 ? Math.min(every * 2 ** failures, MAX_BACKOFF_MS) : every;
    const info = workflowInfo();
    if (info.historyLength > MAX_HISTORY_EVENTS || info.continueAsNewSuggested) {
      return continueAsNew<typeof keepPool>({ ...input, failures });
    }
    await condition(() => woken, wait);
  }
}

/** One more pool cell: recorded, then its ordinary cell workflow started (and left to live). */
async function refill(
  input: KeepPoolInput,
  at: { key: string; baseCommit: string; options: Record<string, string | number | boolean> },
) {
  const { workspaceId, templateId } = input;
  const cellId = newCellId();
  await acts.recordPoolCell.executeWithOptions({ summary: `record pool cell ${cellId}` }, [
    { cellId, workspaceId, templateId, ...at },
  ]);
  await startChild<typeof provisionCell>('provisionCell', {
    workflowId: cellWorkflowId(cellId),
    args: [
      {
        cellId,
        workspaceId,
        templateId,
        hostTaskQueue: input.hostTaskQueue,
        // A pool cell holds nobody's work: a failure rolls it back at once and the pool tries again.
        onFailure: 'rollback',
        historyLimit: input.historyLimit,
        pool: true,
      },
    ],
    parentClosePolicy: ParentClosePolicy.ABANDON,
    typedSearchAttributes: [
      { key: CellIdKey, value: cellId },
      { key: TemplateIdKey, value: templateId },
      { key: WorkspaceIdKey, value: workspaceId },
      { key: CellStatusKey, value: 'pending' },
    ],
    memo: {
      workspace: workspaceId,
      workspacePath: input.workspacePath,
      template: templateId,
      pool: 'pooled',
    },
    staticSummary: `pool ${workspaceId}/${templateId}: a cell kept ready at ${at.baseCommit.slice(0, 12)}`,
  });
}
