import { useState } from 'preact/hooks';
import { ConfirmDialog } from './components.js';
import type { CellDetail } from './types.js';

export type Dialog = 'cancel' | 'rollback' | 'archive' | null;

/** The confirmations a cell page asks before it cancels, rolls back or archives (what each undoes). */
export function CellDialogs({
  cell,
  dialog,
  onClose,
  onCancel,
  onArchive,
}: {
  cell: CellDetail;
  dialog: Dialog;
  onClose: () => void;
  onCancel: () => void;
  onArchive: (discard: boolean) => void;
}) {
  const [discard, setDiscard] = useState(false);
  return (
    <>
      <ConfirmDialog
        open={dialog === 'cancel'}
        title="Cancel this cell?"
        confirmLabel="Cancel and roll back"
        cancelLabel="Keep provisioning"
        danger
        onConfirm={onCancel}
        onClose={onClose}
      >
        <p>
          The running step is stopped (with any command it runs), then everything done so far is undone in
          reverse: services stopped, teardown run, the worktree removed and the ports released. You can watch
          it here until the cell is <strong>cancelled</strong>.
        </p>
      </ConfirmDialog>
      <ConfirmDialog
        open={dialog === 'rollback'}
        title="Roll this cell back?"
        confirmLabel="Roll back"
        danger
        onConfirm={onCancel}
        onClose={onClose}
      >
        <p>
          Everything provisioning did is undone in reverse: teardown runs, the worktree is removed (its
          uncommitted work is saved to <code>refs/hive/archive/{cell.id}</code> first) and the ports are
          released. Restore can bring the cell back later.
        </p>
      </ConfirmDialog>
      <ConfirmDialog
        open={dialog === 'archive'}
        title="Archive this cell?"
        confirmLabel={discard ? 'Archive and discard work' : 'Archive'}
        danger={discard}
        onConfirm={() => onArchive(discard)}
        onClose={() => {
          onClose();
          setDiscard(false);
        }}
      >
        <p>
          Services stop, teardown runs, the worktree is removed and its ports are released.{' '}
          <strong>Nothing is lost:</strong> uncommitted changes, untracked files, new ignored files and
          detached commits are first saved to <code>refs/hive/archive/{cell.id}</code>
          {cell.branch && (
            <>
              , and <code>{cell.branch}</code> is kept if it has commits
            </>
          )}
          . Restore brings the cell back with that work in place.
        </p>
        <label class="radio danger-text">
          <input type="checkbox" checked={discard} onChange={(e) => setDiscard(e.currentTarget.checked)} />
          Discard the uncommitted work instead of saving it (commits are always kept)
        </label>
      </ConfirmDialog>
    </>
  );
}
