// Warm pools, the cell's side: a pool cell waits like any ready cell; when a request claims it (the
// API wrote the request into its record by compare-and-set), it is handed over — the brief read from
// the record, the prompt step again, ready. The API of the cell's own host does that itself and
// then signals the claim; another asks by the claim update, which the hand-over here answers when
// done. Either way the workflow then takes the claim over (the hand-over activity finds the work
// done, or does it), while supervision goes on undisturbed. The claim signal also comes from the
// pool's workflow, for a claim that did not reach the cell; each runs the same hand-over, never twice.
// The recycle signal lets a pool cell go. Deterministic code: no I/O.
import {
  condition,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../../activities/index.js';
import type { ReadyCell } from '../../cells/plan.js';
import { hiveWorkflowPrefixes } from '../../cells/workflowIds.js';
import { CellStatusKey } from '../../temporal/searchAttributes.js';
import { startDelivery } from '../../workflows/notify.js';
import { Patch } from '../../workflows/patches.js';
import type { Control, LiveState, ProvisionCellInput } from '../../workflows/state.js';
import { type ClaimAnswer, claimSignal, claimUpdate, recycleSignal } from '../messages.js';

const retry = { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '10 seconds' };

/**
 * The hand-over runs as a local activity (no round trip through the server: the claim is ready in
 * tens of milliseconds) when whoever runs this workflow is the cell's host: no host queue, or the
 * host's queue is the workflow's own (a host that runs alone, `hive up`, serves the shared queue).
 * On another host's task queue otherwise, as the prompt file lives in the worktree there.
 */
function handOverClaim(hostTaskQueue: string | undefined, cell: ReadyCell) {
  const summary = { summary: 'claimed from the pool: take the request, render the prompt again' };
  const here = hostTaskQueue === workflowInfo().taskQueue && patched(Patch.localHandover);
  if (!hostTaskQueue || here) {
    return proxyLocalActivities<Activities>({
      startToCloseTimeout: '1 minute',
      retry,
    }).handOverClaim.executeWithOptions(summary, [{ cell }]);
  }
  return proxyActivities<Activities>({
    startToCloseTimeout: '1 minute',
    taskQueue: hostTaskQueue,
    retry,
  }).handOverClaim.executeWithOptions(summary, [{ cell }]);
}

/**
 * Whether this cell obeys the pool's signals: a pool cell — its input says so, or (a cell started
 * before the input did) its parent is the pool's workflow, which continue-as-new keeps. A cell
 * requested for itself does not: whoever can signal it (a notify target could, once) would archive
 * it with discard. Decided from the input and the workflow's info only: replay decides the same.
 */
export function isPoolCell(input: ProvisionCellInput): boolean {
  return (
    input.pool === true || workflowInfo().parent?.workflowId.startsWith(hiveWorkflowPrefixes.pool) === true
  );
}

/** Handlers of a pool cell's messages; registered on pool cells only (see isPoolCell). */
export function listenForPool(input: ProvisionCellInput, control: Control): void {
  if (!isPoolCell(input)) return;
  // One hand-over per cell, whoever asks first (the API's update, the pool's signal, a retried update).
  let handing: Promise<ClaimAnswer> | undefined;
  const claim = () => {
    handing ??= (async () => {
      // A claim sent the moment the record said ready waits for the live phase to begin.
      await condition(() => control.state !== undefined);
      const state = control.state;
      if (!state || state.handedOver) return { claimed: state?.handedOver === true };
      const claimed = await handOver(input, state, control).catch((error: unknown) => {
        handing = undefined; // a failed hand-over is tried again by the next claim
        throw error;
      });
      // Asked before any request claimed it (never by Hive): a later claim is handed over anew.
      if (!claimed) handing = undefined;
      return { claimed };
    })();
    return handing;
  };
  setHandler(claimUpdate, claim);
  setHandler(claimSignal, async () => {
    await claim();
  });
  setHandler(recycleSignal, () => {
    if (control.archive) return;
    // Archived without saving anything once live; cancelled (rolled back) while still provisioning.
    control.archive = true;
    control.discard = true;
    if (!control.live) {
      control.cancel = true;
      control.interruptProvisioning?.();
    }
  });
}

/** Whether a request had claimed the cell (and now has it, ready). */
async function handOver(input: ProvisionCellInput, state: LiveState, control: Control): Promise<boolean> {
  const { cellId } = input;
  const claimed = await handOverClaim(input.hostTaskQueue, state.cell);
  if (!claimed) {
    log.warn('claim for a cell no request claimed; ignored', { cellId });
    return false;
  }
  state.handedOver = true;
  // Now the request's cell: watched again, with its template's idle policy.
  control.rewatch = true;
  state.cell = { ...state.cell, plan: claimed.plan };
  control.live = state.cell;
  upsertSearchAttributes([{ key: CellStatusKey, value: 'ready' }]);
  upsertMemo({ brief: claimed.headline, name: claimed.name, pool: 'claimed' });
  setCurrentDetails(
    [
      `**Claimed from the pool** as \`${claimed.name}\``,
      `**Brief** ${claimed.headline}`,
      `**Branch** \`${claimed.plan.branch}\` from \`${claimed.plan.baseCommit.slice(0, 12)}\``,
    ].join('\n\n'),
  );
  if (claimed.notify) {
    // Its notify target hears `ready` as for any new cell, and every later event of it.
    input.notify = claimed.notify;
    await startDelivery({ cellId, event: 'ready', failure: null, route: claimed.notify });
  }
  return true;
}
