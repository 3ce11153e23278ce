// Telling an agent runner about a cell: each status a notify target hears about starts a child
// workflow that records the event and delivers it, abandoned by the cell's workflow (which never
// waits for a delivery, and may complete or continue as new while one is still retrying).
import {
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowCancellationType,
  condition,
  defineSignal,
  getExternalWorkflowHandle,
  isCancellation,
  ParentClosePolicy,
  setHandler,
  sleep,
  startChild,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import { ErrorType } from '../cells/catalog.js';
import { refusedWorkflowTarget } from '../cells/notifyTargets.js';
import type { NotificationRequest, NotifyRoute } from '../cells/plan.js';
import type { CellNotification, Failure } from '../cells/schema.js';
import { type CellStatus, type NotifiedStatus, notifiedStatuses } from '../cells/status.js';
import { CellIdKey } from '../temporal/searchAttributes.js';
import { type CellActivities, notificationActivities } from './activities.js';
import type { ProvisionCellInput } from './state.js';

/** Whether a status change is an event for the notify target: `ready` only as provisioning ends. */
function heard(status: CellStatus, from: CellStatus | undefined): status is NotifiedStatus {
  if (!(notifiedStatuses as readonly CellStatus[]).includes(status)) return false;
  return status !== 'ready' || from === 'provisioning';
}

/**
 * The cell's activities, with every status transition passing by its notify target: the one place
 * all transitions go through (`setStatus`, or `statusWritten` for one another record activity wrote),
 * so no step, rollback or archive has to remember it.
 * Without a target the activities are returned as they are.
 */
export function notifying(act: CellActivities, input: ProvisionCellInput): CellActivities {
  // What the record shows, mirrored: a resumed run is live (ready, no failure shown).
  let previous: CellStatus | undefined = input.resume ? 'ready' : undefined;
  let shown: Failure | null = null;
  const transition = async (status: CellStatus, failure?: Failure | null) => {
    const from = previous;
    previous = status;
    if (failure !== undefined) shown = failure;
    if (status === 'ready') shown = null;
    // Read at each transition: a cell claimed from a warm pool learns its target at the claim.
    const route = input.notify;
    if (!route || !heard(status, from)) return;
    await startDelivery({ cellId: input.cellId, event: status, failure: shown, route });
  };
  return {
    ...act,
    async setStatus(cellId, status, failure, poolReady) {
      await act.setStatus(cellId, status, failure, poolReady);
      await transition(status, failure);
    },
    async statusWritten(status) {
      await act.statusWritten(status);
      await transition(status);
    },
  };
}

/** Starts the child workflow that delivers one event; returns once it has started. */
export async function startDelivery(event: Omit<NotificationRequest, 'id'>): Promise<void> {
  const id = `${workflowInfo().workflowId}-notify-${event.event}-${uuid4().slice(0, 8)}`;
  const where =
    event.route.kind === 'workflow' ? `signal ${event.route.signal} to ${event.route.workflowId}` : 'POST';
  // Never cancelled with the cell's provisioning: the event is about to be true whatever happens.
  await CancellationScope.nonCancellable(() =>
    startChild(deliverCellEvent, {
      workflowId: id,
      args: [{ ...event, id }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      cancellationType: ChildWorkflowCancellationType.ABANDON,
      typedSearchAttributes: [{ key: CellIdKey, value: event.cellId }],
      staticSummary: `notify: cell ${event.cellId} is ${event.event} (${where})`,
    }),
  );
}

const reason = (error: unknown): string =>
  error instanceof Error
    ? error.cause instanceof Error
      ? error.cause.message
      : error.message
    : String(error);

/**
 * Delivers one event of a cell to its notify target: recorded first (the body fixed), then POSTed
 * by a retried activity, or signalled to the target workflow from here, retrying with the same
 * backoff until the window ends. Fails (visibly, in the Temporal UI and on the cell) when the
 * receiver refuses it or the window runs out.
 */
export async function deliverCellEvent(request: NotificationRequest): Promise<{ attempts: number }> {
  const notify = notificationActivities();
  const recorded = await notify.record(request);
  const { route } = request;
  if (route.kind === 'webhook') {
    try {
      const { attempt } = await notify.deliverWebhook(request, recorded);
      return { attempts: attempt };
    } catch (error) {
      // The last attempt's error is on the record already; only the verdict is new.
      await notify.recordDelivery({ id: request.id, gaveUp: true });
      throw ApplicationFailure.create({
        type: ErrorType.NotificationUndelivered,
        message: `the ${request.event} event was not delivered: ${reason(error)}`,
        nonRetryable: true,
      });
    }
  }
  return signalUntilDelivered(request, route, recorded.payload, recorded);
}

async function signalUntilDelivered(
  request: NotificationRequest,
  route: Extract<NotifyRoute, { kind: 'workflow' }>,
  payload: CellNotification,
  policy: { initialIntervalMs: number; maxIntervalMs: number; windowMs: number },
): Promise<{ attempts: number }> {
  const notify = notificationActivities();
  // Checked again here, whatever the request's check let through (a cell recorded before it existed):
  // a signal to one of Hive's own workflows, or under a control signal's name, is never sent.
  const refused = refusedWorkflowTarget(route.workflowId, route.signal);
  if (refused) {
    const message = `notify.${refused.field} refused: ${refused.detail}`;
    await notify.recordDelivery({ id: request.id, error: message, gaveUp: true });
    throw ApplicationFailure.create({
      type: ErrorType.NotificationUndelivered,
      message: `the ${request.event} event was not delivered: ${message}`,
      nonRetryable: true,
    });
  }
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      await getExternalWorkflowHandle(route.workflowId).signal(route.signal, payload);
      await notify.recordDelivery({ id: request.id, attempt });
      return { attempts: attempt };
    } catch (error) {
      if (isCancellation(error)) throw error;
      const delay = Math.min(policy.initialIntervalMs * 2 ** (attempt - 1), policy.maxIntervalMs);
      const gaveUp = Date.now() - started + delay > policy.windowMs;
      const message = `signal ${route.signal} to ${route.workflowId}: ${reason(error)}`;
      await notify.recordDelivery({ id: request.id, attempt, error: message, gaveUp });
      if (gaveUp) {
        throw ApplicationFailure.create({
          type: ErrorType.NotificationUndelivered,
          message: `the ${request.event} event was not delivered: ${message}`,
          nonRetryable: true,
        });
      }
      await sleep(delay);
    }
  }
}

