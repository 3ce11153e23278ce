import { proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { createRecordsActivities } from '../activities/records.js';
import type { CellStatus } from '../cells/status.js';
import { CellStatusKey } from '../temporal/searchAttributes.js';
import type { ProvisionCellInput, ProvisionCellResult } from './types.js';

const records = proxyActivities<ReturnType<typeof createRecordsActivities>>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumInterval: '10 seconds' },
});

/** Records a status transition in the database and in the `CellStatus` search attribute. */
async function transition(cellId: string, status: CellStatus): Promise<void> {
  await records.setCellStatus({ cellId, status });
  upsertSearchAttributes([{ key: CellStatusKey, value: status }]);
}

/**
 * Provisions one cell. Foundation slice: it walks the status through `provisioning` to `ready`;
 * the provisioning steps (worktree, ports, environment, services, prompt) replace it next.
 */
export async function provisionCell(input: ProvisionCellInput): Promise<ProvisionCellResult> {
  await transition(input.cellId, 'provisioning');
  await transition(input.cellId, 'ready');
  return { cellId: input.cellId, status: 'ready' };
}
