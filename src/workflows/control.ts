// How people steer a cell's workflow. Shared by the workflow (handlers) and the API (client).
import { defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ServiceAction } from './state.js';

/** Cancel provisioning (running activity cancelled, then rollback), or roll back a preserved failed cell. */
export const cancelSignal = defineSignal('cancel');

/** Resume a preserved failed cell at its failed step; steps that succeeded are not redone. */
export const retrySignal = defineSignal('retry');

/** Run the clean-up of a cell in `cleanup_failed` again (every compensation is idempotent). */
export const cleanupSignal = defineSignal('cleanup');

/** Stop, start or restart one service of a ready cell. */
export const serviceSignal = defineSignal<[{ service: string; action: ServiceAction }]>('service');

/**
 * Archive a ready cell. An update rather than a signal so the caller learns at once whether it was
 * accepted. The worktree's work is saved before it is removed, unless `discard`. (`force` is what
 * older callers sent; workflows of an older version refused a dirty worktree without it.)
 */
export const archiveUpdate = defineUpdate<{ discard: boolean }, [{ discard?: boolean; force?: boolean }]>(
  'archive',
);
