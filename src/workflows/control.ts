// How people steer a cell's workflow. Shared by the workflow (handlers) and the API (client).
import { defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ServiceEvent } from '../cells/plan.js';
import { claimSignal, claimUpdate, poolChangedSignal, recycleSignal } from '../pools/messages.js';
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
 * accepted. The worktree's work is saved before it is removed, unless `discard`.
 */
export const archiveUpdate = defineUpdate<{ discard: boolean }, [{ discard?: boolean }]>('archive');

// Warm pools' messages (claim, recycle, changed) live with the pools: src/pools/messages.ts.

/**
 * From the host monitor (src/workflows/hosts.ts): the cell's host stopped heartbeating for the
 * grace period (`lost`, `since` its last heartbeat), or heartbeats again (`back`).
 */
export const hostSignal = defineSignal<[{ host: string; state: 'lost' | 'back'; since: string }]>('host');

/**
 * From the supervisor of the cell's host (src/supervision): a watched service exited or turned
 * unhealthy. `watch` is the number of the watch it belongs to; one of an older watch is ignored.
 */
export const serviceEventSignal = defineSignal<[ServiceEvent & { watch: number }]>('serviceEvent');

/**
 * From a worker of the cell's host that just started: its supervisor watches nothing yet, so the live
 * phase asks it to watch the cell again.
 */
export const superviseSignal = defineSignal('supervise');

/** Wake a suspended cell (its first proxied request, `hive cells resume`, the dashboard, MCP). */
export const wakeSignal = defineSignal('wake');

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
  claimUpdate,
  recycleSignal,
  poolChangedSignal,
  hostSignal,
  serviceEventSignal,
  superviseSignal,
  wakeSignal,
].map((definition) => definition.name);