export interface AwaitCellEventInput {
  /** The signal name given as `notify.signal` in the cell request. */
  signal: string;
  /** Only events of this cell (default: any cell that names this workflow). */
  cellId?: string;
  /** The events that end the wait (default: ready, failed, rolled_back, cancelled, cleanup_failed). */
  events?: NotifiedStatus[];
  /** Give up after this long and return null (default: wait as long as it takes). */
  timeoutMs?: number;
}

/**
 * A receiver for orchestrators on Temporal (and the tests): start it on Hive's task queue under an id
 * of your own (never cell-…, pool-… or hosts-…), request a cell with `notify: { workflowId: <its id>,
 * signal: "cellEvent" }`, and its result is the first matching event.
 */
export async function awaitCellEvent({
  signal,
  cellId,
  events = ['ready', 'failed', 'rolled_back', 'cancelled', 'cleanup_failed'],
  timeoutMs,
}: AwaitCellEventInput): Promise<CellNotification | null> {
  let found: CellNotification | undefined;
  setHandler(defineSignal<[CellNotification]>(signal), (event) => {
    if (!found && (!cellId || event.cell.id === cellId) && events.includes(event.event)) found = event;
  });
  if (timeoutMs === undefined) await condition(() => found !== undefined);
  else await condition(() => found !== undefined, timeoutMs);
  return found ?? null;
}
