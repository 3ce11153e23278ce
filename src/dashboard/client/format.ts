import type { CellStatus } from './types.js';

/** "4 s", "2 min 05 s", "3 h 12 min": short, and stable in width while it counts. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  const h = Math.floor(s / 3600);
  if (h < 48) return `${h} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
  return `${Math.floor(h / 24)} days`;
}

/** "12 s ago", "3 min ago", then a date. */
export function ago(iso: string, now: number): string {
  const seconds = (now - Date.parse(iso)) / 1000;
  if (seconds < 5) return 'just now';
  if (seconds < 3600) return `${duration(seconds).replace(/ \d+ s$/, '')} ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return new Date(iso).toLocaleString();
}

export const clockTime = (ms: number) =>
  new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

/** How each state reads and which colour family it takes. */
export const statusLook: Record<
  CellStatus,
  { label: string; tone: 'ok' | 'busy' | 'bad' | 'warn' | 'idle' }
> = {
  pending: { label: 'Pending', tone: 'busy' },
  queued: { label: 'Queued', tone: 'busy' },
  provisioning: { label: 'Provisioning', tone: 'busy' },
  ready: { label: 'Ready', tone: 'ok' },
  degraded: { label: 'Degraded', tone: 'warn' },
  suspended: { label: 'Suspended', tone: 'idle' },
  failed: { label: 'Failed', tone: 'bad' },
  lost: { label: 'Host lost', tone: 'bad' },
  rolling_back: { label: 'Rolling back', tone: 'busy' },
  rolled_back: { label: 'Rolled back', tone: 'idle' },
  cancelling: { label: 'Cancelling', tone: 'busy' },
  cancelled: { label: 'Cancelled', tone: 'idle' },
  archiving: { label: 'Archiving', tone: 'busy' },
  archived: { label: 'Archived', tone: 'idle' },
  cleanup_failed: { label: 'Clean-up failed', tone: 'bad' },
};
