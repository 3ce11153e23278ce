import {
  allHandlersFinished,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import { Step, serviceStep } from '../cells/catalog.js';
import type { ServiceEvent } from '../cells/plan.js';
import type { Failure } from '../cells/schema.js';
import { isPoolCell } from '../pools/workflows/handover.js';
import { type CellActivities, serviceCall } from './activities.js';
import { cleanUp } from './cleanup.js';
import { hostLostFailure, waitForHost } from './hostLoss.js';
import { Patch } from './patches.js';
import { type Compensation, undoAll } from './saga.js';
import type { Control, LiveState, ProvisionCellInput, ProvisionCellResult, ServiceAction } from './state.js';
import { sleepUntilWoken, startWanted, suspend, wake } from './suspend.js';

/** History bound: past this many events the workflow continues as new with its state. */
const MAX_HISTORY_EVENTS = 2_000;

/**
 * After ready, until archived: obey service commands, supervise services and recover them by their
 * restart policy, archive on request, and keep the history bounded by continuing as new.
 */
export async function live(
  input: ProvisionCellInput,
  act: CellActivities,
  control: Control,
  state: LiveState,
): Promise<ProvisionCellResult> {
  const { cellId } = input;
  control.state = state;
  for (;;) {
    if (state.suspended && !control.hostLost) await sleepUntilWoken(act, state, control, cellId);
    for (let command = control.commands.shift(); command; command = control.commands.shift()) {
      await obey(act, state, command.service, command.action);
    }
    if (control.archive) return archive(act, control, state, cellId);
    if (control.hostLost) {
      const failure = hostLostFailure(Step.services, control.hostLost);
      // Rolled back as its request asked, its work saved as an archive saves it, once the host is back.
      if (input.onFailure === 'rollback') return archive(act, control, state, cellId, failure);
      if ((await waitForHost(act, control, cellId, failure)) === 'back') await resume(act, state, cellId);
      continue;
    }
    // Bounded history: hand the state to a new run, but only with nothing pending, so no command is
    // dropped on the way (one arriving meanwhile makes the server refuse this and we loop again).
    const limit = input.historyLimit ?? MAX_HISTORY_EVENTS;
    if (workflowInfo().historyLength > limit || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      if (control.commands.length === 0 && !control.archive) {
        return continueAsNew<(i: ProvisionCellInput) => Promise<ProvisionCellResult>>({
          ...input,
          // The first plan was for provisioning; the live cell carries its own.
          plan: undefined,
          resume: state,
        });
      }
      continue;
    }
    // A pool's cell waiting for a request to claim it never sleeps (a claim must find it awake).
    const sleeps = !(isPoolCell(input) && !state.handedOver);
    const event = patched(Patch.hostSupervision)
      ? await superviseOnHost(act, state, control, sleeps)
      : await superviseUntilInterrupted(act, state, control);
    if (event?.kind === 'idle') await suspend(act, state, control, cellId, event.detail);
    else if (event) await untilInterrupted(control, () => recover(act, state, cellId, event));
  }
}

/**
 * Runs `work` (a restart by its policy) until it ends, or until archive or a lost host
 * needs the cell: then it is cancelled (the running activity with it), so an archive is acted on
 * within about a second, not after a readiness wait that may never succeed. Archive stops whatever
 * the interrupted work had started.
 */
async function untilInterrupted(control: Control, work: () => Promise<void>): Promise<void> {
  const scope = new CancellationScope();
  let settled = false;
  const running = scope
    .run(work)
    .catch((error: unknown) => {
      if (!isCancellation(error)) throw error;
    })
    .finally(() => {
      settled = true;
    });
  await condition(() => settled || control.archive || control.hostLost !== undefined);
  if (!settled) scope.cancel();
  // A lost host's worker cannot confirm the cancellation: the cell goes on to `lost` at once.
  if (control.hostLost && !settled) {
    running.catch((error: unknown) => log.warn('interrupted work ended with an error', { error }));
    return;
  }
  await running;
}

/**
 * Asks the cell's host to watch its services (all but those stopped), then waits, costing Temporal
 * nothing, until the host reports one, or a person wants something, or a restarted worker of the host
 * needs the watch asked again. Each watch has a number: a report of an older one is stale (a command
 * has since changed the services) and dropped.
 */
async function superviseOnHost(
  act: CellActivities,
  state: LiveState,
  control: Control,
  sleeps: boolean,
): Promise<ServiceEvent | null> {
  const watch = (state.watch ?? 0) + 1;
  state.watch = watch;
  control.rewatch = false;
  control.serviceEvents = control.serviceEvents.filter((e) => e.watch === watch);
  await untilInterrupted(control, async () => {
    const { cell } = state;
    const watched = sleeps ? cell : { ...cell, plan: { ...cell.plan, idle: undefined } };
    await act.superviseServices(watched, [...state.stopped], watch);
  });
  const reported = () => control.serviceEvents.find((e) => e.watch === watch);
  await condition(
    () =>
      reported() !== undefined ||
      control.rewatch ||
      control.archive ||
      control.commands.length > 0 ||
      control.hostLost !== undefined,
  );
  const found = reported();
  control.serviceEvents = [];
  if (!found) return null;
  const { watch: _, ...event } = found;
  return event;
}

/** Runs the supervision activity (legacy, see Patch.hostSupervision) until it reports a service, or a person wants something. */
async function superviseUntilInterrupted(
  act: CellActivities,
  state: LiveState,
  control: Control,
): Promise<ServiceEvent | null> {
  const scope = new CancellationScope();
  let settled = false;
  let event: ServiceEvent | null = null;
  const watching = scope
    .run(() => act.watchServices(state.cell, [...state.stopped]))
    .then(
      (reported) => {
        event = reported;
      },
      (error: unknown) => {
        if (!isCancellation(error)) throw error;
      },
    )
    .finally(() => {
      settled = true;
    });
  await condition(
    () => settled || control.archive || control.commands.length > 0 || control.hostLost !== undefined,
  );
  if (!settled) scope.cancel();
  // A lost host's worker cannot confirm the cancellation (it settles at the heartbeat timeout):
  // the cell shows `lost` now rather than then.
  if (control.hostLost && !settled) {
    watching.catch((error: unknown) => log.warn('supervision ended with an error', { error }));
    return null;
  }
  await watching;
  return event;
}

/**
 * The host is back: start again each service nobody stopped (one that survived is adopted), and
 * the cell is ready; a service that does not come up leaves it degraded, for supervision to recover.
 */
async function resume(act: CellActivities, state: LiveState, cellId: string) {
  await act.setStatus(cellId, 'degraded', null);
  try {
    // Suspended when its host went: thawed first (the services below start anyway).
    await wake(act, state, { start: false });
    await startWanted(act, state);
    await act.setStatus(cellId, state.stopped.length === 0 ? 'ready' : 'degraded');
  } catch (error) {
    log.warn('a service did not come back with its host', { cellId, error });
  }
}

/** A service died or turned unhealthy: report it, and restart it as its policy says. */
async function recover(act: CellActivities, state: LiveState, cellId: string, event: ServiceEvent) {
  await act.setStatus(cellId, 'degraded');
  const call = serviceCall(state.cell, event.service);
  if (!call) return;
  const { service } = call;
  const restarts = state.restarts[service.name] ?? 0;
  const wanted =
    service.restart === 'always' ||
    (service.restart === 'on-failure' && (event.kind === 'unhealthy' || event.exitCode !== 0));
  if (!wanted || restarts >= service.maxRestarts) {
    // Left as it is for a person: supervision stops watching it until it is started again.
    log.warn('service left stopped by its restart policy', { cellId, service: service.name, restarts });
    state.stopped.push(service.name);
    return;
  }
  await sleep(service.restartBackoffMs * 2 ** restarts);
  state.restarts[service.name] = restarts + 1;
  try {
    // An unhealthy service still runs: replace it, do not adopt it.
    await act.stopService(call, `stop ${service.name} before restarting it`);
    await act.startService(call, `restart service ${service.name} (${event.detail})`);
    await act.awaitService(call, 'ready');
    if (state.stopped.length === 0) await act.setStatus(cellId, 'ready');
  } catch (error) {
    if (isCancellation(error)) throw error; // archive (or a lost host) interrupted it
    // Still not ready: supervision reports it again, and the next attempt counts toward maxRestarts.
    log.warn('restart did not make the service ready', { cellId, service: service.name, error });
  }
}

/** A person's command for one service (the API checked the name; an unknown one is ignored). */
async function obey(act: CellActivities, state: LiveState, name: string, action: ServiceAction) {
  const call = serviceCall(state.cell, name);
  if (!call) return log.warn('service command for an unknown service ignored', { service: name, action });
  if (action === 'stop' || action === 'restart') {
    await act.stopService(call);
    if (!state.stopped.includes(name)) state.stopped.push(name);
  }
  if (action === 'start' || action === 'restart') {
    state.stopped = state.stopped.filter((s) => s !== name);
    state.restarts[name] = 0;
    await act.startService(call);
    await act.awaitService(call, 'ready');
  }
}

/**
 * Archive: stop services, teardown, save the worktree's work (unless discarded) and remove it (a
 * branch with commits stays), release ports. With a failure (its host lost, and the request said
 * rollback), the same clean-up ends the cell as rolled back.
 */
async function archive(
  act: CellActivities,
  control: Control,
  state: LiveState,
  cellId: string,
  failure?: Failure,
): Promise<ProvisionCellResult> {
  const { cell } = state;
  const { plan } = cell;
  // A frozen cell's processes take no signal: thawed first (a stopped one's services stay stopped).
  await wake(act, state, { start: false });
  const steps: Compensation[] = [
    ...[...plan.services].reverse().map((service) => ({
      name: serviceStep(service.name),
      undo: () => act.stopService({ ...cell, service }),
    })),
    { name: Step.teardown, undo: () => act.runTeardown(plan, cell.ports, cell.env) },
    { name: Step.worktree, undo: () => act.removeWorktree(plan, { discard: control.discard }) },
    { name: Step.ports, undo: () => act.releasePorts(plan) },
  ];
  const [during, end] = failure
    ? (['rolling_back', 'rolled_back'] as const)
    : (['archiving', 'archived'] as const);
  await cleanUp(act, control, { cellId, during, end, failure, undo: () => undoAll(steps) });
  return failure ? { cellId, status: end, failure } : { cellId, status: end };
}
