import { condition } from '@temporalio/workflow';
import { ErrorType } from '../cells/catalog.js';
import type { Failure } from '../cells/schema.js';
import type { CellActivities } from './activities.js';
import type { Control } from './state.js';

/** What a cell shows while its host is lost: which host, since when, and what happens next. */
export function hostLostFailure(step: string, lost: NonNullable<Control['hostLost']>): Failure {
  return {
    step,
    type: ErrorType.HostLost,
    message: `host ${lost.host} stopped answering (last heartbeat ${lost.since})`,
    hint: `Everything the cell has is on ${lost.host}: start its worker again (hive worker --host ${lost.host}) and the cell resumes; or cancel or archive it, which runs once the host is back.`,
  };
}

/**
 * A preserved cell whose host is lost: shows `lost` with why, and waits for the host to come back
 * (`back`) or for a person to cancel or archive it.
 */
export async function waitForHost(
  act: CellActivities,
  control: Control,
  cellId: string,
  failure: Failure,
): Promise<'back' | 'cancel' | 'archive'> {
  await act.setStatus(cellId, 'lost', failure);
  await condition(() => !control.hostLost || control.cancel || control.archive);
  if (control.archive) return 'archive';
  if (control.cancel) return 'cancel';
  return 'back';
}
