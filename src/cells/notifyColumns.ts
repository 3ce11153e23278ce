// The notify target between the request, the record and the workflow: the columns a request's target
// is stored in, and what a workflow may know of them. A leaf (types and the column reader of
// src/cells/columns.ts only above it): the request's path
// (src/cells/create.ts), the pool's claim and its hand-over (src/pools) all import it, nothing here
// imports them back.
import { readNotifyColumn } from './columns.js';
import type { NotifyRoute } from './plan.js';
import type { NotifyTarget } from './schema.js';

/** The notify target as stored: where to (without the secret), and the secret in its own column. */
export function notifyColumns(notify: NotifyTarget | undefined) {
  if (!notify) return {};
  if ('url' in notify) {
    return { notify: JSON.stringify({ url: notify.url }), notifySecret: notify.secret ?? null };
  }
  return { notify: JSON.stringify({ workflowId: notify.workflowId, signal: notify.signal }) };
}

/**
 * What the workflow knows of the cell's notify target: a webhook's URL and secret stay in the
 * database (the delivery activity reads them by the cell's id), so history never holds them.
 */
export function notifyRoute(notify: string | null): NotifyRoute | undefined {
  const target = readNotifyColumn(notify);
  if (!target) return undefined;
  return 'url' in target
    ? { kind: 'webhook' }
    : { kind: 'workflow', workflowId: target.workflowId, signal: target.signal };
}
