import { ActivityFailure, ApplicationFailure, CancellationScope, isCancellation } from '@temporalio/workflow';
import type { FailureInfo } from './types.js';

/**
 * Saga bookkeeping for one workflow run: which step is running, and the compensations of the steps
 * done so far, undone in reverse order.
 */
export class Saga {
  private readonly compensations: Array<{ name: string; undo: () => Promise<unknown> }> = [];
  current = '';

  /**
   * Runs a step, then registers its compensation — also when the step failed, because an activity
   * can fail or time out after doing part of its work (a worktree added, a process spawned); every
   * compensation is idempotent and a no-op when there is nothing to undo.
   */
  async step<T>(name: string, run: () => Promise<T>, undo?: () => Promise<unknown>): Promise<T> {
    this.current = name;
    try {
      return await run();
    } finally {
      if (undo) this.add(name, undo);
    }
  }

  /** Registers a compensation on its own (for sub-steps such as each service). */
  add(name: string, undo: () => Promise<unknown>): void {
    // A step retried after a preserved failure registers again: keep one entry per name.
    if (this.compensations.some((c) => c.name === name)) return;
    this.compensations.push({ name, undo });
  }

  /**
   * Runs the compensations (all, or those `which` selects) in reverse, shielded from cancellation,
   * continuing past a failed one so one stuck undo does not leave the rest behind. They stay
   * registered: each is idempotent, and a preserved cell may still be rolled back later. Returns the
   * names of those that failed.
   */
  async compensate(which: (name: string) => boolean = () => true): Promise<string[]> {
    const failed: string[] = [];
    await CancellationScope.nonCancellable(async () => {
      for (const next of [...this.compensations].reverse()) {
        if (!which(next.name)) continue;
        try {
          await next.undo();
        } catch {
          failed.push(next.name);
        }
      }
    });
    return failed;
  }
}

/** What failed, for people: the step, the error type, its message, hint and last log lines. */
export function describeFailure(step: string, error: unknown): FailureInfo {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure) {
    const [details] = (cause.details ?? []) as Array<{ hint?: string; logTail?: string } | undefined>;
    return {
      step,
      type: cause.type ?? 'Error',
      message: cause.message,
      hint: details?.hint,
      logTail: details?.logTail,
    };
  }
  if (isCancellation(error)) return { step, type: 'Cancelled', message: 'provisioning was cancelled' };
  return { step, type: 'Error', message: error instanceof Error ? error.message : String(error) };
}
