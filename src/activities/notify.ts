import { access } from 'node:fs/promises';
import path from 'node:path';
import { ErrorType } from '../cells/catalog.js';
import { readColumn, readNotifyColumn } from '../cells/columns.js';
import { recordEvent } from '../cells/events.js';
import {
  DELIVERY_HEADER,
  displayUrl,
  EVENT_HEADER,
  SIGNATURE_HEADER,
  signDelivery,
} from '../cells/notifications.js';
import type { NotificationRequest, RecordedNotification } from '../cells/plan.js';
import { CellNotification } from '../cells/schema.js';
import { DEFAULT_NOTIFY_RETRY_MS } from '../config/env.js';
import type { Db } from '../db/client.js';
import { permanent, transient } from './failures.js';
import { inActivity } from './steps.js';
import { postWebhook } from './webhook.js';
import { CELL_META_DIR } from './worktree.js';

/** A delivery's retries: from HIVE_NOTIFY_RETRY_MS, doubling up to MAX_INTERVAL_MS, for WINDOW_MS. */
const MAX_INTERVAL_MS = 10 * 60_000;
const WINDOW_MS = 24 * 60 * 60_000;
/** One attempt: connect, send, read the answer. */
const REQUEST_TIMEOUT_MS = 10_000;

export interface NotifyDeps {
  db: Db;
  /** First retry interval (HIVE_NOTIFY_RETRY_MS). */
  notifyRetryMs?: number;
}

/** The cell's notify column: the target without its secret. Unchecked here: a refused address is refused by the delivery, with the reason on the record. */
const targetOf = readNotifyColumn;

const exists = (file: string) =>
  access(file).then(
    () => file,
    () => null,
  );

/** Whether an HTTP answer is worth asking again: timeouts, rate limits and server errors. */
const retryable = (status: number) => status >= 500 || status === 408 || status === 425 || status === 429;

/**
 * Delivery of a cell's events to its notify target. The event is recorded once (its body fixed
 * then, so every retry sends the same bytes); the webhook activity reads the URL and secret from the
 * database by the delivery id, so neither ever enters Temporal history. All idempotent.
 */
