import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  log,
} from '@temporalio/workflow';
import { ErrorType, type RecordedStepName, type StepName } from '../cells/catalog.js';
import type { Failure, FailureDetails, Residue } from '../cells/schema.js';

/** A step as `Saga.step` takes it: its name, its work, its compensation. */
export type StepRun<T> = readonly [StepName, () => Promise<T>, (() => Promise<unknown>)?];

/** A named undo: a step's compensation. */
export interface Compensation {
  name: RecordedStepName;
  undo: () => Promise<unknown>;
}

/**
 * Runs compensations in the given order, shielded from cancellation, continuing past a failed one
 * so one stuck undo does not leave the rest behind. Returns what each failed one may have left.
 */
export async function undoAll(compensations: Compensation[]): Promise<Residue[]> {
  const residue: Residue[] = [];
  await CancellationScope.nonCancellable(async () => {
    for (const { name, undo } of compensations) {
      try {
        await undo();
      } catch (error) {
        const { type, message } = describeFailure(name, error);
        log.warn('compensation failed', { step: name, type, message });
        residue.push({ step: name, type, message });
      }
    }
  });
  return residue;
}

/**
 * Saga bookkeeping for one workflow run: which step is running, and the compensations of the steps
 * done so far, undone in reverse order.
 */
export class Saga {
  private readonly compensations: Compensation[] = [];
  current: StepName | '' = '';

  /**
   * Runs a step, then registers its compensation — also when the step failed, because an activity
   * can fail or time out after doing part of its work (a worktree added, a process spawned); every
   * compensation is idempotent and a no-op when there is nothing to undo.
   */
  async step<T>(name: StepName, run: () => Promise<T>, undo?: () => Promise<unknown>): Promise<T> {
    this.current = name;
    try {
      return await run();
    } finally {
      if (undo) this.add(name, undo);
    }
  }

  /**
   * Runs two independent steps at once and waits for both, so no step is still running when a
   * rollback begins. Both compensations are registered whatever happened, in the given order (not
   * in the order the steps finished): a rollback undoes them as it would have undone them one after
   * the other. A failure names the step that failed — the first in the given order.
   */
  async together<A, B>(first: StepRun<A>, second: StepRun<B>): Promise<[A, B]> {
    this.current = first[0];
    const [a, b] = await Promise.allSettled([first[1](), second[1]()]);
    for (const [name, , undo] of [first, second]) if (undo) this.add(name, undo);
    if (a.status === 'rejected') throw a.reason;
    this.current = second[0];
    if (b.status === 'rejected') throw b.reason;
    return [a.value, b.value];
  }

  /** Registers a compensation on its own (for sub-steps such as each service). */
  add(name: RecordedStepName, undo: () => Promise<unknown>): void {
    // A step retried after a preserved failure registers again: keep one entry per name.
    if (this.compensations.some((c) => c.name === name)) return;
    this.compensations.push({ name, undo });
  }

  /**
   * Runs the compensations (all, or those `which` selects) in reverse. They stay registered: each is
   * idempotent, and a preserved cell may still be rolled back later. Returns the residue of those
   * that failed — never dropped: the callers show it on the cell.
   */
  compensate(which: (name: RecordedStepName) => boolean = () => true): Promise<Residue[]> {
    return undoAll([...this.compensations].reverse().filter((c) => which(c.name)));
  }
}

/** What failed, for people: the step, the error type, its message, hint and last log lines. */
export function describeFailure(step: string, error: unknown): Failure {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure) {
    const [details] = (cause.details ?? []) as Array<FailureDetails | undefined>;
    return {
      step,
      type: cause.type ?? ErrorType.Error,
      message: cause.message,
      hint: details?.hint,
      logTail: details?.logTail,
    };
  }
  if (isCancellation(error))
    return { step, type: ErrorType.Cancelled, message: 'provisioning was cancelled' };
  return { step, type: ErrorType.Error, message: error instanceof Error ? error.message : String(error) };
}
