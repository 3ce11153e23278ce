// Which workflow a cell's events may be signalled to, and under which name. A notify target is
// chosen by whoever requests the cell, so it must never reach Hive's own workflows (a cell, a pool,
// the host monitor: a `recycle` sent to another workspace's cell would archive it with discard) nor
// use the name of a signal Hive's workflows obey. Checked when the cell is requested (400) and again
// by the delivery, before it signals. Plain code (no Node APIs): workflow code imports it.
import { hiveSignalNames } from '../workflows/control.js';
import { isHiveWorkflowId } from './workflowIds.js';

/** The signal name receivers are documented with (docs/handoff.md; `awaitCellEvent` in the tests). */
export const CELL_EVENT_SIGNAL = 'cellEvent';

/** Why this {workflowId, signal} target is refused (the field and a detail), or undefined. */
export function refusedWorkflowTarget(
  workflowId: string,
  signal: string,
): { field: 'workflowId' | 'signal'; detail: string } | undefined {
  if (isHiveWorkflowId(workflowId)) {
    return {
      field: 'workflowId',
      detail:
        "names one of Hive's own workflows (cell-…, pool-…, hosts-…); name a workflow of your own that receives the event",
    };
  }
  if (hiveSignalNames.includes(signal.trim())) {
    return {
      field: 'signal',
      detail: `"${signal}" is the name of one of Hive's control signals; use another name, e.g. "${CELL_EVENT_SIGNAL}"`,
    };
  }
  return undefined;
}
