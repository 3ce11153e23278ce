import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { statusLook } from './format.js';
import type { StreamState } from './sse.js';
import type { CellStatus, Finding } from './types.js';

export function StatusBadge({ status }: { status: CellStatus }) {
  const look = statusLook[status] ?? { label: status, tone: 'idle' };
  return (
    <span class={`badge tone-${look.tone}`} data-status={status}>
      {look.tone === 'busy' && <span class="spinner" aria-hidden="true" />}
      {look.label}
    </span>
  );
}

/** Copies text; falls back to a selection copy where the Clipboard API is not allowed (plain http). */
async function copyText(text: string) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.append(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
}

export function CopyButton({ text, label }: { text: string; label: string }) {
  const [done, setDone] = useState(false);
  return (
    <button
      type="button"
      class="ghost small copy"
      aria-label={`Copy ${label}`}
      onClick={async () => {
        await copyText(text);
        setDone(true);
        setTimeout(() => setDone(false), 1500);
      }}
    >
      <span aria-live="polite">{done ? 'Copied' : 'Copy'}</span>
    </button>
  );
}

/** A modal confirmation (native <dialog>: focus trapped, Esc closes). */
export function ConfirmDialog(props: {
  open: boolean;
  title: string;
  confirmLabel: string;
  cancelLabel?: string;
  danger?: boolean;
  onConfirm: () => void;
  onClose: () => void;
  children: ComponentChildren;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (props.open && !dialog.open) dialog.showModal();
    if (!props.open && dialog.open) dialog.close();
  }, [props.open]);
  return (
    <dialog ref={ref} class="dialog" aria-label={props.title} onClose={props.onClose}>
      <h2>{props.title}</h2>
      <div class="dialog-body">{props.children}</div>
      <div class="dialog-actions">
        <button type="button" class="ghost" onClick={props.onClose}>
          {props.cancelLabel ?? 'Back'}
        </button>
        <button
          type="button"
          class={props.danger ? 'danger' : 'primary'}
          onClick={() => {
            props.onConfirm();
            props.onClose();
          }}
        >
          {props.confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

export function FindingList({ findings, file }: { findings: Finding[]; file?: string }) {
  return (
    <ul class="findings">
      {findings.map((f) => (
        <li key={`${f.path}:${f.message}`} class={`finding ${f.severity}`}>
          <div class="finding-head">
            <span class={`sev ${f.severity}`}>{f.severity === 'error' ? 'Error' : 'Warning'}</span>
            <code class="finding-path">
              {file ? `${file} · ` : ''}
              {f.path}
            </code>
          </div>
          <p class="finding-message">{f.message}</p>
          {f.hint && <p class="hint">{f.hint}</p>}
        </li>
      ))}
    </ul>
  );
}

export function ErrorNote({ children }: { children: ComponentChildren }) {
  return (
    <div class="note error" role="alert">
      {children}
    </div>
  );
}

const liveText: Record<StreamState, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  ended: 'Up to date',
  failed: 'Not live',
};

export function LiveIndicator({ state }: { state: StreamState }) {
  return (
    <span
      class={`live live-${state}`}
      role="status"
      title="Updates pushed by the server (Server-Sent Events)"
    >
      <span class="dot" aria-hidden="true" />
      {liveText[state]}
    </span>
  );
}

export function Section(props: {
  title: string;
  id?: string;
  actions?: ComponentChildren;
  children: ComponentChildren;
}) {
  return (
    <section class="card" aria-labelledby={props.id}>
      <header class="card-head">
        <h2 id={props.id}>{props.title}</h2>
        {props.actions && <div class="card-actions">{props.actions}</div>}
      </header>
      {props.children}
    </section>
  );
}
