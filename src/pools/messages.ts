// The messages of warm pools: between the API, a pool's workflow and a pool cell's workflow. Plain
// definitions (no I/O): the API and the workflow bundle both import them. Listed in
// hiveSignalNames (src/workflows/control.ts), so no cell's notify target can use their names.
import { defineSignal, defineUpdate } from '@temporalio/workflow';

/** What a claimed pool cell answers: handed over (ready, the request's), or no request claimed it. */
export interface ClaimAnswer {
  claimed: boolean;
}

/**
 * A request claimed this pool cell (the API wrote the request into its record by compare-and-set):
 * the cell takes its brief (the prompt step again), is ready, and only then answers. The API's way:
 * an update, so the request is answered the moment the cell is the request's (no polling).
 */
export const claimUpdate = defineUpdate<ClaimAnswer>('claim');

/**
 * The same hand-over, sent by the pool's workflow for a claim whose API died before its update
 * reached the cell (workflows cannot send updates). A second hand-over is never run.
 */
export const claimSignal = defineSignal('claim');

/**
 * The pool lets this cell go (stale base commit or template, or the pool shrank): a ready one is
 * archived with discard (it holds nobody's work), a provisioning one cancelled.
 */
export const recycleSignal = defineSignal('recycle');

/** Wakes a pool's workflow to look at its cells now (a claim took one, or a person looked). */
export const poolChangedSignal = defineSignal('changed');
