import { condition } from '@temporalio/workflow';
import { type CellActivities, placementActivities } from './activities.js';
import type { Control } from './state.js';

/** Between two looks for room while queued: from 1 s, doubling to 15 s (history stays small). */
const FIRST_LOOK_MS = 1_000;
const LAST_LOOK_MS = 15_000;

/**
 * The `place` step: the cell's host (its task queue), undefined for the shared queue when no host
 * is registered, or `cancelled` when a person cancelled it while it waited. While no host has room
 * the cell is `queued` (the step shows why) and looks again with backoff. With `provisioning`, the
 * placement writes the cell's status `provisioning` too.
 */
export async function awaitPlacement(
  act: Pick<CellActivities, 'setStatus'>,
  control: Control,
  cellId: string,
  provisioning: boolean,
): Promise<{ taskQueue?: string; host?: string; queued?: boolean; ownQueue?: boolean } | 'cancelled'> {
  let wait = FIRST_LOOK_MS;
  let queued = false;
  for (;;) {
    if (control.cancel) {
      await placementActivities.withdraw(cellId);
      return 'cancelled';
    }
    const placement = await placementActivities.place(cellId, provisioning);
    if (placement.kind === 'unhosted') return {};
    if (placement.kind === 'placed') {
      // A lost/back pair for a named host may have crossed the queue; placement saw it answer.
      control.hostLost = undefined;
      return { taskQueue: placement.taskQueue, host: placement.host, queued, ownQueue: placement.ownQueue };
    }
    if (!queued) await act.setStatus(cellId, 'queued');
    queued = true;
    await condition(() => control.cancel, wait);
    wait = Math.min(wait * 2, LAST_LOOK_MS);
  }
}
