import {
  allHandlersFinished,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  log,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import { Step, serviceStep } from '../cells/catalog.js';
import type { ServiceEvent } from '../cells/plan.js';
import { type CellActivities, serviceCall } from './activities.js';
import { cleanUp } from './cleanup.js';
import { type Compensation, undoAll } from './saga.js';
import type { Control, LiveState, ProvisionCellInput, ProvisionCellResult, ServiceAction } from './state.js';

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
    for (let command = control.commands.shift(); command; command = control.commands.shift()) {
      await obey(act, state, command.service, command.action);
    }
    if (control.archive) return archive(act, control, state, cellId);
    // Bounded history: hand the state to a new run, but only with nothing pending, so no command is
    // dropped on the way (one arriving meanwhile makes the server refuse this and we loop again).
    const limit = input.historyLimit ?? MAX_HISTORY_EVENTS;
    if (workflowInfo().historyLength > limit || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      if (control.commands.length === 0 && !control.archive) {
        return continueAsNew<(i: ProvisionCellInput) => Promise<ProvisionCellResult>>({
          ...input,
          resume: state,
        });
      }
      continue;
    }
    const event = await superviseUntilInterrupted(act, state, control);
    if (event) await recover(act, state, cellId, event);
  }
}

/** Runs the supervision activity until it reports a service, or a person wants something. */
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
  await condition(() => settled || control.archive || control.commands.length > 0);
  if (!settled) scope.cancel();
  await watching;
  return event;
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
 * branch with commits stays), release ports.
 */
async function archive(
  act: CellActivities,
  control: Control,
  state: LiveState,
  cellId: string,
): Promise<ProvisionCellResult> {
  const { cell } = state;
  const { plan } = cell;
  const steps: Compensation[] = [
    ...[...plan.services].reverse().map((service) => ({
      name: serviceStep(service.name),
      undo: () => act.stopService({ ...cell, service }),
    })),
    { name: Step.teardown, undo: () => act.runTeardown(plan, cell.ports, cell.env) },
    { name: Step.worktree, undo: () => act.removeWorktree(plan, { discard: control.discard }) },
    { name: Step.ports, undo: () => act.releasePorts(plan) },
  ];
  await cleanUp(act, control, { cellId, during: 'archiving', end: 'archived', undo: () => undoAll(steps) });
  return { cellId, status: 'archived' };
}
