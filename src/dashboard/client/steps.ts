import {
  type ProvisioningStep,
  parseServiceStep,
  provisioningSteps,
  Step,
  servicePhases,
  serviceStep,
  undoneBy,
} from '../../cells/catalog.js';
import type { CellDetail, StepView } from './types.js';

// The step list a person reads: the planned steps in order (waiting ones included, so the list does
// not jump while steps stream in), each with the state of its recorded Step rows.

export type RowState =
  | 'waiting'
  | 'running'
  | 'retrying'
  | 'done'
  | 'failed'
  | 'undoing'
  | 'undone'
  | 'undo-failed';

export interface StepRow {
  key: string;
  label: string;
  state: RowState;
  attempt: number;
  operation: string | null;
  startedAt: string | null;
  endedAt: string | null;
  /** Expected duration from past cells of the template, when measured. */
  expectedSeconds: number | null;
}

/** What each step reads as; the order and names are the catalog's. */
const stepLabel: Record<Exclude<ProvisioningStep, typeof Step.services>, string> = {
  [Step.validate]: 'Validate the request',
  [Step.worktree]: 'Git worktree',
  [Step.ports]: 'Allocate ports',
  [Step.environment]: 'Environment and setup',
  [Step.prompt]: 'Agent prompt',
};

function rowFrom(
  key: string,
  label: string,
  forward: StepView[],
  undo: StepView | undefined,
  expected: number | null,
): StepRow {
  const last = forward.reduce<StepView | undefined>(
    (a, s) => (!a || Date.parse(s.startedAt) >= Date.parse(a.startedAt) ? s : a),
    undefined,
  );
  const first = forward.reduce<StepView | undefined>(
    (a, s) => (!a || Date.parse(s.startedAt) < Date.parse(a.startedAt) ? s : a),
    undefined,
  );
  let state: RowState = 'waiting';
  if (undo)
    state = undo.status === 'running' ? 'undoing' : undo.status === 'failed' ? 'undo-failed' : 'undone';
  else if (forward.some((s) => s.status === 'failed' && s === last)) state = 'failed';
  else if (forward.some((s) => s.status === 'running'))
    state = (last?.attempt ?? 1) > 1 ? 'retrying' : 'running';
  else if (forward.length > 0 && forward.every((s) => s.status === 'succeeded')) state = 'done';
  const running = forward.find((s) => s.status === 'running');
  return {
    key,
    label,
    state,
    attempt: Math.max(1, ...forward.map((s) => s.attempt)),
    operation: running?.operation ?? null,
    startedAt: first?.startedAt ?? null,
    endedAt: state === 'running' || state === 'retrying' ? null : (last?.endedAt ?? null),
    expectedSeconds: expected,
  };
}

/**
 * The rows: validate, worktree, ports, environment, one per service (its start and readiness
 * sub-steps together), prompt. `services` are the template's enabled services, in order; services
 * the records name but the template no longer does are added.
 */
export function stepRows(cell: CellDetail, services: string[]): StepRow[] {
  const forward = cell.steps.filter((s) => s.kind === 'forward');
  const undo = cell.steps.filter((s) => s.kind === 'compensation');
  const eta = new Map((cell.progress.eta?.steps ?? []).map((s) => [s.name, s.expectedSeconds]));
  const named = new Set(services);
  for (const s of forward) {
    const service = parseServiceStep(s.name)?.service;
    if (service) named.add(service);
  }
  for (const s of cell.services) named.add(s.name);

  const rows: StepRow[] = [];
  for (const step of provisioningSteps) {
    if (step !== Step.services) {
      const undoName = undoneBy[step];
      rows.push(
        rowFrom(
          step,
          stepLabel[step],
          forward.filter((s) => s.name === step),
          undoName === undefined ? undefined : undo.find((s) => s.name === undoName),
          eta.get(step) ?? null,
        ),
      );
      continue;
    }
    for (const service of named) {
      const mine = forward.filter((s) => parseServiceStep(s.name)?.service === service);
      const expected = servicePhases
        .map((phase) => eta.get(serviceStep(service, phase)))
        .filter((n): n is number => n !== undefined);
      rows.push(
        rowFrom(
          serviceStep(service),
          `Service ${service}`,
          mine,
          undo.find((s) => s.name === serviceStep(service)),
          expected.length ? expected.reduce((a, b) => a + b, 0) : null,
        ),
      );
    }
  }
  return rows;
}

/** What a row's state reads as. */
export const rowStateText: Record<RowState, string> = {
  waiting: 'Waiting',
  running: 'Running',
  retrying: 'Retrying',
  done: 'Done',
  failed: 'Failed',
  undoing: 'Undoing',
  undone: 'Undone',
  'undo-failed': 'Undo failed',
};
