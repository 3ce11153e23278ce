// The activities as the workflow calls them: one proxy per kind of work (records, host-bound steps,
// supervision), wrapped in typed functions that carry the one-line summary the Temporal UI shows for
// every activity call.
import {
  ActivityCancellationType,
  type ActivityOptions,
  type LocalActivityOptions,
  patched,
  proxyActivities,
  proxyLocalActivities,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { ErrorType } from '../cells/catalog.js';
import type {
  AllocatedPort,
  CellEnvironment,
  CellPlan,
  NotificationRequest,
  ReadyCell,
  RecordedNotification,
  ServiceCall,
  SettlingService,
} from '../cells/plan.js';
import type { Failure } from '../cells/schema.js';
import type { CellStatus } from '../cells/status.js';
import { CellStatusKey } from '../temporal/searchAttributes.js';
import { Patch } from './patches.js';

const retry = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '15 seconds' };

/** Short record writes: retried until the database answers. */
const recordOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { maximumInterval: '10 seconds' },
} as const;
const records = proxyActivities<Activities>(recordOptions);
/**
 * Status writes as local activities: run by the workflow's own worker inside its workflow task (the
 * database is the workflow worker's too), saving a task-queue round trip per transition — two per
 * cell on the way to ready. Still recorded in history (as markers) and retried.
 */
const localRecords = proxyLocalActivities<Activities>(recordOptions);

/**
 * Host-bound activities (worktree, ports, environment, services, prompt) run on the task queue of
 * the cell's host. Transient failures retry with backoff; permanent ones are non-retryable
 * ApplicationFailures and end the attempt at once.
 */
const hostOptions: ActivityOptions = {
  startToCloseTimeout: '20 minutes',
  heartbeatTimeout: '10 seconds',
  // The promise settles only once the activity has really stopped, so a service spawned by a
  // cancelled attempt always has its compensation registered before rollback runs.
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { ...retry, maximumAttempts: 5 },
};

/** The longest settle window (a template's `settleMs`) whose end is confirmed by a local activity. */
const LOCAL_SETTLE_MS = 1_000;

/**
 * The short host steps on the way to ready, when the cell's activities come to this workflow's own
 * queue (no host, or a host that runs alone, `hive up`, serving the shared queue): local activities,
 * run inside the workflow task that reached them (Patch.localSteps). The same activity code,
 * summary, step record, compensation and retries; recorded in history as markers; no task-queue
 * round trip, which is one workflow turn each (issue #23). Only steps that end in moments: the
 * environment without setup, dependencies or databases; a service's start without its own setup;
 * the prompt, the worktree baseline and the rest of a short settle window. Long ones (worktree,
 * readiness, setup) stay ordinary activities, which heartbeat. On another host's queue every step
 * is an ordinary activity there.
 */
const nearOptions: LocalActivityOptions = {
  startToCloseTimeout: '5 minutes',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { ...retry, maximumAttempts: 5 },
};

/**
 * Asking the host's supervisor to watch is short, and retried without limit: a worker restart is
 * normal, and the live phase gives up on it by itself when the host is lost.
 */
const watchOptions: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry,
};

/** Legacy supervision (runs from before Patch.hostSupervision): one activity for as long as the cell lives. */
const supervisionOptions: ActivityOptions = {
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '10 seconds',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry,
};

const summary = (text: string) => ({ summary: text });
const names = (plan: CellPlan) => plan.services.map((s) => s.name).join(', ') || 'no services';

/** The argument of every per-service activity, built in one place. */
export const serviceCall = (cell: ReadyCell, name: string): ServiceCall | undefined => {
  const service = cell.plan.services.find((s) => s.name === name);
  return service && { ...cell, service };
};

