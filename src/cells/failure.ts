// The one failure shape. A leaf: the API's schemas, the event shapes and the browser dashboard all
// import it. Zod by named imports, so the dashboard's bundle keeps only what it uses.
import type { z } from 'zod';
import { array, object, string } from 'zod';

/** A compensation that could not undo its step: what may be left on the host. */
export const Residue = object({
  step: string().describe('The step whose clean-up failed, e.g. worktree or services.api'),
  type: string(),
  message: string(),
});
export type Residue = z.infer<typeof Residue>;

/**
 * The one failure shape, from the activity that failed (type, message, hint, logTail) through the
 * workflow (which adds the step, and the residue of a clean-up) to the API.
 */
export const Failure = object({
  step: string().describe('The step that failed (see the step catalog)'),
  type: string().describe('An error type of the catalog, e.g. SetupFailed'),
  message: string(),
  hint: string().optional().describe('How to fix it'),
  logTail: string().optional().describe('Last lines of the log of what failed'),
  residue: array(Residue)
    .optional()
    .describe('Clean-ups that failed and what they may have left; POST /cells/:id/cleanup retries them'),
});
export type Failure = z.infer<typeof Failure>;
/** What an activity attaches to the failure it throws. */
export type FailureDetails = Pick<Failure, 'hint' | 'logTail'>;
