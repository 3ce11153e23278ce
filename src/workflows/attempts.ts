// The retry loop of provisioning: an attempt runs the steps; a failure either rolls the cell back or
// preserves it for a person (services stopped, the rest kept) until retry, cancel or the preserve
// window ends; a lost host parks it until the host is back. Deterministic code: no I/O.
import { CancellationScope, condition, log } from '@temporalio/workflow';
import { isServiceStep, Step } from '../cells/catalog.js';
import type { ReadyCell } from '../cells/plan.js';
import { isPoolCell } from '../pools/workflows/handover.js';
import type { CellActivities } from './activities.js';
import { rollBack } from './cleanup.js';
import { hostLostFailure, waitForHost } from './hostLoss.js';
import { describeFailure, Saga } from './saga.js';
import type { Control, Progress, ProvisionCellInput, ProvisionCellResult } from './state.js';

/** A preserved failed cell nobody acts on rolls back after this long (unless the request says otherwise). */
const DEFAULT_PRESERVE_MS = 24 * 60 * 60 * 1000;

/** One provisioning attempt: the steps not done yet (`done` says which are). */
export type Attempt = (saga: Saga, done: Progress) => Promise<ReadyCell>;

/**
 * Provisions, and on failure preserves (waiting for retry or cancel) or rolls back. `provisioning`:
 * the record says so already (placement wrote it).
 */
export async function provisionUntilSettled(
  input: ProvisionCellInput,
  act: CellActivities,
  control: Control,
  attempt: Attempt,
  provisioning = false,
): Promise<ReadyCell | ProvisionCellResult> {
  const { cellId } = input;
  const saga = new Saga();
  const done: Progress = {};
  if (provisioning) await act.statusWritten('provisioning');
  else await act.setStatus(cellId, 'provisioning');
  for (;;) {
    const scope = new CancellationScope();
    control.interruptProvisioning = () => scope.cancel();
    try {
      // No attempt on a host known to be lost (it would wait on that host's queue, unseen).
      if (control.hostLost) throw new Error('host lost');
      const cell = await scope.run(() => attempt(saga, done));
      control.interruptProvisioning = undefined;
      // A pool cell keeps what it runs with in its record: its API hands a claim over from it.
      await act.setStatus(cellId, 'ready', undefined, isPoolCell(input) ? cell : undefined);
      return cell;
    } catch (error) {
      control.interruptProvisioning = undefined;
      if (control.cancel) return rollBack(act, control, saga, cellId);
      if (control.hostLost) {
        // Nothing can be stopped or undone there now: a rollback waits for the host on its queue;
        // a preserved cell shows `lost` and resumes where it was when the host is back.
        const failure = hostLostFailure(saga.current || Step.place, control.hostLost);
        if (input.onFailure === 'rollback') return rollBack(act, control, saga, cellId, failure);
        const outcome = await waitForHost(act, control, cellId, failure);
        if (outcome !== 'back') return rollBack(act, control, saga, cellId);
        done.servicesReady = false;
        await act.setStatus(cellId, 'provisioning', null);
        continue;
      }
      const failure = describeFailure(saga.current, error);
      if (input.onFailure === 'rollback') return rollBack(act, control, saga, cellId, failure);
      // Preserve: stop what runs, keep worktree, logs and ports for inspection; wait for a person.
      const residue = await saga.compensate(isServiceStep);
      done.servicesReady = false;
      if (done.plan) await act.recordWorktreeBaseline(done.plan);
      log.warn('provisioning failed; cell preserved', { cellId, step: failure.step, type: failure.type });
      await act.setStatus(cellId, 'failed', residue.length ? { ...failure, residue } : failure);
      const acted = await condition(
        () => control.retry || control.cancel,
        input.preserveForMs ?? DEFAULT_PRESERVE_MS,
      );
      if (control.cancel) return rollBack(act, control, saga, cellId);
      if (!acted) return rollBack(act, control, saga, cellId, failure);
      control.retry = false;
      // What the person changed while the cell waited stays theirs, whatever the retry's setup does.
      if (done.plan) await act.recordWorktreeBaseline(done.plan, 'retry');
      done.replan = true;
      await act.setStatus(cellId, 'provisioning');
    }
  }
}