/** Every activity of a cell's workflow, bound to the task queue of the cell's host. */
export function cellActivities(hostTaskQueue: string | undefined, ownQueue?: boolean) {
  const host = proxyActivities<Activities>({ ...hostOptions, taskQueue: hostTaskQueue });
  const near = proxyLocalActivities<Activities>(nearOptions);
  // The host's activities come to this workflow's own queue: no host (the shared queue) or a host
  // that runs alone. The patch is asked when a short step is reached, where old runs scheduled it.
  const here = hostTaskQueue === undefined || ownQueue === true;
  const short = (isShort: boolean) => (isShort && here && patched(Patch.localSteps) ? near : host);
  const watcher = proxyActivities<Activities>({ ...supervisionOptions, taskQueue: hostTaskQueue });
  const watch = proxyActivities<Activities>({ ...watchOptions, taskQueue: hostTaskQueue });
  return {
    /** Records a status (and failure: null clears it) and mirrors it in the CellStatus search attribute. */
    async setStatus(
      cellId: string,
      status: CellStatus,
      failure?: Failure | null,
      poolReady?: ReadyCell,
    ): Promise<void> {
      await localRecords.setCellStatus.executeWithOptions(summary(`status → ${status}`), [
        { cellId, status, failure, ...(poolReady && { poolReady }) },
      ]);
      upsertSearchAttributes([{ key: CellStatusKey, value: status }]);
    },
    /** A status another record activity already wrote (placement writes `provisioning`): mirrored only. */
    async statusWritten(status: CellStatus): Promise<void> {
      upsertSearchAttributes([{ key: CellStatusKey, value: status }]);
    },
    validate: (cellId: string, restore?: boolean) =>
      host.validateCell.executeWithOptions(
        summary(
          restore ? 'check the request and plan the restored cell' : 'check the request and plan the cell',
        ),
        [restore ? { cellId, restore } : { cellId }],
      ),
    replan: (previous: CellPlan) =>
      host.replanCell.executeWithOptions(summary('plan again from the current config'), [{ previous }]),
    createWorktree: (plan: CellPlan) =>
      host.createWorktree.executeWithOptions(summary(`git worktree add ${plan.branch}`), [plan]),
    removeWorktree: (plan: CellPlan, options: { discard?: boolean } = {}) =>
      host.removeWorktree.executeWithOptions(
        summary(
          options.discard
            ? `remove worktree ${plan.branch}, discarding its uncommitted work`
            : `save the work in ${plan.branch}, remove its worktree`,
        ),
        [plan, options],
      ),
    recordWorktreeBaseline: (plan: CellPlan, moment: 'handover' | 'retry' = 'handover') =>
      short(moment === 'handover').recordWorktreeBaseline.executeWithOptions(
        summary(
          moment === 'handover'
            ? 'note what the template left in the worktree'
            : 'note what a person changed in the worktree',
        ),
        [plan, moment],
      ),
    allocatePorts: (plan: CellPlan) =>
      host.allocatePorts.executeWithOptions(summary(`allocate ports for ${names(plan)}`), [plan]),
    releasePorts: (plan: CellPlan) =>
      host.releasePorts.executeWithOptions(summary(`release ports of ${plan.cellId}`), [plan]),
    prepareEnvironment: (plan: CellPlan, ports: AllocatedPort[]) =>
      short(
        plan.setup.length === 0 && !plan.dependencies?.length && !plan.databases?.length,
      ).prepareEnvironment.executeWithOptions(summary(`write env, run ${plan.setup.length} setup commands`), [
        { plan, ports },
      ]),
    runTeardown: (plan: CellPlan, ports: AllocatedPort[], env?: CellEnvironment) =>
      host.runTeardown.executeWithOptions(summary(`teardown (${plan.teardown.length} commands)`), [
        { plan, ports, env },
      ]),
    startService: (call: ServiceCall, why = `start service ${call.service.name}`) =>
      short(call.service.setup.length === 0).startService.executeWithOptions(summary(why), [call]),
    awaitService: (call: ServiceCall, condition: 'ready' | 'completed', deferSettle = false) =>
      host.awaitService.executeWithOptions(
        summary(
          `wait for ${call.service.name} to be ${condition}${call.service.readiness ? ` (${call.service.readiness.type} probe)` : ''}`,
        ),
        [deferSettle ? { ...call, condition, deferSettle } : { ...call, condition }],
      ),
    confirmSettled: (cell: ReadyCell, settling: SettlingService[]) =>
      // A window of seconds (a template's own settleMs) stays an ordinary activity: a cancel or
      // command reaches a local one only when it ends (or at the task's heartbeat, seconds later).
      short(
        settling.every(
          (s) => (cell.plan.services.find((p) => p.name === s.service)?.settleMs ?? 0) <= LOCAL_SETTLE_MS,
        ),
      ).confirmSettled.executeWithOptions(
        summary(
          `make sure ${settling.map((s) => s.service).join(', ')} still run${settling.length === 1 ? 's' : ''} at the end of the settle window`,
        ),
        [{ ...cell, settling }],
      ),
    stopService: (call: ServiceCall, why = `stop service ${call.service.name}`) =>
      host.stopService.executeWithOptions(summary(why), [call]),
    assemblePrompt: (cell: ReadyCell) =>
      short(true).assemblePrompt.executeWithOptions(summary('assemble the agent prompt'), [cell]),
    superviseServices: (cell: ReadyCell, ignore: string[], number: number) =>
      watch.superviseServices.executeWithOptions(
        summary(
          `watch services on this host${ignore.length > 0 ? ` (not ${ignore.join(', ')}: stopped)` : ''}`,
        ),
        [{ ...cell, ignore, watch: number }],
      ),
    suspendCell: (cell: ReadyCell, mode: 'freeze' | 'stop', why: string) =>
      host.suspendCell.executeWithOptions(
        summary(
          mode === 'freeze'
            ? `suspend: freeze its processes (${why})`
            : `suspend: stop its services (${why})`,
        ),
        [{ ...cell, mode, why }],
      ),
    wakeCell: (cell: ReadyCell, mode: 'freeze' | 'stop') =>
      host.wakeCell.executeWithOptions(
        summary(mode === 'freeze' ? 'wake: thaw its processes' : 'wake: start its services again'),
        [{ ...cell, mode }],
      ),
    watchServices: (cell: ReadyCell, ignore: string[]) =>
      watcher.watchServices.executeWithOptions(summary('supervise services'), [{ ...cell, ignore }]),
  };
}

