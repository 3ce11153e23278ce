import { ApplicationFailure, CancellationScope, condition, log } from '@temporalio/workflow';
import { ErrorType, Step } from '../cells/catalog.js';
import type { Failure, Residue } from '../cells/schema.js';
import type { CellStatus } from '../cells/status.js';
import type { CellActivities } from './activities.js';
import type { Saga } from './saga.js';
import type { Control, ProvisionCellResult } from './state.js';

export interface CleanUp {
  cellId: string;
  /** Shown while it runs (rolling_back, cancelling, archiving) and once it is done. */
  during: CellStatus;
  end: CellStatus;
  /** The failure that led here, kept on the cell; none for cancel and archive. */
  failure?: Failure;
  /** Runs the clean-up and returns what it could not undo. Must be idempotent. */
  undo: () => Promise<Residue[]>;
}

function withResidue(failure: Failure | undefined, residue: Residue[]): Failure {
  const first = residue[0];
  return {
    ...(failure ?? {
      step: first?.step ?? Step.cleanup,
      type: ErrorType.CleanupFailed,
      message: `the clean-up could not undo: ${residue.map((r) => `${r.step} (${r.type}: ${r.message})`).join('; ')}`,
    }),
    hint: 'Fix what the residue names (a held lock, a stuck process), then POST /cells/<id>/cleanup to run the clean-up again.',
    residue,
  };
}

/**
 * Ends a cell (rolled back, cancelled, archived) without ever hiding a failed clean-up: when a
 * compensation fails, the cell rests in `cleanup_failed` with the residue listed, and waits for a
 * person's cleanup signal to run it again. Shielded from cancellation.
 */
export async function cleanUp(act: CellActivities, control: Control, c: CleanUp): Promise<void> {
  await CancellationScope.nonCancellable(async () => {
    await act.setStatus(c.cellId, c.during, c.failure);
    let shown = false;
    for (;;) {
      const residue = await c.undo();
      if (residue.length === 0) break;
      log.error('clean-up left residue; waiting for a cleanup signal', { cellId: c.cellId, residue });
      await act.setStatus(c.cellId, 'cleanup_failed', withResidue(c.failure, residue));
      shown = true;
      await condition(() => control.cleanup);
      control.cleanup = false;
      await act.setStatus(c.cellId, c.during, c.failure ?? null);
    }
    // After a cleanup_failed, the residue is gone: show the original failure again (or none).
    await act.setStatus(c.cellId, c.end, shown ? (c.failure ?? null) : undefined);
  });
}

/** Runs every compensation (in reverse) and ends the cell as cancelled, or rolled back with its failure. */
export async function rollBack(
  act: CellActivities,
  control: Control,
  saga: Saga,
  cellId: string,
  failure?: Failure,
): Promise<ProvisionCellResult> {
  const [during, end] = failure
    ? (['rolling_back', 'rolled_back'] as const)
    : (['cancelling', 'cancelled'] as const);
  await cleanUp(act, control, { cellId, during, end, failure, undo: () => saga.compensate() });
  if (!failure) return { cellId, status: end };
  throw ApplicationFailure.create({
    type: ErrorType.ProvisioningFailed,
    message: `${failure.step} failed (${failure.type}): ${failure.message}; rolled back`,
    nonRetryable: true,
    details: [failure],
  });
}
