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

/**
 * Warm pools: a request claimed this pool cell (the record is already the request's); the cell takes
 * its brief (the prompt step again) and is ready. Sent by the API after the claim, and again by the
 * pool's workflow for a claim whose API died before sending it: the second is ignored.
 */
export const claimSignal = defineSignal('claim');

/**
 * Warm pools: the pool lets this cell go (stale base commit or template, or the pool shrank): a
 * ready one is archived with discard (it holds nobody's work), a provisioning one cancelled.
 */
export const recycleSignal = defineSignal('recycle');

/** Wakes a pool's workflow to look at its cells now (a claim took one, or a person looked). */
export const poolChangedSignal = defineSignal('changed');

/**
 * From the host monitor (src/workflows/hosts.ts): the cell's host stopped heartbeating for the
 * grace period (`lost`, `since` its last heartbeat), or heartbeats again (`back`).
 */
export const hostSignal = defineSignal<[{ host: string; state: 'lost' | 'back'; since: string }]>('host');

/**
 * Every signal and update name a workflow of Hive's obeys: a cell's notify target may never be
 * signalled under one of them (src/cells/notifyTargets.ts), whatever workflow it names.
 */
export const hiveSignalNames: readonly string[] = [
  cancelSignal,
  retrySignal,
  cleanupSignal,
  serviceSignal,
  archiveUpdate,
  claimSignal,
  recycleSignal,
  poolChangedSignal,
  hostSignal,
].map((definition) => definition.name);