export type CellActivities = ReturnType<typeof cellActivities>;

/**
 * Placement, on the shared queue as local activities (records only): choose the cell's host, or say
 * why it waits; and end the `place` step of a cell cancelled while it waited.
 */
export const placementActivities = {
  /** With `provisioning`, a placed cell's status is written with its placement (Patch.placeProvisioning). */
  place: (cellId: string, provisioning: boolean) =>
    localRecords.placeCell.executeWithOptions(
      summary(provisioning ? 'choose a host with room; status → provisioning' : 'choose a host with room'),
      [provisioning ? { cellId, provisioning } : { cellId }],
    ),
  withdraw: (cellId: string) =>
    localRecords.withdrawPlacement.executeWithOptions(summary('cancelled while queued'), [{ cellId }]),
};

/**
 * The activities of a notification's child workflow: record the event, POST it (retried with
 * exponential backoff from the worker's HIVE_NOTIFY_RETRY_MS for the policy's window; a refusal is
 * not retried), and record attempts made from workflow code (signals) or that delivery was given up.
 */
export function notificationActivities() {
  return {
    record: (request: NotificationRequest) =>
      records.recordNotification.executeWithOptions(summary(`record the ${request.event} event`), [request]),
    deliverWebhook: (request: NotificationRequest, recorded: RecordedNotification) =>
      proxyActivities<Activities>({
        startToCloseTimeout: '30 seconds',
        scheduleToCloseTimeout: recorded.windowMs,
        retry: {
          initialInterval: recorded.initialIntervalMs,
          backoffCoefficient: 2,
          maximumInterval: recorded.maxIntervalMs,
          nonRetryableErrorTypes: [ErrorType.NotificationRejected],
        },
      }).deliverWebhook.executeWithOptions(summary(`POST the ${request.event} event to ${recorded.target}`), [
        { id: request.id },
      ]),
    recordDelivery: (update: { id: string; attempt?: number; error?: string; gaveUp?: boolean }) =>
      records.recordDelivery.executeWithOptions(
        summary(update.gaveUp ? 'give up delivering the event' : `record delivery attempt ${update.attempt}`),
        [update],
      ),
  };
}