export function createNotifyActivities({ db, notifyRetryMs = DEFAULT_NOTIFY_RETRY_MS }: NotifyDeps) {
  const finish = async (id: string, cellId: string, event: string, data: Record<string, unknown>) =>
    recordEvent(db, cellId, 'notification', { id, event, ...data });

  return {
    /** Records the event (a Notification row, pending) as the cell is now; returns it and the retry policy. */
    async recordNotification(request: NotificationRequest): Promise<RecordedNotification> {
      const { id, cellId, event, failure } = request;
      const policy = {
        initialIntervalMs: notifyRetryMs,
        maxIntervalMs: MAX_INTERVAL_MS,
        windowMs: WINDOW_MS,
      };
      const recorded = await db.notification.findUnique({ where: { id } });
      const cell = await db.cell.findUniqueOrThrow({
        where: { id: cellId },
        include: { services: { orderBy: { name: 'asc' } } },
      });
      const target = targetOf(cell.notify);
      const shown =
        request.route.kind === 'workflow'
          ? `workflow:${request.route.workflowId}#${request.route.signal}`
          : target && 'url' in target
            ? displayUrl(target.url)
            : 'unknown';
      const origin =
        request.route.kind === 'webhook' && target && 'url' in target ? new URL(target.url).origin : shown;
      if (recorded) {
        return {
          payload: readColumn('Notification.payload', CellNotification, recorded.payload),
          target: origin,
          ...policy,
        };
      }
      const meta = (file: string) =>
        cell.worktreePath ? exists(path.join(cell.worktreePath, CELL_META_DIR, file)) : null;
      const payload: CellNotification = {
        id,
        event,
        occurredAt: new Date().toISOString(),
        cell: {
          id: cell.id,
          name: cell.name,
          status: event,
          workspace: cell.workspaceId,
          template: cell.templateId,
          worktree: cell.worktreePath,
          branch: cell.branch,
          envFile: await meta('env'),
          promptFile: await meta('prompt.md'),
          services: cell.services.map((s) => ({ name: s.name, status: s.status, port: s.port, url: s.url })),
          href: `/cells/${cell.id}`,
        },
        failure,
      };
      await db.notification.upsert({
        where: { id },
        create: {
          id,
          cellId,
          event,
          kind: request.route.kind,
          target: shown,
          payload: JSON.stringify(payload),
        },
        update: {},
      });
      return { payload, target: origin, ...policy };
    },

    /**
     * One attempt to POST the recorded event to the cell's URL, signed when the cell has a secret.
     * 2xx: delivered. 3xx and 4xx (other than 408, 425, 429): the receiver refuses it, retrying the
     * same request cannot help — a non-retryable NotificationRejected. Anything else (connection
     * error, timeout, 5xx, 408, 425, 429): NotificationUndelivered, retried with backoff.
     */
    async deliverWebhook({ id }: { id: string }): Promise<{ status: number; attempt: number }> {
      const row = await db.notification.findUniqueOrThrow({
        where: { id },
        include: { cell: { select: { notify: true, notifySecret: true } } },
      });
      // A retry after a delivery whose completion was lost: the receiver already has it.
      if (row.deliveredAt) return { status: 200, attempt: row.attempts };
      const target = targetOf(row.cell.notify);
      if (!target || !('url' in target)) {
        throw permanent(ErrorType.NotificationRejected, 'the cell has no notify URL any more');
      }
      const context = inActivity();
      const attempt = context?.info.attempt ?? row.attempts + 1;
      const body = row.payload;
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'user-agent': 'hive-cells',
        [DELIVERY_HEADER]: row.id,
        [EVENT_HEADER]: row.event,
      };
      if (row.cell.notifySecret) headers[SIGNATURE_HEADER] = signDelivery(row.cell.notifySecret, body);
      const signals = [AbortSignal.timeout(REQUEST_TIMEOUT_MS)];
      if (context) signals.push(context.cancellationSignal);
      const { status, error, refused } = await postWebhook(target.url, {
        body,
        headers,
        signal: AbortSignal.any(signals),
        timeoutMs: REQUEST_TIMEOUT_MS,
      });
      const now = new Date();
      await db.notification.update({
        where: { id },
        data: {
          attempts: attempt,
          lastAttemptAt: now,
          ...(error ? { lastError: error } : { lastError: null, deliveredAt: now }),
        },
      });
      if (!error) {
        await finish(row.id, row.cellId, row.event, { state: 'delivered', attempts: attempt });
        return { status, attempt };
      }
      // Refused by Hive (the address it resolves to now is not one webhooks may reach): for good.
      if (refused) throw permanent(ErrorType.NotificationRejected, `${displayUrl(target.url)}: ${error}`);
      if (status >= 300 && !retryable(status)) {
        throw permanent(
          ErrorType.NotificationRejected,
          `${displayUrl(target.url)} refused the event: ${error}`,
        );
      }
      throw transient(ErrorType.NotificationUndelivered, `${displayUrl(target.url)}: ${error}`);
    },

    /**
     * Records an attempt made by workflow code (a signal to the target workflow), or that delivery
     * was given up (`gaveUp`): the cell then shows the notification as failed, with the last error.
     */
    async recordDelivery({
      id,
      attempt,
      error,
      gaveUp = false,
    }: {
      id: string;
      attempt?: number;
      error?: string;
      gaveUp?: boolean;
    }): Promise<void> {
      const before = await db.notification.findUniqueOrThrow({ where: { id } });
      // Already settled (a retried activity): nothing to record twice.
      if (before.deliveredAt || before.failedAt) return;
      const now = new Date();
      const row = await db.notification.update({
        where: { id },
        data: {
          ...(attempt !== undefined ? { attempts: attempt, lastAttemptAt: now } : {}),
          ...(error !== undefined ? { lastError: error } : {}),
          ...(gaveUp ? { failedAt: now } : error === undefined ? { deliveredAt: now, lastError: null } : {}),
        },
      });
      if (gaveUp || error === undefined) {
        await finish(row.id, row.cellId, row.event, {
          state: gaveUp ? 'failed' : 'delivered',
          attempts: row.attempts,
          ...(gaveUp ? { error: row.lastError } : {}),
        });
      }
    },
  };
}
