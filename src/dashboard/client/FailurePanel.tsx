import { ErrorType } from '../../cells/catalog.js';
import { clockTime, duration } from './format.js';
import type { CellDetail } from './types.js';

/** The failed step, its error, hint and log tail, what to do, and when the cell rolls back by itself. */
export function FailurePanel(props: {
  cell: CellDetail;
  preserveFailedForMs: number | null;
  now: number;
  busy: string | null;
  onRetry: () => void;
  onRollBack: () => void;
  onCleanup: () => void;
}) {
  const { cell } = props;
  const failure = cell.failure;
  if (!failure) return null;
  const waiting = cell.status === 'failed';
  const deadline =
    waiting && props.preserveFailedForMs !== null
      ? Date.parse(cell.updatedAt) + props.preserveFailedForMs
      : null;
  return (
    <section class="card failure" aria-labelledby="failure-title">
      <header class="card-head">
        <h2 id="failure-title">
          {cell.status === 'cleanup_failed'
            ? 'Clean-up failed'
            : failure.type === ErrorType.HostLost
              ? `Host ${cell.host ?? ''} lost`
              : 'Provisioning failed'}{' '}
          at <code>{failure.step}</code>
        </h2>
        <span class="badge tone-bad mono">{failure.type}</span>
      </header>
      <p class="failure-message">{failure.message}</p>
      {failure.hint && (
        <p class="hint">
          <strong>How to fix it: </strong>
          {failure.hint}
        </p>
      )}
      {failure.logTail && (
        <details open>
          <summary>Last log lines</summary>
          <pre class="log short">{failure.logTail}</pre>
        </details>
      )}
      {failure.residue && failure.residue.length > 0 && (
        <div>
          <h3>What may be left on the host</h3>
          <ul>
            {failure.residue.map((r) => (
              <li key={r.step}>
                <code>{r.step}</code> ({r.type}): {r.message}
              </li>
            ))}
          </ul>
        </div>
      )}
      <div class="form-actions">
        {cell.actions.includes('retry') && (
          <button type="button" class="primary" disabled={props.busy !== null} onClick={props.onRetry}>
            Retry from {failure.step}
          </button>
        )}
        {cell.actions.includes('cancel') && (
          <button type="button" class="danger" disabled={props.busy !== null} onClick={props.onRollBack}>
            Roll back
          </button>
        )}
        {cell.actions.includes('cleanup') && (
          <button type="button" class="primary" disabled={props.busy !== null} onClick={props.onCleanup}>
            Run the clean-up again
          </button>
        )}
      </div>
      {waiting && (
        <p class="muted small" data-deadline>
          The worktree, logs and ports are kept so you can look and fix the cause (fix and commit the config,
          or change the worktree), then Retry: it resumes at the failed step.{' '}
          {deadline !== null &&
            (deadline > props.now
              ? `Rolls back by itself in ${duration((deadline - props.now) / 1000)} (at ${clockTime(deadline)}).`
              : 'Its time is up: it rolls back now.')}
        </p>
      )}
    </section>
  );
}
