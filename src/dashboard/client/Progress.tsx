import { parseServiceStep, Step, type StepName } from '../../cells/catalog.js';
import { duration } from './format.js';
import { rowStateText, type StepRow } from './steps.js';
import type { CellDetail } from './types.js';

const icon: Record<StepRow['state'], string> = {
  waiting: '○',
  running: '',
  retrying: '',
  done: '✓',
  failed: '✕',
  undoing: '',
  undone: '↺',
  'undo-failed': '!',
};

function elapsed(row: StepRow, now: number): string {
  if (!row.startedAt) return row.expectedSeconds ? `~${duration(row.expectedSeconds)}` : '';
  const end = row.endedAt ? Date.parse(row.endedAt) : now;
  return duration((end - Date.parse(row.startedAt)) / 1000);
}

/** The steps, each with its state, attempt, current operation and elapsed time. */
export function StepList({ rows, now }: { rows: StepRow[]; now: number }) {
  return (
    <ol class="steps" aria-label="Provisioning steps">
      {rows.map((row) => (
        <li key={row.key} class={`step state-${row.state}`} data-step={row.key} data-state={row.state}>
          <span class="step-icon" aria-hidden="true">
            {icon[row.state] || <span class="spinner" />}
          </span>
          <div class="step-main">
            <div class="step-line">
              <span class="step-label">{row.label}</span>
              <span class="step-state">
                {rowStateText[row.state]}
                {row.attempt > 1 && ` · attempt ${row.attempt}`}
              </span>
            </div>
            {/* Always present, so a line appearing or going does not move the rows below. */}
            <div class="step-op" aria-live="polite">
              {row.operation ?? ''}
            </div>
          </div>
          <span class="step-time">{elapsed(row, now)}</span>
        </li>
      ))}
    </ol>
  );
}

/** The ETA, counting down between updates from the last answer of the API. */
export function Eta({ cell, fetchedAt, now }: { cell: CellDetail; fetchedAt: number; now: number }) {
  const eta = cell.progress.eta;
  const elapsedTotal = (now - Date.parse(cell.createdAt)) / 1000;
  if (!eta || eta.remainingSeconds === null || eta.totalSeconds === null) {
    return (
      <div class="eta">
        <span class="eta-main">{duration(elapsedTotal)} elapsed</span>
        <span class="muted small">
          No estimate yet: this template has no finished cells and declares no time.
        </span>
      </div>
    );
  }
  const remaining = Math.max(0, eta.remainingSeconds - (now - fetchedAt) / 1000);
  const done = Math.min(1, Math.max(0, 1 - remaining / Math.max(eta.totalSeconds, 1)));
  return (
    <div class="eta">
      <div class="eta-line">
        <span class="eta-main" data-eta-seconds={Math.round(remaining)}>
          {remaining > 0 ? `About ${duration(remaining)} left` : 'Any moment now'}
        </span>
        <span class="muted small">
          {duration(elapsedTotal)} elapsed ·{' '}
          {eta.basis === 'measured' ? `median of ${eta.samples} past cells` : 'declared by the template'}
        </span>
      </div>
      <div
        class="bar"
        role="progressbar"
        aria-label="Estimated progress"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(done * 100)}
      >
        <span style={{ width: `${(done * 100).toFixed(1)}%` }} />
      </div>
    </div>
  );
}

const undoText: Partial<Record<StepName, string>> = {
  [Step.teardown]: 'Run teardown commands',
  [Step.worktree]: 'Remove the worktree (work saved first)',
  [Step.ports]: 'Release the ports',
};

const undoLabel = (name: string) => {
  const service = parseServiceStep(name)?.service;
  if (service) return `Stop service ${service}`;
  return undoText[name as StepName] ?? name;
};

/** The rollback, compensation by compensation, as it happens. */
export function Rollback({ cell, now }: { cell: CellDetail; now: number }) {
  const undo = cell.steps
    .filter((s) => s.kind === 'compensation')
    .sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt));
  if (undo.length === 0) return <p class="muted">Nothing was undone yet.</p>;
  return (
    <ol class="steps compact" aria-label="Rollback">
      {undo.map((s) => {
        const state = s.status === 'running' ? 'undoing' : s.status === 'failed' ? 'undo-failed' : 'undone';
        return (
          <li key={s.name} class={`step state-${state}`} data-undo={s.name} data-state={state}>
            <span class="step-icon" aria-hidden="true">
              {icon[state] || <span class="spinner" />}
            </span>
            <div class="step-main">
              <div class="step-line">
                <span class="step-label">{undoLabel(s.name)}</span>
                <span class="step-state">{rowStateText[state]}</span>
              </div>
            </div>
            <span class="step-time">
              {duration(((s.endedAt ? Date.parse(s.endedAt) : now) - Date.parse(s.startedAt)) / 1000)}
            </span>
          </li>
        );
      })}
    </ol>
  );
}
